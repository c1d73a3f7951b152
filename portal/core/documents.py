"""Every PDF the portal issues: rendered once, signed, stored immutably, and checkable by anyone.

A domain issues a document when the thing it records happens (a request is issued, a meeting is called,
minutes are published) by calling `issue_document(...)` with a template under `templates/pdf/`. This module:

1. renders the template with WeasyPrint inside `force_locale("ko")` (Korean is authoritative; templates
   carry Korean then English, so the document never depends on who looks at it), with a URL fetcher that
   serves the portal's own static files from disk and refuses everything else -- the renderer never
   touches the network, and reported URLs only ever appear as text;
2. writes PDF/A-3b with title, author (the issuing organisation), subject and language in its metadata;
   any `.notdef` (missing glyph) warning of WeasyPrint is an error, so Hangul never silently disappears;
3. signs it (PAdES, pyHanko) with the portal's signing key: configured by path in production
   (`DOCUMENT_SIGNING_KEY`, `DOCUMENT_SIGNING_CERT`, optional `DOCUMENT_SIGNING_KEY_PASSPHRASE` and
   `DOCUMENT_SIGNING_CHAIN`), generated into `instance/signing/` on first use elsewhere;
4. stores the bytes write-once under `instance/documents/<sha256[:2]>/<sha256>.pdf` (`DOCUMENTS_PATH`
   moves the folder) and records a `Document` row and an audit event. It flushes, never commits.

Render mode: in the transaction that issues. A notice renders in well under the time of the request that
issues it (see benchmarks/README.md), and rendering there keeps the record atomic: the state change, the
document row, its audit event and the stored file stand or fall together -- if the transaction rolls back,
the file written for it is removed again, and if rendering fails, the state change is refused instead of
leaving an issued request without its notice for a worker to catch up on later.

Verification: each document carries a random verification code (printed in it and behind its QR code);
only its SHA-256 is stored. `verify_code`, `verify_reference` and `verify_file` answer the public page
with the facts of a document -- never its content -- or None, the same for every kind of miss.

Other settings: `PUBLIC_BASE_URL` (the verification address printed in documents).

Use, from a domain's service (the template extends `pdf/base.html`; see `pdf/test_notice.html`):

    document = documents.issue_document(
        "request_notice", "request_notice", {"request": req},
        reference=req.reference, issuer=req.agency, recipient_organisation_id=req.platform_id,
        title=f"요청 통지서 / Request notice {req.reference}")
    ...  # then documents.documents_for(user, reference=...) lists what a user may download,
    ...  # and url_for("documents.download", document_id=document.id) serves it.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import io
import logging
import mimetypes
import os
import re
import secrets
import subprocess
import tempfile
import threading
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import ForeignKey, Integer, String, event, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from portal.accounts.models import Organisation, User
from portal.core import audit, clock, policy
from portal.core.database import UTCDateTime
from portal.core.exceptions import Conflict, NotFound
from portal.extensions import db

log = logging.getLogger(__name__)

LANGUAGE_PAIR = "ko+en"
PDF_VARIANT = "pdf/a-3b"
SIGNATURE_FIELD = "PortalSignature"
CREATOR = "Platform Cooperation Portal"


# --- Kinds -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DocumentKind:
    """A kind of document with its name in both languages: documents print both, pages pick one."""

    code: str
    ko: str
    en: str

    def label(self, language: str) -> str:
        return self.ko if language == "ko" else self.en


KINDS: dict[str, DocumentKind] = {}


def register_kind(code: str, ko: str, en: str) -> DocumentKind:
    """Declare a kind of document once (its domain does, at import). Re-declaring the same is harmless."""
    kind = DocumentKind(code, ko, en)
    if KINDS.get(code, kind) != kind:
        raise ValueError(f"document kind {code!r} is already declared differently")
    KINDS[code] = kind
    return kind


# The documents the design names; their domains issue them.
for _code, _ko, _en in (
    ("request_notice", "요청 통지서", "Request notice"),
    ("extension_decision", "기한 연장 결정서", "Extension decision"),
    ("withdrawal_notice", "요청 철회 통지서", "Withdrawal notice"),
    ("closure_certificate", "요청 종결 확인서", "Closure certificate"),
    ("meeting_invitation", "회의 초대장", "Meeting invitation"),
    ("minutes", "회의록", "Minutes"),
    ("commitment_certificate", "이행 약정 확인서", "Commitment certificate"),
):
    register_kind(_code, _ko, _en)


def kind_of(code: str) -> DocumentKind:
    return KINDS.get(code) or DocumentKind(code, code, code)


# --- The record --------------------------------------------------------------------------------------------

class Document(db.Model):
    """An issued PDF: the stored bytes are its truth; this row says what it is, whose it is and its hash."""

    __tablename__ = "documents"
    audit_type = "document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    reference: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    issuer_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    # The organisation the document is addressed to (None: no recipient, e.g. a document kept by its issuer).
    recipient_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False, default=LANGUAGE_PAIR)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    storage_path: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    # SHA-256 of the normalised verification code; the code itself exists only in the PDF.
    verification_code_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    signer_fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    # A correction is a new document pointing to the one it replaces; a document is replaced at most once.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), unique=True)

    issuer: Mapped[Organisation] = relationship(foreign_keys=[issuer_organisation_id], lazy="joined",
                                                innerjoin=True)
    recipient: Mapped[Organisation | None] = relationship(foreign_keys=[recipient_organisation_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    replaces: Mapped[Document | None] = relationship(remote_side=[id], back_populates="replaced_by")
    replaced_by: Mapped[Document | None] = relationship(back_populates="replaces", uselist=False)

    @property
    def kind_info(self) -> DocumentKind:
        return kind_of(self.kind)

    def owning_organisation_id_for(self, user) -> int | None:
        """The side through which `user` reaches the document: its issuer or its recipient, else none."""
        if user.organisation_id in (self.issuer_organisation_id, self.recipient_organisation_id):
            return user.organisation_id
        return None

    @classmethod
    def scope_clause_for(cls, user):
        return or_(cls.issuer_organisation_id == user.organisation_id,
                   cls.recipient_organisation_id == user.organisation_id)

    def download_name(self, language: str) -> str:
        """`KCSC-2026-000123 요청 통지서.pdf`: the reference first, the kind in the reader's language."""
        return f"{self.reference} {self.kind_info.label(language)}.pdf"


