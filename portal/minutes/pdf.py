"""The published minutes as a PDF (the document kind `minutes`, through portal/core/documents).

Issued when a version is published, inside the transaction of the publication: the minutes of one
consultation are a few pages (no list of thousands of addresses), so rendering them while the row is locked
costs little, and the document, the e-mail that attaches it and the state change commit or roll back
together. The context is plain data built here (dicts of strings, dates and lists); the template
`templates/pdf/minutes.html` renders in the documents' sandbox and sees only that.

Participants of every organisation of the consultation download it from the minutes page (through
`minutes.view`, not the issuer/recipient rule of `document.download`, since the minutes have many
readers); anyone checks it at /verify with its reference and code.
"""
from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select

from portal.accounts.models import User
from portal.core import documents
from portal.core.documents import Document
from portal.extensions import db
from portal.minutes import labels
from portal.minutes.models import Minutes

MINUTES = documents.register_kind("minutes", "회의록", "Minutes").code
FILENAME_TYPE = "application/pdf"


def reference_of(minutes: Minutes) -> str:
    """`MIN-000042-v2`: the consultation and the version (one document per published version)."""
    return f"MIN-{minutes.consultation_id:06d}-v{minutes.version}"


def _both(text) -> dict[str, str]:
    found = {}
    for language in ("ko", "en"):
        with force_locale(language):
            found[language] = str(text)
    return found


def _person(user: User | None) -> dict | None:
    return {"name": user.name, "organisation_ko": user.organisation.name_ko,
            "organisation_en": user.organisation.name_en} if user is not None else None


def context_of(minutes: Minutes) -> dict:
    """Everything the PDF prints, as plain data."""
    from portal.minutes import actions, services

    consultation = minutes.consultation
    attendance = [{
        "id": row.id, "name": row.name, "organisation_ko": row.organisation.name_ko,
        "organisation_en": row.organisation.name_en, "status": _both(labels.ATTENDANCE_NAMES[row.status]),
        "arrived": row.arrived_section_id, "left": row.left_section_id,
        "recused": [r.section_id for r in row.recusals],
    } for row in minutes.attendance]
    titles = {s.id: {"ko": s.title_ko, "en": s.title_en} for s in minutes.sections}
    for row in attendance:
        row["arrived"] = titles.get(row["arrived"])
        row["left"] = titles.get(row["left"])
        row["recused"] = [titles[s] for s in row["recused"] if s in titles]
    sections = []
    for section in minutes.sections:
        present = services.attendance_for(minutes, section)
        sections.append({
            "position": section.position, "title_ko": section.title_ko, "title_en": section.title_en,
            "text_ko": section.text_ko, "text_en": section.text_en,
            "decisions": [{"text_ko": d.text_ko, "text_en": d.text_en} for d in section.decisions],
            "present": [f"{a.name or a.organisation.name_en} ({a.organisation.name_ko})" for a in present],
            "action_items": [{
                "text_ko": item.text_ko, "text_en": item.text_en, "due": item.due_on,
                "owner_ko": item.owner_organisation.name_ko, "owner_en": item.owner_organisation.name_en,
                "person": item.owner_user.name if item.owner_user is not None else "",
                "status": _both(labels.ACTION_STATUS_NAMES.get(item.status, item.status)),
            } for item in actions.of_section(section)],
        })
    amends = minutes.amends
    return {
        "consultation": {"title_ko": consultation.title_ko, "title_en": consultation.title_en,
                         "starts_at": consultation.starts_at, "location": consultation.location},
        "minutes": {"version": minutes.version, "approved_at": minutes.approved_at,
                    "published_at": minutes.published_at, "approved_by": _person(minutes.approved_by),
                    "amends": {"version": amends.version, "reference": reference_of(amends),
                               "published_at": amends.published_at} if amends is not None else None},
        "attendance": attendance, "sections": sections,
    }


def issue(by: User, minutes: Minutes) -> Document:
    """Render, sign, store and record the PDF of a version being published (in its transaction)."""
    db.session.flush()
    reference = reference_of(minutes)
    label = documents.kind_of(MINUTES)
    title = (f"{label.ko} / {label.en} {reference}: {minutes.consultation.title_ko} / "
             f"{minutes.consultation.title_en}")
    return documents.issue_document(
        MINUTES, "minutes", context_of(minutes), reference=reference, issuer=by.organisation,
        recipient_organisation_id=None, title=title, issued_by=by, issued_at=minutes.published_at)


def documents_of(minutes: Minutes) -> list[Document]:
    """The PDF of this version (none before it is published), newest first."""
    if minutes.published_at is None:
        return []
    return list(db.session.scalars(select(Document).where(Document.kind == MINUTES,
                                                          Document.reference == reference_of(minutes))
                                   .order_by(Document.id.desc())))


def document_of(minutes: Minutes, document_id: int) -> Document | None:
    return next((d for d in documents_of(minutes) if d.id == document_id), None)


def attachment(document: Document) -> "outbox.Attachment":
    from portal.core import outbox

    return outbox.Attachment(f"{document.reference}.pdf", FILENAME_TYPE, documents.read_document(document))
