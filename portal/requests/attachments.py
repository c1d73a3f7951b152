"""Attachments are documents: PDF, plain text or CSV, recognised by their bytes, never by their names.

Images, video, archives, markup (HTML, XML, SVG, wherever it starts) and anything else are refused. A PDF
is opened with pypdf and refused when it carries JavaScript, launch actions, embedded files, an XFA form,
other active content, or data appended after its end (a ZIP behind a PDF). A text file must decode as
UTF-8 or CP949 and hold no control characters and no markup; it is CSV when its rows parse as CSV.
Files are stored under instance/attachments with generated names ending in the extension of the kind
found (.pdf, .txt, .csv) and served with that kind's content type; the original name is kept only as a
label, without bidi controls and with the same extension.
"""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.core import input as reader
from portal.core.exceptions import ValidationError

MAX_BYTES = 20 * 1024 * 1024
_CHUNK = 1024 * 1024

# Leading bytes of media formats, named so the refusal can say what the file really is.
_MEDIA_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "image"),
    (b"\xff\xd8\xff", 0, "image"),
    (b"GIF87a", 0, "image"),
    (b"GIF89a", 0, "image"),
    (b"BM", 0, "image"),
    (b"II*\x00", 0, "image"),
    (b"MM\x00*", 0, "image"),
    (b"\x00\x00\x01\x00", 0, "image"),  # ICO
    (b"8BPS", 0, "image"),
    (b"ftyp", 4, "video"),  # MP4, MOV, HEIC/AVIF (ISO base media)
    (b"\x1a\x45\xdf\xa3", 0, "video"),  # Matroska / WebM
    (b"FLV", 0, "video"),
    (b"\x00\x00\x01\xba", 0, "video"),  # MPEG-PS
    (b"\x00\x00\x01\xb3", 0, "video"),
    (b"OggS", 0, "video"),
]


log = logging.getLogger(__name__)

# The kinds accepted: extension and content type of each.
KINDS = {
    "pdf": (".pdf", "application/pdf"),
    "text": (".txt", "text/plain"),
    "csv": (".csv", "text/csv"),
}
_EXTENSION_OF_TYPE = {content_type: extension for extension, content_type in KINDS.values()}


@dataclass
class CheckedFile:
    kind: str  # "pdf", "text" or "csv"
    content_type: str
    size: int
    sha256: str
    data: bytes
    label: str = "attachment"

    @property
    def extension(self) -> str:
        return KINDS[self.kind][0]


# Markup: a tag, a comment, a declaration or a processing instruction, anywhere in the file (a browser or
# an image viewer finds an <svg> behind kilobytes of comment).
_MARKUP = re.compile(rb"<\s*(?:[!?]|/?\s*[a-zA-Z][a-zA-Z0-9:._-]*(?:[\s/>]|$))", re.M)
# In a PDF, XML (XMP metadata) is normal; HTML, SVG and scripts are not.
_MARKUP_IN_PDF = re.compile(rb"<\s*(?:svg|html|script|body|iframe|object|embed|!doctype\s+html)[\s/>]", re.I)
_ZIP_END = b"PK\x05\x06"
_ZIP_SEARCH = 65_535 + 22  # a ZIP's end record (with its comment) sits in its last 64 KB


def kind_of(data: bytes) -> str:
    """"pdf", "text", "image", "video" or "other", from the bytes alone (markup counts as "image" when it
    is SVG, else "markup")."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data[:4] == b"RIFF" and data[8:12] in (b"WEBP",):
        return "image"
    if data[:4] == b"RIFF" and data[8:12] in (b"AVI ", b"WAVE"):
        return "video"
    for signature, offset, kind in _MEDIA_SIGNATURES:
        if data[offset:offset + len(signature)] == signature:
            if signature == b"ftyp" and data[8:12] in (b"heic", b"heix", b"avif", b"mif1", b"msf1"):
                return "image"
            return kind
    text = _decode(data)
    if text is None:
        return "other"
    if "<svg" in text.lower():
        return "image"
    if _MARKUP.search(text.encode()):
        return "markup"
    if any(ord(ch) < 32 and ch not in "\t\r\n\f" for ch in text):
        return "other"
    return "text"


def _decode(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _is_csv(text: str) -> bool:
    """Rows that parse as CSV with the same number of fields (at least two) in each."""
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(field.strip() for field in row)]
    except csv.Error:
        return False
    return bool(rows) and len(rows[0]) >= 2 and all(len(row) == len(rows[0]) for row in rows)


_REFUSALS = {
    "image": _l("Images cannot be attached: the portal never stores reported content. "
                "Attach documents only (PDF, plain text or CSV)."),
    "svg": _l("This file contains an SVG image, which cannot be attached wherever it starts in the file: the "
              "portal never stores reported content. Attach documents only (PDF, plain text or CSV)."),
    "video": _l("Videos cannot be attached: the portal never stores reported content. "
                "Attach documents only (PDF, plain text or CSV)."),
    "markup": _l("This file contains web markup (HTML, XML or script), which cannot be attached. "
                 "Attach documents only (PDF, plain text or CSV)."),
    "other": _l("This kind of file cannot be attached. Attach documents only (PDF, plain text or CSV)."),
    "encoding": _l("This text file is neither UTF-8 nor CP949 (EUC-KR) text. Save it as UTF-8 and attach it "
                   "again."),
}
_PDF_REFUSALS = {
    "unreadable": _l("This PDF cannot be read: it may be damaged. Save or print it to PDF again and attach "
                     "the new file."),
    "encrypted": _l("This PDF is encrypted, so it cannot be checked. Attach a copy without a password."),
    "javascript": _l("This PDF contains JavaScript, which is not accepted. Print it to a new PDF and attach "
                     "that."),
    "launch": _l("This PDF contains an action that starts a program, which is not accepted. Print it to a "
                 "new PDF and attach that."),
    "embedded": _l("This PDF contains embedded files, which are not accepted. Attach each document on its "
                   "own."),
    "xfa": _l("This PDF is an XFA form, which is not accepted. Print it to a plain PDF and attach that."),
    "active": _l("This PDF contains active content (form submission, data import or media), which is not "
                 "accepted. Print it to a new PDF and attach that."),
    "appended": _l("This PDF has other data appended after its end (for example an archive), which is not "
                   "accepted. Save it to PDF again and attach the new file."),
    "markup": _l("This PDF contains web markup (HTML, SVG or script), which is not accepted. Print it to a "
                 "new PDF and attach that."),
}


def check(stream, filename: str) -> CheckedFile:
    """Read an upload (at most 20 MB) and accept it only if its bytes are a clean PDF, text or CSV."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError("file", _l("The file is larger than %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)))
    if not data:
        raise ValidationError("file", _l("The file is empty."))
    kind = kind_of(data)
    if kind == "other" and b"\x00" not in data and _decode(data) is None:
        kind = "encoding"
    elif kind == "image" and b"<svg" in data.lower():
        kind = "svg"
    if kind == "pdf":
        problem = pdf_problem(data)
        if problem:
            raise ValidationError("file", _PDF_REFUSALS[problem])
    elif kind == "text":
        kind = "csv" if _is_csv(_decode(data)) else "text"
    else:
        raise ValidationError("file", _REFUSALS[kind])
    return CheckedFile(kind, KINDS[kind][1], len(data), hashlib.sha256(data).hexdigest(), data,
                       label=safe_label(filename, KINDS[kind][0]))


