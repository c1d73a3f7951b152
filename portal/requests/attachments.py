"""Attachments are documents: PDF, plain text or CSV, recognised by their bytes, never by their names.

Images, video, archives, office files with macros and anything else are refused. Files are stored under
instance/attachments with generated names; the original name is kept only as a label.
"""
from __future__ import annotations

import hashlib
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


@dataclass
class CheckedFile:
    content_type: str
    size: int
    sha256: str
    data: bytes


def kind_of(data: bytes) -> str:
    """"pdf", "text", "image", "video" or "other", from the bytes alone."""
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
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) and b"<svg" in head:
        return "image"
    if _is_text(data):
        return "text"
    return "other"


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(ord(ch) < 32 and ch not in "\t\r\n\f" for ch in text)
    return False


_REFUSALS = {
    "image": _l("Images cannot be attached: the portal never stores reported content. "
                "Attach documents only (PDF, plain text or CSV)."),
    "video": _l("Videos cannot be attached: the portal never stores reported content. "
                "Attach documents only (PDF, plain text or CSV)."),
    "other": _l("This kind of file cannot be attached. Attach documents only (PDF, plain text or CSV)."),
}


def check(stream, filename: str) -> CheckedFile:
    """Read an upload (at most 20 MB) and accept it only if its bytes are a PDF or text."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError("file", _l("The file is larger than %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)))
    if not data:
        raise ValidationError("file", _l("The file is empty."))
    kind = kind_of(data)
    if kind not in ("pdf", "text"):
        raise ValidationError("file", _REFUSALS[kind])
    if kind == "pdf":
        content_type = "application/pdf"
    else:
        content_type = "text/csv" if filename.lower().endswith(".csv") else "text/plain"
    return CheckedFile(content_type, len(data), hashlib.sha256(data).hexdigest(), data)


def safe_label(filename: str) -> str:
    """The original name as a label: no path, no control characters, reasonable length."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", reader.clean_label(name)).strip() or "attachment"
    return name[-150:]


def directory() -> Path:
    path = Path(current_app.instance_path) / "attachments"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(checked: CheckedFile) -> str:
    """Write the bytes under a generated name; returns that name."""
    stored_name = secrets.token_hex(20)
    target = directory() / stored_name
    with open(target, "xb") as handle:
        handle.write(checked.data)
    target.chmod(0o600)
    return stored_name


def path_of(stored_name: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{40}", stored_name):
        raise ValueError("bad stored name")
    return directory() / stored_name