class DocumentError(Exception):
    """The document could not be issued (rendering, signing or storing failed); nothing was recorded."""


class DocumentRenderError(DocumentError):
    pass


# --- Issuing -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DocumentFacts:
    """What the base template prints about the document itself (header, footer, verification block)."""

    kind: DocumentKind
    reference: str
    title: str
    issuer: Organisation
    issued_at: datetime
    verification_code: str
    verification_url: str
    short_url: str
    qr_svg: str
    signer_fingerprint: str
    replaces: Document | None


def issue_document(kind: str, template: str, context: dict, *, reference: str, issuer: Organisation | int,
                   recipient_organisation_id: int | None, title: str, replaces: Document | None = None,
                   subject: str | None = None, issued_by: User | None = None,
                   issued_at: datetime | None = None) -> Document:
    """Render `templates/pdf/<template>.html` with `context`, sign, store and record it; return the row.

    `kind` must be registered (`register_kind`). `title` goes into the PDF metadata (both languages
    are welcome: "요청 통지서 / Request notice KCSC-2026-000123"). `replaces` makes this document the
    correction of an earlier one of the same issuer. `issued_by` is the acting user, recorded and
    audited (default: the current user, if any). `issued_at` is the moment of the thing the document
    records (default: now), to the second. Flushes, never commits. Raises `DocumentError` when
    the document cannot be made (a missing glyph, a resource from outside the portal, no signing
    key), `Conflict` when `replaces` has already been replaced.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}: declare it with register_kind()")
    if isinstance(issuer, int):
        issuer = db.session.get(Organisation, issuer)
    if issued_by is None and has_request_context() and current_user.is_authenticated:
        issued_by = current_user._get_current_object()
    if replaces is not None:
        if replaces.issuer_organisation_id != issuer.id:
            raise ValueError("a document can only be corrected by its own issuer")
        if replaces.replaced_by is not None:
            raise Conflict(_l("This document has already been replaced; correct the latest version."))

    identity = signing_identity()
    issued_at = (issued_at or clock.now()).replace(microsecond=0)
    code = new_verification_code()
    url = verification_url(code)
    facts = DocumentFacts(
        kind=KINDS[kind], reference=reference, title=title, issuer=issuer, issued_at=issued_at,
        verification_code=code, verification_url=url, short_url=url.split("://", 1)[-1],
        qr_svg=_qr_svg(url), signer_fingerprint=identity.fingerprint, replaces=replaces,
    )
    author = f"{issuer.name_ko} ({issuer.name_en})"
    subject = subject or f"{reference} · {facts.kind.ko} / {facts.kind.en}"
    pdf = render_pdf(template, context, facts=facts, author=author, subject=subject)
    signed = sign_pdf(pdf, identity, title=title, author=author, subject=subject, issued_at=issued_at,
                      reason=f"{facts.kind.ko} / {facts.kind.en} {reference}")
    digest = hashlib.sha256(signed).hexdigest()
    storage_path = _store(signed, digest)

    document = Document(
        kind=kind, reference=reference, issuer_organisation_id=issuer.id,
        recipient_organisation_id=recipient_organisation_id,
        issued_by_id=issued_by.id if issued_by is not None else None, issued_at=issued_at,
        language=LANGUAGE_PAIR, title=title[:300], size=len(signed), sha256=digest, storage_path=storage_path,
        verification_code_hash=_code_hash(normalise_code(code)), signer_fingerprint=identity.fingerprint,
        replaces=replaces,
    )
    db.session.add(document)
    db.session.flush()
    audit.record("document.issued", document, actor=issued_by, organisation_id=issuer.id,
                 details={"kind": kind, "reference": reference, "sha256": digest,
                          **({"replaces": replaces.id} if replaces is not None else {})})
    log.info("document %s issued (%s, %d bytes)", document.id, kind, len(signed))
    return document


# --- Rendering ---------------------------------------------------------------------------------------------

def _weasyprint():
    # Imported on first use: WeasyPrint loads Pango and HarfBuzz, which the rest of the app never needs.
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    return weasyprint, FatalURLFetchingError, URLFetcher, URLFetcherResponse


@lru_cache(maxsize=1)
def _static_fetcher_class():
    _, FatalURLFetchingError, URLFetcher, URLFetcherResponse = _weasyprint()

    class Refused(FatalURLFetchingError):
        pass

    class StaticOnlyFetcher(URLFetcher):
        def __init__(self, root: Path):
            super().__init__(allowed_protocols=("file", "data"), allow_redirects=False, fail_on_errors=True)
            self.root = root.resolve()

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "data":  # decoded here; nothing is fetched
                with urllib.request.DataHandler().data_open(urllib.request.Request(url)) as response:
                    return URLFetcherResponse(url, response.read(), dict(response.headers))
            if scheme == "file":
                path = Path(urllib.request.url2pathname(urlsplit(url).path)).resolve()
                if path.is_relative_to(self.root) and path.is_file():
                    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
            log.warning("document rendering refused a %s resource", scheme or "relative")
            raise Refused(f"the document renderer fetches nothing but the portal's static files "
                          f"(refused a {scheme or 'relative'} resource)")

    return StaticOnlyFetcher


def _static_fetcher(root: Path):
    """A WeasyPrint URL fetcher that serves files under `root` (and data: URLs) and refuses the rest.

    A refusal stops the rendering (a fatal fetch error), so a template that names a remote image fails
    loudly instead of issuing a document with a hole in it. Refusals log the scheme only: the address
    could be a reported URL.
    """
    return _static_fetcher_class()(root)


class _WeasyPrintLog(logging.Handler):
    """Collects WeasyPrint's warnings of this thread while it renders."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.thread == self.thread:
            self.records.append(record)


