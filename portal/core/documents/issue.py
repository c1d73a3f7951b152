"""Issuing: render, sign, store and record a document, in two steps that can run apart.

`prepare_document` renders and signs from plain data and touches no database: it can run while no
transaction is open, so a large notice never holds a lock while WeasyPrint lays out its pages.
`record_document` then stores the bytes write-once and adds the row and its audit event, in the short
transaction that records the change. `issue_document` does both at once, for documents small enough to
render inside the transaction of the change they record.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts.models import Organisation, User
from portal.core import audit, clock
from portal.core.documents import codes, render, sign, store
from portal.core.documents.kinds import KINDS, DocumentKind
from portal.core.documents.models import LANGUAGE_PAIR, Document
from portal.core.exceptions import Conflict
from portal.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Party:
    """An organisation as a document prints it."""

    id: int
    name_ko: str
    name_en: str

    @classmethod
    def of(cls, organisation: Organisation) -> Party:
        return cls(organisation.id, organisation.name_ko, organisation.name_en)


@dataclass(frozen=True)
class Replaced:
    """The earlier document a correction replaces, as the correction prints it."""

    id: int
    reference: str
    issued_at: datetime
    kind: DocumentKind

    @classmethod
    def of(cls, document: Document) -> Replaced:
        return cls(document.id, document.reference, document.issued_at, document.kind_info)


@dataclass(frozen=True)
class DocumentFacts:
    """What the base template prints about the document itself (header, footer, verification block)."""

    kind: DocumentKind
    reference: str
    title: str
    issuer: Party
    issued_at: datetime
    verification_code: str
    verification_url: str
    short_url: str
    qr_svg: str
    signer_fingerprint: str
    replaces: Replaced | None


@dataclass(frozen=True)
class Prepared:
    """A rendered and signed document, not yet stored or recorded."""

    facts: DocumentFacts
    pdf: bytes
    sha256: str
    recipient_organisation_id: int | None
    issued_by_id: int | None


def prepare_document(kind: str, template: str, context: dict, *, reference: str, issuer: Party,
                     recipient_organisation_id: int | None, title: str, replaces: Replaced | None = None,
                     subject: str | None = None, issued_by_id: int | None = None,
                     issued_at: datetime | None = None) -> Prepared:
    """Render `templates/pdf/<template>.html` with `context` (plain data only) and sign it.

    Reads nothing from the database. Raises `DocumentError` when the document cannot be made (a context
    that is not plain data, a missing glyph, a resource from outside the portal, no signing key).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}: declare it with register_kind()")
    identity = sign.signing_identity()
    issued_at = (issued_at or clock.now()).replace(microsecond=0)
    code = codes.new_verification_code()
    url = codes.verification_url(code)
    facts = DocumentFacts(
        kind=KINDS[kind], reference=reference, title=title, issuer=issuer, issued_at=issued_at,
        verification_code=code, verification_url=url, short_url=url.split("://", 1)[-1],
        qr_svg=render._qr_svg(url), signer_fingerprint=identity.fingerprint, replaces=replaces,
    )
    author = f"{issuer.name_ko} ({issuer.name_en})"
    subject = subject or f"{reference} · {facts.kind.ko} / {facts.kind.en}"
    pdf = render.render_pdf(template, context, facts=facts, author=author, subject=subject)
    signed = sign.sign_pdf(pdf, identity, title=title, author=author, subject=subject, issued_at=issued_at,
                           reason=f"{facts.kind.ko} / {facts.kind.en} {reference}")
    return Prepared(facts, signed, hashlib.sha256(signed).hexdigest(), recipient_organisation_id, issued_by_id)


def record_document(prepared: Prepared) -> Document:
    """Store the signed bytes write-once and record the row and its audit event. Flushes, never commits;
    if the transaction rolls back, the stored file is removed again. Raises `Conflict` when the document
    it replaces has been replaced meanwhile."""
    facts = prepared.facts
    replaces = db.session.get(Document, facts.replaces.id) if facts.replaces is not None else None
    if replaces is not None and replaces.replaced_by is not None:
        raise Conflict(_l("This document has already been replaced; correct the latest version."))
    storage_path = store.store(prepared.pdf, prepared.sha256)
    document = Document(
        kind=facts.kind.code, reference=facts.reference, issuer_organisation_id=facts.issuer.id,
        recipient_organisation_id=prepared.recipient_organisation_id, issued_by_id=prepared.issued_by_id,
        issued_at=facts.issued_at, language=LANGUAGE_PAIR, title=facts.title[:300], size=len(prepared.pdf),
        sha256=prepared.sha256, storage_path=storage_path,
        verification_code_hash=codes.code_hash(codes.normalise_code(facts.verification_code)),
        signer_fingerprint=facts.signer_fingerprint, replaces=replaces,
    )
    db.session.add(document)
    db.session.flush()
    actor = db.session.get(User, prepared.issued_by_id) if prepared.issued_by_id is not None else None
    audit.record("document.issued", document, actor=actor, organisation_id=facts.issuer.id,
                 details={"kind": facts.kind.code, "reference": facts.reference, "sha256": prepared.sha256,
                          **({"replaces": replaces.id} if replaces is not None else {})})
    log.info("document %s issued (%s, %d bytes)", document.id, facts.kind.code, len(prepared.pdf))
    return document


def issue_document(kind: str, template: str, context: dict, *, reference: str, issuer: Organisation | int,
                   recipient_organisation_id: int | None, title: str, replaces: Document | None = None,
                   subject: str | None = None, issued_by: User | None = None,
                   issued_at: datetime | None = None) -> Document:
    """Render `templates/pdf/<template>.html` with `context`, sign, store and record it; return the row.

    `kind` must be registered (`register_kind`). `context` is plain data (see `render.check_plain`).
    `title` goes into the PDF metadata (both languages are welcome: "요청 통지서 / Request notice
    KCSC-2026-000123"). `replaces` makes this document the correction of an earlier one of the same
    issuer. `issued_by` is the acting user, recorded and audited (default: the current user, if any).
    `issued_at` is the moment of the thing the document records (default: now), to the second. Flushes,
    never commits. Raises `DocumentError` when the document cannot be made, `Conflict` when `replaces`
    has already been replaced.
    """
    if isinstance(issuer, int):
        issuer = db.session.get(Organisation, issuer)
    if issued_by is None and has_request_context() and current_user.is_authenticated:
        issued_by = current_user._get_current_object()
    if replaces is not None:
        if replaces.issuer_organisation_id != issuer.id:
            raise ValueError("a document can only be corrected by its own issuer")
        if replaces.replaced_by is not None:
            raise Conflict(_l("This document has already been replaced; correct the latest version."))
    prepared = prepare_document(
        kind, template, context, reference=reference, issuer=Party.of(issuer),
        recipient_organisation_id=recipient_organisation_id, title=title,
        replaces=Replaced.of(replaces) if replaces is not None else None, subject=subject,
        issued_by_id=issued_by.id if issued_by is not None else None, issued_at=issued_at)
    return record_document(prepared)
