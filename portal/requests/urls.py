"""Reported addresses: normalisation, hashing, and reading them from a pasted list or a CSV file.

Addresses are handled as text only: nothing here (or anywhere in the portal) resolves or fetches them.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

from flask_babel import lazy_gettext as _l

from portal.i18n import Number

MAX_ITEMS = 10_000
MAX_URL_LENGTH = 2048
MAX_NOTE_LENGTH = 2000
# A list longer than this is refused before it is read line by line.
MAX_LINES = 50_000
CSV_COLUMNS = ("url", "sha256", "md5", "pdq", "note")
_HEX = re.compile(r"^[0-9a-f]+$")
HASH_LENGTHS = {"sha256": 64, "md5": 32, "pdq": 64}
# Characters left as they are in a path or query; anything else (spaces, non-ASCII) is percent-encoded.
_SAFE = "/:@!$&'()*+,;=-._~%?"


class InvalidURL(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class ParsedItem:
    url: str
    url_hash: str
    line: int
    sha256: str | None = None
    md5: str | None = None
    pdq: str | None = None
    note: str = ""


@dataclass
class LineError:
    line: int
    message: str


@dataclass
class ParseResult:
    items: list[ParsedItem] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    duplicates: int = 0


def url_hash(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def normalise_url(raw: str) -> str:
    """The canonical text of an address: http/https only, host lower-cased and IDNA-encoded, default
    port and fragment dropped, unsafe characters percent-encoded. Raises InvalidURL."""
    text = (raw or "").strip()
    if not text:
        raise InvalidURL(_l("The address is empty."))
    if any(ch.isspace() for ch in text) or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidURL(_l("The address contains spaces or control characters."))
    try:
        parts = urlsplit(text)
    except ValueError:
        raise InvalidURL(_l("This is not a valid web address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidURL(_l("Only http:// and https:// addresses are accepted."))
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise InvalidURL(_l("The port of the address is not valid.")) from None
    if not host:
        raise InvalidURL(_l("The address has no host name."))
    host = _idna(host.rstrip("."))
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    netloc = host
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{quote(userinfo, safe=':%')}@{netloc}"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc = f"{netloc}:{port}"
    path = quote(parts.path or "/", safe=_SAFE)
    query = quote(parts.query, safe=_SAFE)
    normalised = urlunsplit((scheme, netloc, path, query, ""))
    if len(normalised) > MAX_URL_LENGTH:
        raise InvalidURL(_l("The address is longer than %(max)s characters.", max=Number(MAX_URL_LENGTH)))
    return normalised


def _idna(host: str) -> str:
    host = host.lower()
    if host.isascii():
        if not re.fullmatch(r"[a-z0-9._\-:\[\]]+", host) or ".." in host:
            raise InvalidURL(_l("The host name of the address is not valid."))
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidURL(_l("The host name of the address is not valid.")) from None


def _hash_value(kind: str, value: str | None) -> str | None:
    value = (value or "").strip().lower()
    if not value:
        return None
    if len(value) != HASH_LENGTHS[kind] or not _HEX.match(value):
        raise InvalidURL(_l("The %(kind)s hash must be %(length)d hexadecimal characters.",
                            kind=kind.upper(), length=HASH_LENGTHS[kind]))
    return value


def _item(line: int, url: str, sha256=None, md5=None, pdq=None, note=None) -> ParsedItem:
    normalised = normalise_url(url)
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidURL(_l("The note is longer than %(max)s characters.", max=Number(MAX_NOTE_LENGTH)))
    return ParsedItem(url=normalised, url_hash=url_hash(normalised), line=line,
                      sha256=_hash_value("sha256", sha256), md5=_hash_value("md5", md5),
                      pdq=_hash_value("pdq", pdq), note=note)


def _merge(result: ParseResult, item: ParsedItem, seen: dict[str, ParsedItem]) -> None:
    first = seen.get(item.url_hash)
    if first is None:
        seen[item.url_hash] = item
        result.items.append(item)
        return
    # The same address twice is one item: keep the first, fill in what only the later line gave.
    result.duplicates += 1
    for name in ("sha256", "md5", "pdq"):
        if getattr(first, name) is None:
            setattr(first, name, getattr(item, name))
    if item.note and item.note not in first.note:
        first.note = f"{first.note}\n{item.note}".strip()


def parse_lines(text: str) -> ParseResult:
    """One address per line; blank lines are skipped. Errors name the line."""
    result, seen = ParseResult(), {}
    lines = (text or "").splitlines()
    if len(lines) > MAX_LINES:
        result.errors.append(LineError(0, str(_l("The list has more than %(max)s lines.", max=Number(MAX_LINES)))))
        return result
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            _merge(result, _item(number, line), seen)
        except InvalidURL as error:
            result.errors.append(LineError(number, str(error.message)))
    return result


def parse_records(records: list[dict]) -> ParseResult:
    """Items given as records (the API's JSON: url, sha256, md5, pdq, note). Errors name the record's
    index, counted from 0."""
    result, seen = ParseResult(), {}
    for index, record in enumerate(records):
        try:
            if not isinstance(record, dict) or not isinstance(record.get("url"), str) or any(
                    record.get(name) is not None and not isinstance(record.get(name), str) for name in CSV_COLUMNS):
                raise InvalidURL(_l("Each item needs a url; its other fields are text."))
            _merge(result, _item(index, record["url"], record.get("sha256"), record.get("md5"), record.get("pdq"),
                                 record.get("note")), seen)
        except InvalidURL as error:
            result.errors.append(LineError(index, str(error.message)))
    return result


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else CP949 (a superset of EUC-KR), as Korean spreadsheets export."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp949")
    except UnicodeDecodeError:
        raise InvalidURL(_l("The file is neither UTF-8 nor CP949/EUC-KR text.")) from None


def parse_csv(data: bytes) -> ParseResult:
    """Columns url, sha256, md5, pdq, note (a header row naming them is optional).

    Cells are text: a cell that looks like a spreadsheet formula (=, +, -, @) is kept verbatim and
    never evaluated; in the url column it is simply not a valid address.
    """
    result, seen = ParseResult(), {}
    try:
        text = decode_csv(data)
    except (InvalidURL, UnicodeDecodeError) as error:
        result.errors.append(LineError(0, str(getattr(error, "message", error))))
        return result
    if text.count("\n") > MAX_LINES:
        result.errors.append(LineError(0, str(_l("The list has more than %(max)s lines.", max=Number(MAX_LINES)))))
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    columns = list(CSV_COLUMNS)
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if number == 1 and row[0].strip().lower() == "url":
                columns = [cell.strip().lower() for cell in row]
                unknown = [c for c in columns if c and c not in CSV_COLUMNS]
                if unknown:
                    result.errors.append(LineError(1, str(_l(
                        "Unknown column %(name)s; the columns are url, sha256, md5, pdq, note.",
                        name=unknown[0][:40]))))
                    return result
                continue
            values = dict(zip(columns, (cell for cell in row)))
            if len(row) > len(columns):
                result.errors.append(LineError(number, str(_l("The line has more than %(n)s columns.",
                                                              n=len(columns)))))
                continue
            try:
                _merge(result, _item(number, values.get("url", ""), values.get("sha256"), values.get("md5"),
                                     values.get("pdq"), values.get("note")), seen)
            except InvalidURL as error:
                result.errors.append(LineError(number, str(error.message)))
    except csv.Error:
        result.errors.append(LineError(reader.line_num, str(_l("The CSV file is malformed here."))))
    return result