@contextmanager
def _captured_weasyprint_log():
    logger = logging.getLogger("weasyprint")
    if logger.getEffectiveLevel() > logging.WARNING:  # a quieter logging set-up must not hide a .notdef
        logger.setLevel(logging.WARNING)
    handler = _WeasyPrintLog()
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


def _in_language(text, language: str) -> str:
    """Template helper: a (lazy) translatable string in `language`, e.g. `en(TYPE_LABELS[t])`."""
    with force_locale(language):
        return str(text)


def format_kst(moment: datetime | None, language: str = "ko") -> str:
    """An aware time in KST, written the same way in every document: `2026년 11월 25일 16:51 KST`."""
    return format_in_zone(moment, clock.KST, language)


def format_in_zone(moment: datetime | None, zone, language: str = "ko") -> str:
    """An aware time in `zone` (a name or ZoneInfo), named after it: `25 November 2026, 08:51 Europe/Dublin`.
    Documents show deadlines in KST (the legal reference) and in the recipient's headquarters zone."""
    if moment is None:
        return ""
    zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    name = "KST" if zone.key == clock.KST.key else zone.key
    pattern = "yyyy년 M월 d일 HH:mm" if language == "ko" else "d MMMM yyyy, HH:mm"
    return f"{babel_format_datetime(moment.astimezone(zone), pattern, tzinfo=zone, locale=language)} {name}"


