"""Personal data kept out of logs, tracebacks and error text: ID numbers, phone numbers and status tokens.

Modules log case numbers and field names, never personal data; this is the net under them. A driver's error can
echo a row's values (PostgreSQL's `DETAIL: Key (id_number)=(...)`), a traceback can carry a bad input, and a URL
in an access log carries a status token. `scrub` replaces each with a tag; `ScrubFilter` does it to every record a
log handler writes, its traceback included.
"""

from __future__ import annotations

import logging
import re
from types import TracebackType

# Digits as people type them: ASCII and full-width (a refused input may still be in its raw form).
_D = "[0-9\uff10-\uff19]"
_NOT_DIGIT_BEFORE = r"(?<![0-9\uff10-\uff19])"
_NOT_DIGIT_AFTER = r"(?![0-9\uff10-\uff19])"
# A resident ID number: 17 digits and a check character (digit or X), or the old 15 digits; spaces or hyphens
# between groups as they are often written (6-8-4 or 6-4-4-4 etc.).
_SEP = r"[ \-\u3000]?"
ID_NUMBER = re.compile(
    _NOT_DIGIT_BEFORE
    + rf"(?:{_D}{{6}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}{_SEP}{_D}{{3}}[0-9\uff10-\uff19XxＸｘ]"
    + rf"|{_D}{{15}})"
    + r"(?![0-9\uff10-\uff19XxＸｘ])"
)
# A mobile number (11 digits from 13x to 19x, perhaps +86 / 0086 and spaced 3-4-4), or a landline with its
# area code (0936-8212345, 09368212345, (0936)8212345).
PHONE = re.compile(
    _NOT_DIGIT_BEFORE
    + r"(?:(?:\+86|0086)[ \-]?)?"
    + rf"(?:[1１][3-9３-９]{_D}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}"
    + rf"|[(（]?[0０]{_D}{{2,3}}[)）]?[ \-]?{_D}{{7,8}})"
    + _NOT_DIGIT_AFTER
)
# A status token: 22 URL-safe base64 characters (128 random bits) with a letter among them (a case number has
# none), not part of a longer run.
_TOKEN_CHAR = "A-Za-z0-9_\\-"
TOKEN = re.compile(
    rf"(?<![{_TOKEN_CHAR}])(?=[{_TOKEN_CHAR}]*[A-Za-z])[{_TOKEN_CHAR}]{{22}}(?![{_TOKEN_CHAR}])"
)

ID_TAG, PHONE_TAG, TOKEN_TAG = "<身份证号>", "<电话>", "<令牌>"


def scrub(text: str) -> str:
    """`text` with every ID number, phone number and status token replaced by a tag."""
    if not text:
        return text
    text = ID_NUMBER.sub(ID_TAG, text)
    text = PHONE.sub(PHONE_TAG, text)
    return TOKEN.sub(TOKEN_TAG, text)


def format_exception(
    exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
) -> str:
    """A traceback as text, scrubbed."""
    import traceback

    return scrub("".join(traceback.format_exception(exc_type, exc, tb)))


class ScrubFilter(logging.Filter):
    """A handler filter: the record's message, traceback and stack are rendered and scrubbed before any
    formatter sees them (so no handler can write them raw). Installed on every handler the desk sets up."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_desk_scrubbed", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: the template and its arguments, side by side
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, exc, tb = record.exc_info
            record.exc_text = format_exception(exc_type, exc, tb).rstrip("\n")
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        record._desk_scrubbed = True
        return True


def scrub_handlers(*loggers: logging.Logger) -> None:
    """Add a `ScrubFilter` to every handler of `loggers` (default: the root logger) that lacks one."""
    for log in loggers or (logging.getLogger(),):
        for handler in log.handlers:
            if not any(isinstance(f, ScrubFilter) for f in handler.filters):
                handler.addFilter(ScrubFilter())
