"""Logs an operator can ship anywhere: no personal data, no secrets, no storms.

Every record, from our loggers and from libraries (uvicorn's access log, httpx's
request log, whose Telegram URLs carry the bot token), passes a filter that
redacts phone numbers, long numeric ids (Telegram chat ids), e-mail addresses,
bot tokens and the secrets this process was configured with. The filter sits on
every handler, so it holds whichever logger a record comes from. Message texts are
never logged by this application; the filter is the second fence, not the first.

``BARAZA_LOG_FORMAT=json`` writes one JSON object per line; the default is text.
``LogThrottle`` keeps a failure that repeats on every request (the database away)
to one line a minute with a count, instead of a line per request.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import IO, Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_PATTERNS = (
    # A Telegram bot token (also inside /bot<token>/method URLs).
    (re.compile(r"(?<!\d)\d{5,12}:[A-Za-z0-9_-]{30,}"), "<token>"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "<email>"),
    # Phone numbers written with a +, and any run of 6+ digits (Telegram chat and user
    # ids, numbers without a +). Ports, counts and row ids are shorter.
    (re.compile(r"\+\d[\d ()-]{5,}\d"), "<number>"),
    (re.compile(r"(?<![\d.])\d{6,}(?![\d.])"), "<number>"),
)

# Libraries that log whole requests (message texts, phone numbers in form bodies) below
# WARNING: those records are dropped whatever the level asked for.
PAYLOAD_LOGGERS = ("telegram", "twilio.http_client", "httpcore", "hpack")

_secrets: set[str] = set()


def register_secrets(values: Iterable[str | None]) -> None:
    """Values to blank wherever they appear (tokens, webhook secrets), whatever their shape."""
    _secrets.update(value for value in values if value and len(value) >= 6)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "<secret>")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders the record's message (and traceback) once, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        if record.levelno < logging.WARNING and record.name.startswith(PAYLOAD_LOGGERS):
            return False
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # uvicorn's own AccessFormatter unpacks the arguments: redact them in place.
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        else:
            try:
                message = record.getMessage()
            except Exception:  # a bad format string in a library: keep what we can
                message = str(record.msg)
            record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None  # the redacted text above stands for it
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._redacted = True
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def guard_all_handlers() -> None:
    """Put the redacting filter on every handler of every logger that has one, so that
    records kept by a library's own handler (propagate=False) are redacted too."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())


def configure_logging(
    log_format: str = "text", level: int = logging.INFO, stream: IO[str] | None = None
) -> logging.Handler:
    """One handler on the root logger, text or JSON, redacting; returns it."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root.addHandler(handler)
    root.setLevel(level)
    guard_all_handlers()
    return handler


class LogThrottle:
    """At most one record per key per ``interval`` seconds; the next one says how many
    were held back meanwhile."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def error(
        self,
        logger: logging.Logger,
        key: str,
        message: str,
        *args: object,
        exc_info: bool = False,
    ) -> bool:
        """Log ``message`` at ERROR unless ``key`` was logged within the interval;
        True if it was written."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        held = self._held.pop(key, 0)
        suffix = f" ({held} more like it in the last {self.interval:.0f} s)" if held else ""
        logger.error(message + suffix, *args, exc_info=exc_info)
        return True