def render_pdf(template: str, context: dict, *, facts: DocumentFacts, author: str, subject: str) -> bytes:
    """The unsigned PDF/A-3b of `templates/pdf/<template>.html`. Raises `DocumentRenderError`."""
    weasyprint, FatalURLFetchingError, *_ = _weasyprint()
    static = Path(current_app.static_folder)
    with force_locale("ko"):
        # The template sees what it is given and nothing of the request or its viewer.
        html = _pdf_environment().get_template(f"pdf/{template}.html").render(
            **context, document=facts, author=author, subject=subject, creator=CREATOR,
            language_pair=LANGUAGE_PAIR, kst=format_kst, in_zone=format_in_zone,
            ko=lambda text: _in_language(text, "ko"), en=lambda text: _in_language(text, "en"),
        )
        with _captured_weasyprint_log() as records:
            try:
                pdf = weasyprint.HTML(string=html, base_url=static.as_uri() + "/",
                                      url_fetcher=_static_fetcher(static)).write_pdf(
                    pdf_variant=PDF_VARIANT, finisher=_producer_finisher, font_config=_font_config())
            except FatalURLFetchingError as refused:
                raise DocumentRenderError(str(refused.__cause__ or refused)) from None
    missing = [r.getMessage() for r in records if ".notdef" in r.getMessage() or "glyphs missing" in r.getMessage()]
    if missing:
        raise DocumentRenderError(f"characters without a glyph in the document's fonts: {missing[:5]}")
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    if errors:
        raise DocumentRenderError(f"the document did not render cleanly: {errors[:5]}")
    for record in records:
        log.warning("document rendering (%s): %s", template, record.getMessage())
    return pdf


# --- Text the fonts cannot draw ------------------------------------------------------------------------------

# The face of the documents' body text; what users typed (reasons, summaries, names, addresses) is set in it.
BODY_FONT = "NanumGothic"


@lru_cache(maxsize=1)
def _printable_code_points() -> frozenset[int]:
    """Every character the body font has a glyph for, plus line breaks and tabs."""
    from fontTools.ttLib import TTFont

    found = subprocess.run(["fc-match", "-f", "%{file}", BODY_FONT], capture_output=True, text=True, check=False)
    path = found.stdout.strip()
    if found.returncode != 0 or BODY_FONT not in Path(path).name:
        raise DocumentError(f"the font {BODY_FONT} is not installed (Debian package fonts-nanum)")
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap()) | {0x09, 0x0A}


