"""Structured logging: structlog everywhere, one JSON object per line, secrets redacted.

Every log line carries the correlation id of the request or job it belongs to: the request middleware binds
it into structlog's context variables, and `bind_request_id()` does the same for jobs that carry one.
Standard-library loggers (uvicorn, SQLAlchemy, libraries) go through the same processors, so their lines
are JSON too and are redacted the same way.

Redaction is a processor, not a convention: whatever a caller passes (headers, settings, exception text),
values under sensitive keys and anything that looks like a credential are replaced before rendering.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

# Personal API tokens carry this prefix so that they are recognisable anywhere (logs, secret scanners).
API_TOKEN_PREFIX = "adt_"  # noqa: S105 - a public prefix, not a secret

# Keys whose values are never logged, matched case-insensitively anywhere in the key name
# ("X-Api-Key", "github_token", "database_password", "set-cookie"...).
_SENSITIVE_KEY = re.compile(
    r"authorization|cookie|passw|secret|token|api[-_]?key|private[-_]?key|credential|session|signature|dsn",
    re.IGNORECASE,
)

# Credential-looking substrings inside otherwise harmless values (messages, URLs, exception text).
_SENSITIVE_VALUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 " + REDACTED),
    (re.compile(re.escape(API_TOKEN_PREFIX) + r"[A-Za-z0-9_-]{8,}"), REDACTED),
    # GitHub tokens (classic and fine-grained) that may show up in provider errors.
    (re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), REDACTED),
    # user:password@ in URLs (database and Redis URLs, git remotes).
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
)

_request_id: ContextVar[str | None] = ContextVar("autodevops_request_id", default=None)


def get_request_id() -> str | None:
    """The correlation id of the current request or job, if any (jobs carry it to link their logs)."""
    return _request_id.get()


def bind_request_id(request_id: str | None) -> None:
    """Make `request_id` the correlation id of the current context: every log line from here on carries it."""
    _request_id.set(request_id)
    if request_id is None:
        structlog.contextvars.unbind_contextvars("request_id")
    else:
        structlog.contextvars.bind_contextvars(request_id=request_id)


def redact_value(value: str) -> str:
    """Replace credential-looking substrings of `value`."""
    for pattern, replacement in _SENSITIVE_VALUES:
        value = pattern.sub(replacement, value)
    return value


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 8:  # logged structures are small; a deep one is not worth walking
        return value
    if isinstance(value, str):
        return redact_value(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and _SENSITIVE_KEY.search(key) else _redact(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        # Header lists arrive as (name, value) pairs: judge the value by its name.
        if len(value) == 2 and isinstance(value[0], str | bytes):
            name = value[0].decode("latin-1") if isinstance(value[0], bytes) else value[0]
            if _SENSITIVE_KEY.search(name):
                return (value[0], REDACTED)
        return [_redact(item, depth + 1) for item in value]
    if isinstance(value, bytes):
        return redact_value(value.decode("utf-8", "replace"))
    return value


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: drop values under sensitive keys and mask credentials inside values."""
    for key in list(event_dict):
        if key == "event":
            event_dict[key] = _redact(event_dict[key])
        elif _SENSITIVE_KEY.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Tracebacks become text before redaction so exception messages are masked too.
        structlog.processors.format_exc_info,
        redact_secrets,
    ]


def configure_logging(*, level: str = "INFO", json: bool = True, stream: Any = None) -> None:
    """Route structlog and the standard library through one pipeline that renders JSON (or console text).

    Idempotent: the app factory and the CLI commands call it at start-up.
    """
    renderer: Processor = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    shared = _shared_processors()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_autodevops", False):
            root.removeHandler(existing)
    handler._autodevops = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn may have installed its own handlers; let its records flow to ours instead, once.
    for name in ("uvicorn", "uvicorn.error"):
        lib_logger = logging.getLogger(name)
        lib_logger.handlers.clear()
        lib_logger.propagate = True
    # The request middleware writes the access line (with correlation id and route template) instead.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A structlog logger; `name` is usually `__name__`."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
