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

from sqlalchemy import select

from portal.accounts.models import User
from portal.commitments.models import AGENCY_SIDE, PLATFORM_SIDE, Commitment
from portal.core import clock, documents
from portal.core.audit import AuditEvent
from portal.core.documents import Document
from portal.extensions import db

COMMITMENT = documents.register_kind("commitment", "준수 서약서", "Compliance commitment").code
CERTIFICATE = documents.register_kind("commitment_certificate", "서약 증명서", "Commitment certificate").code


def _party(organisation) -> dict:
    return {"code": organisation.code, "name_ko": organisation.name_ko, "name_en": organisation.name_en}


def _commitment(c: Commitment) -> dict:
    return {"reference": c.reference, "platform": _party(c.platform), "agency": _party(c.agency),
            "template_code": c.template.code, "template_version": c.template.version,
            "title_ko": c.template.title_ko, "title_en": c.template.title_en,
            "text_ko": c.text_ko, "text_en": c.text_en,
            "effective_from": c.effective_from.isoformat(), "valid_until": c.valid_until.isoformat()}


def _title(kind: str, reference: str) -> str:
    label = documents.kind_of(kind)
    return f"{label.ko} / {label.en} {reference}"


def issue_commitment_document(by: User, c: Commitment) -> Document:
    """The canonical document of the commitment: both languages in sequence, Korean authoritative."""
    return documents.issue_document(COMMITMENT, COMMITMENT, {"commitment": _commitment(c)},
                                    reference=c.reference, issuer=c.agency, recipient_organisation_id=c.platform_id,
                                    title=_title(COMMITMENT, c.reference), issued_by=by)


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