def printable(value):
    """A value a template prints, with each character the fonts cannot draw written as its code point
    (`[U+1F64F]`). Users type emoji and control characters into reasons and summaries; a document must
    neither fail to issue because of them nor show an empty box where a character was. Our own markup
    (`Markup`) passes as it is: the `.notdef` check keeps the templates' own text honest."""
    if not isinstance(value, str) or isinstance(value, Markup) or (value.isascii() and value.isprintable()):
        return value
    covered = _printable_code_points()
    return "".join(c if ord(c) in covered else f"[U+{ord(c):04X}]" for c in value)


def _pdf_environment():
    """The application's Jinja environment with `printable` applied to every printed value; one per
    application and loader, so its compiled templates are kept."""
    cache = current_app.extensions.setdefault("portal.documents", {})
    environment = cache.get("environment")
    if environment is None or environment.loader is not current_app.jinja_env.loader:
        environment = cache["environment"] = current_app.jinja_env.overlay(finalize=printable)
    return environment


_fonts = threading.local()


def _font_config():
    # Fontconfig's set-up is a fifth of a short document's rendering time; templates declare no
    # @font-face of their own, so one configuration per thread serves every document.
    if not hasattr(_fonts, "config"):
        from weasyprint.text.fonts import FontConfiguration

        _fonts.config = FontConfiguration()
    return _fonts.config


def _producer_finisher(_document, pdf) -> None:
    # pyHanko writes its own name as the XMP producer when it signs; the info dictionary must say the
    # same for PDF/A, so it is set to that name here (pyHanko then leaves it alone).
    import pydyf
    from pyhanko.pdf_utils.metadata.model import VENDOR

    pdf.info["Producer"] = pydyf.String(VENDOR)


def _qr_svg(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_inline(border=0, omitsize=True)


def renderer_status() -> dict:
    """What the renderer runs on; `harfbuzz_subset` False means slow fontTools subsetting."""
    weasyprint, *_ = _weasyprint()
    from weasyprint.text import ffi

    return {"weasyprint": weasyprint.__version__, "harfbuzz_subset": ffi.harfbuzz_subset is not None}


# --- Verification codes ------------------------------------------------------------------------------------

# Crockford's base 32: no I, L, O or U, so a code read aloud or typed from paper survives.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 random bits
_CODE_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_verification_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code: str | None) -> str | None:
    """The code as stored (upper case, no dashes or spaces), or None when it cannot be one."""
    if not code:
        return None
    cleaned = re.sub(r"[\s-]", "", code).upper().translate(_CODE_FIXES)
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        return None
    return cleaned


def _code_hash(normalised: str) -> str:
    return hashlib.sha256(f"portal-document-code:{normalised}".encode()).hexdigest()


def verification_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/verify/{code}"


# --- Verification ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifiedDocument:
    """The public facts of an authentic document: who issued what, when, and its hash. No content."""

    id: int
    kind: DocumentKind
    reference: str
    issuer_ko: str
    issuer_en: str
    issued_at: datetime
    sha256: str
    signer_fingerprint: str
    replaced_by: VerifiedDocument | None = None
    replaces: VerifiedDocument | None = None

    def issuer(self, language: str) -> str:
        return self.issuer_ko if language == "ko" else self.issuer_en


def _facts(document: Document, *, links: bool = True) -> VerifiedDocument:
    return VerifiedDocument(
        id=document.id, kind=document.kind_info, reference=document.reference,
        issuer_ko=document.issuer.name_ko, issuer_en=document.issuer.name_en, issued_at=document.issued_at,
        sha256=document.sha256, signer_fingerprint=document.signer_fingerprint,
        replaced_by=_facts(document.replaced_by, links=False) if links and document.replaced_by else None,
        replaces=_facts(document.replaces, links=False) if links and document.replaces else None,
    )


def verify_code(code: str | None) -> VerifiedDocument | None:
    """The document behind a verification code (what the QR code opens), or None."""
    normalised = normalise_code(code)
    if normalised is None:
        return None
    document = db.session.scalar(select(Document).where(Document.verification_code_hash == _code_hash(normalised)))
    return _facts(document) if document is not None else None


