"""Defence in depth: no henkilötunnus reaches any log, whatever logs it (our code, a library, a traceback).

The code never logs one on purpose; this catches the accidents, e.g. an exception whose text carries a
value. It works at record creation, so it applies to every handler (gunicorn's included).
"""
from __future__ import annotations

import logging
import re
from typing import Any

# ddmmyy, century sign (+, -, A-F, U-Y), individual number, check character
HETU_PATTERN = re.compile(r"(?<![0-9A-Za-z])(\d{6})[-+A-FU-Y](\d{3})[0-9A-FHJ-NPR-Y](?![0-9A-Za-z])")
MASK = "[henkilötunnus]"


def redact(text: str) -> str:
    return HETU_PATTERN.sub(MASK, text)


def install() -> None:
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts_hetu", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001  a broken format string: leave it to logging's own handling
            return record
        record.msg, record.args = redact(message), ()
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    redacting_factory.redacts_hetu = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
