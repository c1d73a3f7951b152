"""Verification: the public facts of a document (never its content), by its code, its reference and code, or
its exact bytes; None for every kind of miss."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.core import audit
from portal.core.bilingual import bilingual
from portal.core.documents.codes import code_hash, normalise_code
from portal.core.documents.kinds import DocumentKind
from portal.core.documents.models import Document
from portal.extensions import db


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

    issuer = bilingual("issuer")


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
    document = db.session.scalar(select(Document).where(Document.verification_code_hash == code_hash(normalised)))
    return _facts(document) if document is not None else None


def verify_reference(reference: str | None, code: str | None) -> VerifiedDocument | None:
    """The document with this reference and code, or None -- the same None whether or not the
    reference exists, so the answer tells nothing about references one does not hold a code for."""
    normalised = normalise_code(code)
    wanted = (reference or "").strip().upper()
    if normalised is None or not wanted:
        return None
    document = db.session.scalar(select(Document).where(Document.verification_code_hash == code_hash(normalised)))
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