def verify_reference(reference: str | None, code: str | None) -> VerifiedDocument | None:
    """The document with this reference and code, or None -- the same None whether or not the
    reference exists, so the answer tells nothing about references one does not hold a code for."""
    normalised = normalise_code(code)
    wanted = (reference or "").strip().upper()
    if normalised is None or not wanted:
        return None
    document = db.session.scalar(select(Document).where(Document.verification_code_hash == _code_hash(normalised)))
    if document is None or not hmac.compare_digest(document.reference.upper().encode(), wanted.encode()):
        return None
    return _facts(document)


def verify_file(data: bytes) -> VerifiedDocument | None:
    """The document whose exact bytes these are, or None (one changed byte is another file)."""
    digest = hashlib.sha256(data).hexdigest()
    document = db.session.scalar(select(Document).where(Document.sha256 == digest))
    return _facts(document) if document is not None else None


def record_verification(result: VerifiedDocument, method: str) -> None:
    """Audit a successful public check (who looked is usually nobody we know: the IP is kept)."""
    audit.record("document.verified", object_type="document", object_id=result.id, details={"method": method})


# --- Access and reading ------------------------------------------------------------------------------------

def get_document(user: User, document_id: int, permission: str = "document.download") -> Document:
    """The document if `user` may reach it; another organisation's answers as not found (404)."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound(_l("Document not found."))
    policy.require(user, permission, document)
    return document


def documents_for(user: User, *, reference: str | None = None, kind: str | None = None) -> list[Document]:
    """The documents `user` may download, newest first; narrowed to one reference or kind when given."""
    query = policy.scoped(select(Document), Document, user, "document.download")
    if reference is not None:
        query = query.where(Document.reference == reference)
    if kind is not None:
        query = query.where(Document.kind == kind)
    # The request page says of each document whether a later one replaced it: loaded in one query.
    query = query.options(selectinload(Document.replaced_by))
    return list(db.session.scalars(query.order_by(Document.issued_at.desc(), Document.id.desc())))


def read_document(document: Document) -> bytes:
    """The stored bytes, exactly as issued. Raises DocumentError if the file is missing or was changed."""
    path = documents_root() / document.storage_path
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"stored file of document {document.id} cannot be read") from error
    if hashlib.sha256(data).hexdigest() != document.sha256:
        log.error("stored file of document %s does not match its recorded hash", document.id)
        raise DocumentError(f"stored file of document {document.id} does not match its hash")
    return data


def record_download(user: User, document: Document) -> None:
    audit.record("document.downloaded", document, actor=user,
                 details={"kind": document.kind, "reference": document.reference})


def check_store() -> list[tuple[int, str]]:
    """Every stored document whose file is missing or changed: (id, problem)."""
    problems = []
    for document in db.session.scalars(select(Document).order_by(Document.id)):
        path = documents_root() / document.storage_path
        if not path.exists():
            problems.append((document.id, "missing"))
        elif hashlib.sha256(path.read_bytes()).hexdigest() != document.sha256:
            problems.append((document.id, "changed"))
    return problems


# --- Storage -----------------------------------------------------------------------------------------------

def documents_root() -> Path:
    return Path(current_app.config.get("DOCUMENTS_PATH") or Path(current_app.instance_path) / "documents")


_PENDING_FILES = "portal.documents.pending_files"


def _store(data: bytes, digest: str) -> str:
    """Write once: a new file by its hash, never over an existing one; read-only once written."""
    relative = f"{digest[:2]}/{digest}.pdf"
    final = documents_root() / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=final.parent, prefix=".issuing-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o440)
        try:
            os.link(temporary, final)  # fails if the name exists: nothing is ever overwritten
        except FileExistsError:
            raise DocumentError(f"a stored document already has the hash {digest}") from None
    finally:
        os.unlink(temporary)
    # Until the transaction commits, the file belongs to it: a rollback takes it away again.
    db.session.info.setdefault(_PENDING_FILES, []).append(final)
    return relative


@event.listens_for(Session, "after_commit")
def _keep_issued_files(session):
    session.info.pop(_PENDING_FILES, None)


@event.listens_for(Session, "after_rollback")
def _remove_unrecorded_files(session):
    for path in session.info.pop(_PENDING_FILES, []):
        try:
            os.chmod(path, 0o640)
            path.unlink()
        except OSError:
            log.warning("could not remove the file of a document that was rolled back: %s", path.name)


# --- Signing -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SigningIdentity:
    signer: object  # pyhanko.sign.signers.SimpleSigner
    certificate_der: bytes
    subject: str
    not_after: datetime
    # Room for the CMS signature in the file. Given, it spares pyHanko a trial signature per document
    # (a fifth of a second); the certificates embedded in the signature are most of its size.
    bytes_reserved: int = 16384

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.certificate_der).hexdigest()

    @property
    def fingerprint_colons(self) -> str:
        return ":".join(self.fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()


def signing_identity() -> SigningIdentity:
    """The portal's signing key and certificate, loaded once per application."""
    cache = current_app.extensions.setdefault("portal.documents", {})
    if "identity" not in cache:
        cache["identity"] = _load_identity()
    return cache["identity"]


