"""Municipalities and postcodes (Statistics Finland codes, Posti postcodes, GeoNames coordinates)."""
from __future__ import annotations

from sqlalchemy import Float, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db import Base


class Municipality(Base):
    __tablename__ = "municipality"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name_fi: Mapped[str] = mapped_column(String(80))
    name_sv: Mapped[str] = mapped_column(String(80))
    region_code: Mapped[str] = mapped_column(String(8))
    region_fi: Mapped[str] = mapped_column(String(80))
    region_sv: Mapped[str] = mapped_column(String(80))
    # Posti: 1 Finnish-speaking, 2 bilingual, 4 Swedish-speaking
    language_ratio_code: Mapped[int] = mapped_column(SmallInteger)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    @property
    def is_bilingual(self) -> bool:
        return self.language_ratio_code in (2, 4)

    def name(self, lang: str) -> str:
        return self.name_sv if lang == "sv" else self.name_fi


class Postcode(Base):
    __tablename__ = "postcode"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name_fi: Mapped[str] = mapped_column(String(80))
    name_sv: Mapped[str] = mapped_column(String(80))
    type_code: Mapped[int] = mapped_column(SmallInteger)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    def name(self, lang: str) -> str:
        return self.name_sv if lang == "sv" else self.name_fi
