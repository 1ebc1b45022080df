"""Settings from environment variables, with safe defaults for development.

Production (APP_ENV=production) refuses to start without a real SECRET_KEY and a PostgreSQL URL.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = Path(os.environ.get("INSTANCE_DIR", ROOT / "instance"))


ENVIRONMENTS = ("development", "test", "production")


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


def _dev_secret(name: str) -> str:
    """A random secret kept in instance/ so that sessions survive restarts in development."""
    INSTANCE.mkdir(parents=True, exist_ok=True)
    path = INSTANCE / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Settings:
    env: str
    database_url: str
    secret_key: str
    resident_key_secret: str
    index_dir: str
    session_idle_minutes: int
    session_max_hours: int
    test_identification: bool
    rate_limit_enabled: bool
    oidc_issuer: str | None
    trusted_proxies: int
    index_sync_interval_ms: int
    page_cache_mb: float
    compress_responses: bool
    ptv_base_url: str = "https://api.palvelutietovaranto.suomi.fi"
    map_tile_url: str | None = None
    map_attribution: str = ""

    def to_flask(self) -> dict[str, Any]:
        production = self.env == "production"
        return {
            "APP_ENV": self.env,
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": self.database_url,
            "RESIDENT_KEY_SECRET": self.resident_key_secret,
            "INDEX_DIR": self.index_dir,
            "PERMANENT_SESSION_LIFETIME": self.session_idle_minutes * 60,
            "SESSION_IDLE_MINUTES": self.session_idle_minutes,
            "SESSION_MAX_HOURS": self.session_max_hours,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": production,
            "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
            "SESSION_REFRESH_EACH_REQUEST": True,
            "WTF_CSRF_TIME_LIMIT": None,  # the session's own idle limit bounds the token
            "TEST_IDENTIFICATION": self.test_identification,
            "RATE_LIMIT_ENABLED": self.rate_limit_enabled,
            "OIDC_ISSUER": self.oidc_issuer,
            "TRUSTED_PROXIES": self.trusted_proxies,
            "MAP_TILE_URL": self.map_tile_url,
            "MAP_ATTRIBUTION": self.map_attribution,
            "INDEX_SYNC_INTERVAL_MS": self.index_sync_interval_ms,
            "PAGE_CACHE_MB": self.page_cache_mb,
            "COMPRESS_RESPONSES": self.compress_responses,
            "PTV_BASE_URL": self.ptv_base_url,
            "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
            "BABEL_DEFAULT_LOCALE": "fi",
            "BABEL_DOMAIN": "messages;choice;staff;search",
            "BABEL_TRANSLATION_DIRECTORIES": ";".join([str(ROOT / "translations")] * 4),
        }


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    env_vars = dict(os.environ)
    env_vars.update({k: str(v) for k, v in (overrides or {}).items()})
    env = env_vars.get("APP_ENV", "development")
    if env not in ENVIRONMENTS:
        # Fail closed: a typo such as "prod" must not quietly run with development settings.
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}.")
    production = env == "production"
    if production:
        secret = env_vars.get("SECRET_KEY", "")
        if len(secret) < 32:
            raise ConfigError("APP_ENV=production needs SECRET_KEY: a random value of at least 32 characters.")
        url = env_vars.get("DATABASE_URL", "")
        if not url.startswith(("postgresql://", "postgresql+psycopg://")):
            raise ConfigError("APP_ENV=production needs DATABASE_URL=postgresql+psycopg://user@host/db (PostgreSQL).")
        resident_secret = env_vars.get("RESIDENT_KEY_SECRET", "")
        if len(resident_secret) < 32:
            raise ConfigError("APP_ENV=production needs RESIDENT_KEY_SECRET: at least 32 random characters.")
    else:
        secret = env_vars.get("SECRET_KEY") or _dev_secret("secret_key")
        resident_secret = env_vars.get("RESIDENT_KEY_SECRET") or _dev_secret("resident_key_secret")
        url = env_vars.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'valinta.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return Settings(
        env=env,
        database_url=url,
        secret_key=secret,
        resident_key_secret=resident_secret,
        index_dir=env_vars.get("INDEX_DIR") or str(INSTANCE / "index"),
        session_idle_minutes=int(env_vars.get("SESSION_IDLE_MINUTES", "20")),
        session_max_hours=int(env_vars.get("SESSION_MAX_HOURS", "10")),
        test_identification=not production and _bool("TEST_IDENTIFICATION", True),
        rate_limit_enabled=_bool("RATE_LIMIT_ENABLED", True),
        oidc_issuer=env_vars.get("OIDC_ISSUER") or None,
        trusted_proxies=int(env_vars.get("TRUSTED_PROXIES", "0")),
        # A search checks the index change log at most this often per process (docs/deployment.md).
        index_sync_interval_ms=int(env_vars.get("INDEX_SYNC_INTERVAL_MS", "500")),
        page_cache_mb=float(env_vars.get("PAGE_CACHE_MB", "64")),
        ptv_base_url=env_vars.get("PTV_BASE_URL") or "https://api.palvelutietovaranto.suomi.fi",
        compress_responses=_bool("COMPRESS_RESPONSES", True),
        map_tile_url=check_tile_url(env_vars.get("MAP_TILE_URL") or None, env_vars.get("MAP_ATTRIBUTION", "")),
        map_attribution=env_vars.get("MAP_ATTRIBUTION", "").strip(),
    )


def tile_origin(url: str) -> str:
    """scheme://host[:port] of a tile URL: the one origin the CSP lets images come from."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def check_tile_url(url: str | None, attribution: str) -> str | None:
    """The map's tile URL template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; None = no map.

    Fails closed: one fixed host (no {s} subdomains, so the CSP names exactly one), https (http only for
    a local server), {z}, {x} and {y} in it, and an attribution, which map tiles' licences require."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ConfigError("MAP_TILE_URL must start with https:// (http:// only for 127.0.0.1 or localhost).")
    if not parts.hostname or "{" in parts.netloc:
        raise ConfigError("MAP_TILE_URL must name one host, without {s} subdomains.")
    if not all(p in url for p in ("{z}", "{x}", "{y}")):
        raise ConfigError("MAP_TILE_URL must contain {z}, {x} and {y}.")
    if not attribution.strip():
        raise ConfigError("MAP_TILE_URL needs MAP_ATTRIBUTION, the credit the tiles' licence requires.")
    return url