def _load_identity() -> SigningIdentity:
    from cryptography import x509
    from pyhanko.sign import signers

    config = current_app.config
    key_path, cert_path = config.get("DOCUMENT_SIGNING_KEY"), config.get("DOCUMENT_SIGNING_CERT")
    if not key_path or not cert_path:
        if config["PORTAL_ENV"] == "production":
            raise DocumentError("PORTAL_DOCUMENT_SIGNING_KEY and PORTAL_DOCUMENT_SIGNING_CERT must be set "
                                "when PORTAL_ENV=production")
        key_path, cert_path = _development_key_pair()
    passphrase = config.get("DOCUMENT_SIGNING_KEY_PASSPHRASE")
    chain = config.get("DOCUMENT_SIGNING_CHAIN") or ()
    if isinstance(chain, str):
        chain = [p for p in chain.split(os.pathsep) if p]
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path), ca_chain_files=list(chain) or None,
                                       key_passphrase=passphrase.encode() if passphrase else None)
    if signer is None:
        raise DocumentError("the document signing key or certificate cannot be read")
    certificate = x509.load_der_x509_certificate(signer.signing_cert.dump())
    embedded = sum(len(c.dump()) for c in signer.cert_registry)
    return SigningIdentity(signer=signer, certificate_der=signer.signing_cert.dump(),
                           subject=certificate.subject.rfc4514_string(),
                           not_after=certificate.not_valid_after_utc, bytes_reserved=8192 + 2 * embedded)


def _development_key_pair() -> tuple[Path, Path]:
    """A self-signed ECDSA P-256 key and certificate in instance/signing/, made once (under a lock)."""
    folder = Path(current_app.instance_path) / "signing"
    folder.mkdir(mode=0o700, exist_ok=True)
    key_path, cert_path = folder / "document-signing-key.pem", folder / "document-signing-cert.pem"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two workers starting together make one key, not two
        if not (key_path.exists() and cert_path.exists()):
            key_pem, cert_pem = _self_signed_pair()
            for path, data, mode in ((key_path, key_pem, 0o600), (cert_path, cert_pem, 0o644)):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(data)
            log.warning("generated a self-signed document signing key in %s (development only)", folder)
    return key_path, cert_path


def _self_signed_pair() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Platform Cooperation Portal"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Platform Cooperation Portal document signing (development)"),
    ])
    now = clock.now()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def sign_pdf(pdf: bytes, identity: SigningIdentity, *, title: str, author: str, subject: str,
             issued_at: datetime, reason: str) -> bytes:
    """A PAdES baseline signature over the whole file, as an incremental update (PDF/A survives it)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    # pyHanko rewrites the XMP metadata; the same values on both sides keep the info dictionary and the
    # XMP packet in agreement, as PDF/A requires.
    meta = writer.document_meta
    meta.title, meta.author, meta.subject = title, author, subject
    meta.created = meta.last_modified = issued_at
    signature = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=reason, location="Seoul, Republic of Korea", name=CREATOR,
    )
    output = signers.PdfSigner(signature, identity.signer).sign_pdf(writer, bytes_reserved=identity.bytes_reserved)
    return output.getvalue()
