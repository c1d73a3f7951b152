"""The documents of a commitment: the canonical document (issued once, before anyone signs, its SHA-256
fixed then) and the evidence certificate (issued at countersignature): the document's hash, each
signature's record, and every event of the commitment in UTC and KST with its position in the audit chain.
Both are registered kinds of `portal.core.documents`, rendered in its sandbox from plain data built here,
signed by the portal and verifiable at /verify.

The evidence pack is a ZIP for an expert: the signed document, the certificate, the portal's signing
certificate and a manifest with the SHA-256 of each file.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import User
from portal.commitments.models import AGENCY_SIDE, PLATFORM_SIDE, Commitment
from portal.core import clock, documents
from portal.core.audit import AuditEvent
from portal.core.documents import Document
from portal.core.exceptions import Conflict
from portal.extensions import db

COMMITMENT = documents.register_kind("commitment", "준수 서약서", "Compliance commitment").code
CERTIFICATE = documents.register_kind("commitment_certificate", "서약 증명서", "Commitment certificate").code
SIGNED = documents.register_kind("signed_commitment", "서명된 준수 서약서", "Signed compliance commitment").code
# The signature fields each party's act adds, in later incremental updates of the canonical document.
PLATFORM_FIELD, AGENCY_FIELD = "PlatformSignature", "AgencyCountersignature"


def _party(organisation) -> dict:
    return {"code": organisation.code, "name_ko": organisation.name_ko, "name_en": organisation.name_en}


def _commitment(c: Commitment) -> dict:
    return {"reference": c.reference, "platform": _party(c.platform), "agency": _party(c.agency),
            "template_code": c.template.code, "template_version": c.template.version,
            "title_ko": c.template.title_ko, "title_en": c.template.title_en,
            "text_ko": c.text_ko, "text_en": c.text_en,
            "effective_from": c.effective_from, "valid_until": c.valid_until}


def _title(kind: str, reference: str) -> str:
    label = documents.kind_of(kind)
    return f"{label.ko} / {label.en} {reference}"


def issue_commitment_document(by: User, c: Commitment) -> Document:
    """The canonical document of the commitment: both languages in sequence, Korean authoritative."""
    return documents.issue_document(COMMITMENT, COMMITMENT, {"commitment": _commitment(c)},
                                    reference=c.reference, issuer=c.agency, recipient_organisation_id=c.platform_id,
                                    title=_title(COMMITMENT, c.reference), issued_by=by)


def _add_signature(pdf: bytes, c: Commitment, field: str, reason: str, location: str) -> bytes:
    """A further PAdES signature by the portal, on behalf of a signer, as an incremental update: the
    bytes signed before stay exactly as they were, so earlier signatures remain valid. With a timestamp
    authority configured (`TIMESTAMP_URL`), the signature carries its RFC 3161 timestamp; when the
    authority fails, nothing is signed (a Conflict: the whole step is undone and can be tried again)."""
    canonical = c.document
    kind = documents.kind_of(COMMITMENT)
    try:
        # The same metadata as the canonical document's, so the info dictionary and XMP agree (PDF/A).
        return documents.sign_pdf(pdf, documents.signing_identity(), title=canonical.title,
                                  author=f"{c.agency.name_ko} ({c.agency.name_en})",
                                  subject=f"{c.reference} · {kind.ko} / {kind.en}", issued_at=canonical.issued_at,
                                  reason=reason[:500], location=location[:200], field_name=field,
                                  timestamper=documents.timestamper())
    except documents.TimestampUnavailable:
        raise Conflict(_l("The timestamp authority did not answer: nothing was signed. Try again in a "
                          "moment.")) from None


def _record_signed(by: User, c: Commitment, pdf: bytes) -> Document:
    """Store the signed bytes as a document of their own (verifiable by their hash); it replaces the
    previous signed version, if any."""
    identity = documents.signing_identity()
    code = documents.new_verification_code()
    url = documents.verification_url(code)
    from portal.core.documents import render
    from portal.core.documents.issue import DocumentFacts, Party, Prepared, Replaced

    previous = c.signed_document
    facts = DocumentFacts(
        kind=documents.kind_of(SIGNED), reference=c.reference, title=_title(SIGNED, c.reference),
        issuer=Party.of(c.agency), issued_at=clock.now().replace(microsecond=0), verification_code=code,
        verification_url=url, short_url=url.split("://", 1)[-1], qr_svg=render._qr_svg(url),
        signer_fingerprint=identity.fingerprint, replaces=Replaced.of(previous) if previous is not None else None)
    return documents.record_document(Prepared(facts, pdf, hashlib.sha256(pdf).hexdigest(), c.platform_id, by.id))


def sign_for_platform(by: User, c: Commitment, signature) -> Document:
    """The platform's act: the canonical document signed on its behalf, the signer named in the
    signature's reason and location."""
    pdf = documents.read_document(c.document)
    reason = (f"Signed for {c.platform.name_en} by {signature.name}, {signature.title}; "
              f"TOTP step {signature.totp_step}; document SHA-256 {signature.document_sha256}")
    location = f"IP {signature.ip or '-'}; {signature.signed_at.isoformat()}"
    return _record_signed(by, c, _add_signature(pdf, c, PLATFORM_FIELD, reason, location))