# --- PDF --------------------------------------------------------------------------------------------------

# Names whose presence (as a key, or as an action's /S or an object's /Type) makes a PDF refused.
_PDF_KEYS = {"/JS": "javascript", "/JavaScript": "javascript", "/Launch": "launch", "/EmbeddedFiles": "embedded",
             "/EmbeddedFile": "embedded", "/EF": "embedded", "/XFA": "xfa", "/RichMedia": "active",
             "/RichMediaContent": "active"}
_PDF_NAMES = {"/JavaScript": "javascript", "/Launch": "launch", "/EmbeddedFile": "embedded", "/GoToE": "embedded",
              "/SubmitForm": "active", "/ImportData": "active", "/Rendition": "active", "/Movie": "active",
              "/Sound": "active", "/RichMedia": "active"}
_MAX_PDF_OBJECTS = 500_000


def pdf_problem(data: bytes) -> str | None:
    """Why a PDF is refused ("javascript", "launch", "embedded", "xfa", "active", "appended", "markup",
    "encrypted", "unreadable"), or None for a plain document."""
    end = data.rfind(b"%%EOF")
    if end < 0:
        return "unreadable"
    if data[end + 5:].strip(b" \t\r\n\x00"):
        return "appended"
    if _ZIP_END in data[-_ZIP_SEARCH:]:
        return "appended"
    if _MARKUP_IN_PDF.search(data):
        return "markup"
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return "encrypted"
        return _walk(reader.trailer)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        log.info("attachment refused: PDF unreadable (%s)", type(exc).__name__)
        return "unreadable"


def _walk(root) -> str | None:
    """Every object reachable from the trailer (catalogue, pages, annotations, actions, name trees)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen: set[tuple[int, int]] = set()
    pending = [root]
    visited = 0
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > _MAX_PDF_OBJECTS:
            return "unreadable"
        if isinstance(item, DictionaryObject):  # streams too: their dictionary
            for name, value in item.items():
                if name in _PDF_KEYS:
                    return _PDF_KEYS[name]
                if name in ("/S", "/Type", "/Subtype") and isinstance(value, NameObject) and value in _PDF_NAMES:
                    return _PDF_NAMES[value]
                pending.append(value)
        elif isinstance(item, ArrayObject):
            pending.extend(item)
    return None


# --- Labels and files -------------------------------------------------------------------------------------

def safe_label(filename: str, extension: str | None = None) -> str:
    """The original name as a label: no path, no control or bidi characters, reasonable length, and, given
    the extension of the kind found, ending in it (whatever extension the name had is replaced)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f-\x9f\"]", "", reader.clean_label(name)).strip() or "attachment"
    if extension:
        stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
        name = (stem.strip(" .") or "attachment")[:150 - len(extension)] + extension
    return name[-150:]


def download_name(label: str, content_type: str) -> str:
    """The name a stored attachment is served under: its label with its kind's extension."""
    extension = _EXTENSION_OF_TYPE.get(content_type.split(";")[0].strip())
    return safe_label(label, extension)


def directory() -> Path:
    path = Path(current_app.instance_path) / "attachments"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(checked: CheckedFile) -> str:
    """Write the bytes under a generated name with the extension of their kind; returns that name."""
    stored_name = secrets.token_hex(20) + checked.extension
    target = directory() / stored_name
    with open(target, "xb") as handle:
        handle.write(checked.data)
    target.chmod(0o600)
    return stored_name


def path_of(stored_name: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{40}(?:\.pdf|\.txt|\.csv)?", stored_name):
        raise ValueError("bad stored name")
    return directory() / stored_name
