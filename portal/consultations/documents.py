"""The meeting invitation PDF (kind `meeting_invitation`, through core/documents): bilingual, signed and
verifiable, one per invited organisation (its recipient), issued by the organiser's organisation when the
consultation is scheduled and again at each reschedule (the new one replaces the earlier one, so the
verification page of the old one says it was superseded).

It is one page (no request addresses, at most 50 agenda titles), so it is issued inside the transaction
that schedules or reschedules, before the invitations are queued: each invited person's e-mail carries
the PDF addressed to their organisation. The context is plain data built here (never an ORM object).
"""
from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.consultations.models import Consultation
from portal.core import documents
from portal.core.documents import Document
from portal.extensions import db

MEETING_INVITATION = documents.register_kind("meeting_invitation", "회의 초청장", "Meeting invitation").code
FORMAT_NAMES = {"in_person": ("대면 회의", "In person"), "video": ("화상 회의", "Video conference"),
                "hybrid": ("대면·화상 병행", "Hybrid (in person and video)")}
KIND_NAMES = {"plenary": ("협의체 전체 회의", "Plenary meeting of the body"),
              "bilateral": ("양자 협의", "Bilateral consultation")}


def reference_of(consultation: Consultation) -> str:
    """The reference the consultation's documents carry (the UID is longer than a reference may be)."""
    return f"CONS-{consultation.id:06d}"


def _organisation(organisation: Organisation) -> dict:
    return {"code": organisation.code, "name_ko": organisation.name_ko, "name_en": organisation.name_en,
            "timezone": organisation.timezone or "Asia/Seoul"}


def invitation_context(consultation: Consultation, recipient: Organisation) -> dict:
    """What the invitation prints: who invites whom, to what, when (KST, the meeting's and the recipient's
    zones), where or how, and the agenda."""
    return {
        "consultation": {
            "title_ko": consultation.title_ko, "title_en": consultation.title_en,
            "purpose_ko": consultation.purpose_ko, "purpose_en": consultation.purpose_en,
            "kind": KIND_NAMES[consultation.kind], "format": FORMAT_NAMES[consultation.format],
            "location": consultation.location if consultation.format != "video" else "",
            "room": consultation.room if consultation.format != "video" else "",
            "video_url": consultation.video_url if consultation.format != "in_person" else "",
            "timezone": consultation.timezone, "starts_at": consultation.starts_at, "ends_at": consultation.ends_at,
            "duration_minutes": consultation.duration_minutes, "sequence": consultation.sequence,
            "reschedule_reason": consultation.reschedule_reason if consultation.sequence else "",
        },
        "organiser": _organisation(consultation.organiser),
        "recipient": _organisation(recipient),
        "invitees": [_organisation(i.organisation) for i in consultation.invitees],
        "agenda": [{"title_ko": a.title_ko, "title_en": a.title_en} for a in consultation.agenda],
    }


def _current(consultation: Consultation, recipient_id: int) -> Document | None:
    return db.session.scalar(
        select(Document).where(Document.kind == MEETING_INVITATION, Document.reference == reference_of(consultation),
                               Document.recipient_organisation_id == recipient_id, ~Document.replaced_by.has())
        .order_by(Document.id.desc()).limit(1))


def issue_invitations(by: User, consultation: Consultation) -> dict[int, Document]:
    """One invitation per invited organisation for the consultation's current time; returns them by
    recipient organisation id. Flushes, never commits."""
    reference = reference_of(consultation)
    label = documents.kind_of(MEETING_INVITATION)
    issued = {}
    for invitee in consultation.invitees:
        recipient = invitee.organisation
        issued[recipient.id] = documents.issue_document(
            MEETING_INVITATION, MEETING_INVITATION, invitation_context(consultation, recipient),
            reference=reference, issuer=consultation.organiser, recipient_organisation_id=recipient.id,
            title=f"{label.ko} / {label.en} {reference}", issued_by=by, issued_at=consultation.scheduled_at,
            replaces=_current(consultation, recipient.id))
    return issued


def documents_of(user: User, consultation: Consultation) -> list[Document]:
    """The consultation's documents `user` may download (its organiser's and each recipient's), newest first."""
    return documents.documents_for(user, reference=reference_of(consultation))