def countersign_for_agency(by: User, c: Commitment, signature) -> Document:
    """The agency's countersignature, in a later incremental update of the platform-signed document."""
    pdf = documents.read_document(c.signed_document)
    reason = (f"Countersigned for {c.agency.name_en} by {signature.name}, {signature.title}; "
              f"TOTP step {signature.totp_step}; document SHA-256 {signature.document_sha256}")
    location = f"IP {signature.ip or '-'}; {signature.signed_at.isoformat()}"
    return _record_signed(by, c, _add_signature(pdf, c, AGENCY_FIELD, reason, location))


def _signature(signature) -> dict | None:
    if signature is None:
        return None
    return {name: getattr(signature, name) for name in (
        "side", "name", "title", "language", "consent_text", "signed_at", "ip", "user_agent", "totp_step",
        "document_sha256")}


def audit_trail(c: Commitment) -> list[dict]:
    """Every audit event of the commitment, in chain order, with its position (sequence number, hash)."""
    rows = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "commitment", AuditEvent.object_id == str(c.id)).order_by(AuditEvent.seq))
    return [{"seq": e.seq, "hash": e.hash, "action": e.action, "occurred_at": e.occurred_at, "ip": e.ip or "",
             "actor_id": e.actor_id} for e in rows]


def certificate_context(c: Commitment) -> dict:
    identity = documents.signing_identity()
    return {"commitment": _commitment(c), "document_sha256": c.document_sha256,
            "signed_sha256": c.signed_document.sha256 if c.signed_document is not None else None,
            "platform_signature": _signature(c.signature(PLATFORM_SIDE)),
            "agency_signature": _signature(c.signature(AGENCY_SIDE)),
            "events": audit_trail(c), "signer_fingerprint": identity.fingerprint}


def issue_certificate(by: User, c: Commitment) -> Document:
    db.session.flush()
    return documents.issue_document(CERTIFICATE, CERTIFICATE, certificate_context(c), reference=c.reference,
                                    issuer=c.agency, recipient_organisation_id=c.platform_id,
                                    title=_title(CERTIFICATE, c.reference), issued_by=by)


def evidence_pack(c: Commitment) -> bytes:
    """The ZIP for an expert: signed document, certificate, signing certificate, manifest of hashes."""
    files: dict[str, bytes] = {}
    if c.document is not None:
        files[f"{c.reference}-commitment.pdf"] = documents.read_document(c.document)
    if c.signed_document is not None:
        files[f"{c.reference}-signed.pdf"] = documents.read_document(c.signed_document)
    if c.certificate is not None:
        files[f"{c.reference}-certificate.pdf"] = documents.read_document(c.certificate)
    identity = documents.signing_identity()
    files["signing-certificate.der"] = identity.certificate_der
    manifest = {"reference": c.reference, "status": c.status, "document_sha256": c.document_sha256,
                "generated_at": clock.now().isoformat(), "signer_fingerprint": identity.fingerprint,
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return buffer.getvalue()
