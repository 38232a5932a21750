"""Process-wide logging: JSON lines when stderr is not a terminal, readable text when it is.

Every record passes through ``mask_secrets`` first, so a database URL with a password, a bearer
token, a SendGrid key or the values of the installed runtime's secret settings never reach a log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import Any

MASK = "•••"
#: ``scheme://user:password@host`` → the password is hidden, the rest kept for diagnosis.
#: Every quantifier is bounded: a log line can hold a request's whole URL (any length a client sends), and
#: unbounded runs here made masking quadratic in the line's length (a 20,000-character URL took seconds).
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]{0,31}://[^/\s:@]{0,256}:)[^@\s/]{1,256}(?=@)", re.IGNORECASE)
_BEARER = re.compile(r"(?P<head>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_SENDGRID_KEY = re.compile(r"\bSG\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_NAMED = re.compile(
    r"(?P<head>(?:password|passwd|secret|token|api[_-]?key|authorization)[\w-]{0,64}['\"]?\s{0,8}[=:]\s{0,8}['\"]?)"
    r"[^\s'\",&}]+",
    re.IGNORECASE,
)
#: Argument names whose values are hidden whatever they look like.
SECRET_NAMES = re.compile(r"password|passwd|secret|token|api[_-]?key|authorization|cookie", re.IGNORECASE)
#: Loggers that report routine work at info: APScheduler on every tick ("Running job…", "Job … executed
#: successfully"; the outbox relay ticks every 2 s) and Alembic each time it is imported ("setup plugin…").
#: They are shown at --verbose (debug) only; their warnings (a missed run) and errors (a job that raised) always.
ROUTINE_LOGGERS = ("apscheduler.executors", "apscheduler.scheduler", "alembic.runtime.plugins")
#: Record attributes that are not extra fields (uvicorn adds ``color_message``, the message with ANSI colours).
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


def _runtime_secrets() -> list[str]:
    """The secret values of the installed runtime's settings (none before one is installed)."""
    from services.core import runtime

    try:
        settings = runtime.current().settings
    except RuntimeError:
        return []
    values = [settings.secret_key, settings.sendgrid_api_key, settings.sendgrid_webhook_key,
              settings.alert_webhook_url]
    return [value.get_secret_value() for value in values if value is not None and len(value.get_secret_value()) >= 6]


def mask_secrets(text: str) -> str:
    """``text`` with passwords in URLs, bearer tokens, API keys and ``name=secret`` pairs hidden."""
    for value in _runtime_secrets():
        text = text.replace(value, MASK)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    text = _BEARER.sub(lambda m: m.group("head") + MASK, text)
    text = _SENDGRID_KEY.sub(MASK, text)
    return _NAMED.sub(lambda m: m.group("head") + MASK, text)


def mask_value(value: Any, name: str = "") -> Any:
    """A copy of a JSON-like value (message arguments) with secret-named fields and secret-looking text hidden."""
    if name and SECRET_NAMES.search(name):
        return MASK
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: mask_value(item, str(key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the record's extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[key] = mask_value(value, key)
        if record.exc_info:
            line["exception"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


class MaskingTextFormatter(logging.Formatter):
    """The usual one-line text format, for a person at a terminal, with secrets hidden too."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


def formatter(json_lines: bool | None = None) -> logging.Formatter:
    """JSON unless stderr is a terminal (``json_lines`` forces one or the other)."""
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    return JsonFormatter() if json_lines else MaskingTextFormatter()


def configure(level: int = logging.INFO, json_lines: bool | None = None) -> None:
    """Set up the root logger at ``level``; handlers someone else installed (dramatiq's CLI) keep their stream.

    ``ROUTINE_LOGGERS`` log at warning and above unless ``level`` is debug.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    chosen = formatter(json_lines)
    for handler in root.handlers:
        handler.setFormatter(chosen)
    root.setLevel(level)
    for name in ROUTINE_LOGGERS:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))
