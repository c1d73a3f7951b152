"""One way to read input: every form field, API body and query string goes through these readers.

- text is NFC-normalised; NUL and other control characters are refused (tab and newline only in long text);
- integers are read from ASCII digits only (not `²`, `١٢٣` or full-width digits) and bounded to 32 bits;
- date-times need a zone and fall within 2000-2100;
- file labels lose bidirectional override and isolate characters.

Each reader raises `InputError` (a ValidationError) with a translated message.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug import routing

from portal.core.exceptions import ValidationError

MAX_INT = 2_147_483_647
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))
_DIGITS = re.compile(r"[0-9]+\Z", re.ASCII)
_SIGNED = re.compile(r"-?[0-9]+\Z", re.ASCII)
_LONG_TEXT_ALLOWED = {"\t", "\n"}
_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                     r"([Zz]|[+-][0-9]{2}:[0-9]{2})?\Z", re.ASCII)

CONTROL_MESSAGE = _l("This text contains control characters that cannot be stored.")
INTEGER_MESSAGE = _l("Give a whole number from %(low)d to %(high)d in digits 0 to 9.")
MOMENT_MESSAGE = _l("Give a date and time in ISO 8601 with its offset.")
RANGE_MESSAGE = _l("Give a date between 2000 and 2100.")


class InputError(ValidationError):
    """A value that cannot be read; `field` names it when the caller said which."""


def _refuse(field, message, **values):
    return InputError(field, message % values if values else message)


def text(value, *, field: str | None = None, long: bool = False, max_length: int | None = None) -> str:
    """NFC-normalised text without control characters (tab, newline and CR→newline allowed in long text)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _refuse(field, _l("This field must be text."))
    value = unicodedata.normalize("NFC", value)
    if long:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    for char in value:
        if unicodedata.category(char) == "Cc" and not (long and char in _LONG_TEXT_ALLOWED):
            raise _refuse(field, CONTROL_MESSAGE)
        if char in ("\u2028", "\u2029") or 0xD800 <= ord(char) <= 0xDFFF:
            raise _refuse(field, CONTROL_MESSAGE)
    if max_length is not None and len(value) > max_length:
        raise _refuse(field, _l("Keep this to %(max)s characters.", max=max_length))
    return value


def label(value, *, field: str | None = None, max_length: int | None = 255) -> str:
    """A file's label: one line of text without bidirectional override or isolate characters."""
    return text(text(value, field=field).translate(BIDI_CONTROLS).strip(), field=field, max_length=max_length)


def clean_label(value) -> str:
    """A label from an untrusted name (an upload's filename), cleaned rather than refused: NFC, without
    control characters and bidirectional override or isolate characters."""
    name = unicodedata.normalize("NFC", value if isinstance(value, str) else "").translate(BIDI_CONTROLS)
    return "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cs")
                   and ch not in ("\u2028", "\u2029")).strip()


def integer(value, *, field: str | None = None, low: int = 0, high: int = MAX_INT) -> int:
    """An integer from ASCII digits (or a JSON integer, not a boolean) between low and high."""
    if isinstance(value, bool):
        raise _refuse(field, INTEGER_MESSAGE, low=low, high=high)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        raw = value.strip(" ")
        if len(raw) > 20 or not (_SIGNED if low < 0 else _DIGITS).match(raw):
            raise _refuse(field, INTEGER_MESSAGE, low=low, high=high)
        number = int(raw)
    else:
        raise _refuse(field, INTEGER_MESSAGE, low=low, high=high)
    if not low <= number <= high:
        raise _refuse(field, INTEGER_MESSAGE, low=low, high=high)
    return number


def optional_integer(value, **kwargs) -> int | None:
    if value is None or value == "":
        return None
    return integer(value, **kwargs)


def moment(value, *, field: str | None = None) -> datetime:
    """An aware date-time (ISO 8601 text with its offset, or a datetime) between 2000 and 2100."""
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, str):
        raw = value.strip()
        if len(raw) > 40 or not _MOMENT.match(raw):
            raise _refuse(field, MOMENT_MESSAGE)
        if raw.endswith(("Z", "z")):
            raw = raw[:-1] + "+00:00"
        try:
            found = datetime.fromisoformat(raw)
        except ValueError:
            raise _refuse(field, MOMENT_MESSAGE) from None
    else:
        raise _refuse(field, MOMENT_MESSAGE)
    if found.tzinfo is None or found.utcoffset() is None:
        raise _refuse(field, MOMENT_MESSAGE)
    # The year as written, in its own offset (what the published schema's pattern can check too).
    if not EARLIEST.year <= found.year <= LATEST.year:
        raise _refuse(field, RANGE_MESSAGE)
    return found


def in_range(found: datetime, *, field: str | None = None) -> datetime:
    """A date-time built elsewhere (a form's naive local time made aware): refused outside 2000-2100."""
    return moment(found, field=field)


class IntegerConverter(routing.IntegerConverter):
    """`<int:...>` in routes: Werkzeug's own matches any Unicode digit (`\\d`); this one only 0-9, at most
    ten of them; a number past the rule's maximum answers 404 at once (a converter's refusal would let Werkzeug
    answer 405 when another method's rule has the same path), before the database sees it."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 0, max: int | None = MAX_INT,
                 signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=None, signed=signed)
        self.regex = r"-?[0-9]{1,10}" if signed else r"[0-9]{1,10}"
        self.limit = max

    def to_python(self, value: str):
        number = super().to_python(value)
        if self.limit is not None and number > self.limit:
            raise HTTPNotFound()  # at once, so that another method's rule of the path cannot make it a 405
        return number


def keyset(value: str | None, *, field: str | None = "after") -> str | None:
    """A keyset page link "moment|id" (as the list services make them), read strictly; None when absent."""
    if not value:
        return None
    moment_text, sep, last_id = text(value, field=field).rpartition("|")
    if not sep:
        raise _refuse(field, _l("This page link is not valid."))
    try:
        moment(moment_text, field=field)
        integer(last_id, field=field)
    except InputError:
        raise _refuse(field, _l("This page link is not valid.")) from None
    return value


def arg_integer(name: str, default=None, *, low: int = 1, high: int = MAX_INT):
    """An integer from the query string, or `default` with a message shown when it cannot be read."""
    from flask import flash, request

    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return integer(raw, field=name, low=low, high=high)
    except InputError as exc:
        flash(str(exc.message), "error")
        return default
