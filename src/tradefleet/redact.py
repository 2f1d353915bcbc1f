"""Credentials inside URLs never leave the process: ``redact_url`` hides a URL's user
and password (``http://user:pw@host`` → ``http://***@host``) and the values of
secret-looking query parameters (``?token=…`` → ``?token=***``); ``redact_text`` does it
to every URL in a message (an exchange error repeats the URL it called), hides signed
tokens (``Bearer …`` and anything shaped like a JWT: ccxt's debug log prints each
request's headers, and a Coinbase JWT lets anyone repeat that request for two minutes),
and ``RedactingFilter`` does it to every log line, tracebacks included.

One function for all of it, so whatever shows a URL (the health check, an error, a log
line, a CLI message) hides the same things.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_TRAILING = ").,;:!?]"
_TOKEN = re.compile(
    r"(?<=Bearer )[A-Za-z0-9._~+/=-]{16,}|\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
)
_SECRET_NAME = re.compile(
    r"key|token|secret|pass|pwd|auth|sig|credential|session|cookie|jwt", re.IGNORECASE
)


def _query(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        name, equals, _value = pair.partition("=")
        pairs.append(f"{name}={HIDDEN}" if equals and _SECRET_NAME.search(name) else pair)
    return "&".join(pairs)


def redact_url(url: str) -> str:
    """The URL with its credentials (user and password) and secret query values hidden."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = HIDDEN + "@" + netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, netloc, parts.path, _query(parts.query), parts.fragment))


def _redact_found(found: re.Match[str]) -> str:
    """A URL found in prose, without the punctuation that ends its sentence ("(GET
    http://…);" keeps its ");")."""
    url = found.group()
    trimmed = url.rstrip(_TRAILING)
    return redact_url(trimmed) + url[len(trimmed) :]


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted and every signed token hidden."""
    if "Bearer " in text or "eyJ" in text:
        text = _TOKEN.sub(HIDDEN, text)
    if "://" not in text:
        return text
    return _URL.sub(_redact_found, text)


def said(error: BaseException) -> str:
    """What an error says, as one line a user may read: its class and message, at most 300
    characters, secrets hidden (an exchange's error repeats the URL it called)."""
    text = redact_text(f"{type(error).__name__}: {error}")
    return text.splitlines()[0][:300] if text else type(error).__name__


class RedactingFilter(logging.Filter):
    """Redacts a record's message and traceback before any handler formats it."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def redact_logs() -> None:
    """Put ``RedactingFilter`` on every handler configured now (root, uvicorn's, ...)."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
