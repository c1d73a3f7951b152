"""What a consultation sends: the proposed times, the invitation with its calendar part, reschedules,
cancellations and reminders, each in its recipient's language and zone, through the outbox.

The calendar file follows RFC 5546 (see portal/consultations/calendar): METHOD in the file equals
`method=` in the MIME part, the UID never changes, and SEQUENCE is the consultation's own, raised by the
services before a reschedule or a cancellation is sent.
"""
from __future__ import annotations

from datetime import timedelta

from portal.accounts.models import User
from portal.consultations import calendar
from portal.consultations.calendar import Attendee, CalendarEvent
from portal.consultations.models import Consultation, Slot
from portal.core import clock, links, outbox
from portal.extensions import db


def calendar_event(consultation: Consultation, language: str) -> CalendarEvent:
    """The consultation as a calendar sees it; `language` chooses the description's language."""
    agenda = "\n".join(f"{n}. {item.title(language)}" for n, item in enumerate(consultation.agenda, 1))
    purpose = consultation.purpose(language)
    description = "\n\n".join(part for part in (purpose, agenda, _link(consultation, language)) if part)
    organiser = consultation.created_by
    place = consultation.location + (f", {consultation.room}" if consultation.room else "")
    return CalendarEvent(
        uid=consultation.uid, sequence=consultation.sequence, start=consultation.starts_at,
        duration=consultation.duration, timezone=consultation.timezone,
        summary=f"{consultation.title_ko} / {consultation.title_en}", description=description,
        organizer_email=organiser.email, organizer_name=f"{organiser.name} ({consultation.organiser.name(language)})",
        location=place if consultation.format != "video" else consultation.video_url,
        url=consultation.video_url,
        attendees=tuple(Attendee(p.user.email, p.user.name, p.organisation.code)
                        for p in consultation.participants if p.user.active),
    )


def publication(consultation: Consultation, language: str) -> bytes:
    """The "add to my calendar" file: METHOD:PUBLISH, nobody asked to answer."""
    return calendar.publication(calendar_event(consultation, language), now=clock.now())


def times_proposed(consultation: Consultation) -> None:
    for user in _invited_people(consultation):
        _email("consultation_proposed", user, consultation)


def counter_proposed(consultation: Consultation, slot: Slot) -> None:
    _email("consultation_counter", consultation.created_by, consultation, slot=slot)


def invite(consultation: Consultation, *, reason: str | None = None, documents: dict | None = None) -> None:
    """The invitation (SEQUENCE 0) or a reschedule (SEQUENCE n): METHOD:REQUEST to every participant.

    `documents`: the invitation PDFs just issued, by recipient organisation id; each invited person's
    e-mail carries the one addressed to their organisation (the organiser's people have none)."""
    from portal.core.documents import read_document

    template = "consultation_rescheduled" if reason else "consultation_invitation"
    pdfs = {organisation_id: outbox.Attachment(f"meeting-invitation-{document.reference}.pdf", "application/pdf",
                                               read_document(document))
            for organisation_id, document in (documents or {}).items()}
    for user in _participants(consultation):
        event = calendar_event(consultation, user.language)
        data = calendar.invitation(event, now=clock.now())
        attachments = [outbox.Attachment("invitation.ics", calendar.content_type(calendar.REQUEST), data)]
        if user.organisation_id in pdfs:
            attachments.append(pdfs[user.organisation_id])
        _email(template, user, consultation, reason=reason, attachments=attachments)


def cancelled(consultation: Consultation, *, reason: str) -> None:
    for user in _participants(consultation):
        data = calendar.cancellation(calendar_event(consultation, user.language), now=clock.now())
        _email("consultation_cancelled", user, consultation, reason=reason, with_calendar=True, attachments=[
            outbox.Attachment("cancellation.ics", calendar.content_type(calendar.CANCEL), data)])


def proposal_withdrawn(consultation: Consultation, *, reason: str) -> None:
    for user in _invited_people(consultation):
        _email("consultation_cancelled", user, consultation, reason=reason, with_calendar=False)


def reminder(consultation: Consultation, offset_minutes: int) -> int:
    """Remind everyone who has not declined; returns how many e-mails were queued."""
    sent = 0
    for participant in consultation.participants:
        if participant.rsvp == "declined" or not participant.user.active:
            continue
        _email("consultation_reminder", participant.user, consultation, offset_minutes=offset_minutes)
        sent += 1
    return sent


def _participants(consultation: Consultation) -> list[User]:
    return [p.user for p in consultation.participants if p.user.active]


def _invited_people(consultation: Consultation) -> list[User]:
    invited = consultation.invited_organisation_ids
    return [p.user for p in consultation.participants if p.user.active and p.organisation_id in invited]


def _link(consultation: Consultation, language: str) -> str:
    return links.absolute("consultations.detail", consultation_id=consultation.id, lang=language)


def _email(template: str, user: User, consultation: Consultation, *, attachments=(), **context) -> None:
    outbox.enqueue_email(template, recipient=user.email, language=user.language, user_id=user.id,
                         attachments=attachments, consultation=consultation, recipient_user=user,
                         link=_link(consultation, user.language), **context)
    db.session.flush()


def reminders_due(consultation: Consultation):
    """Offsets whose reminder is due now for the current start, oldest first, skipping those that fell
    before the time was fixed (the invitation itself told people then)."""
    if consultation.starts_at is None:
        return []
    now = clock.now()
    due = []
    for offset in sorted(consultation.reminders, reverse=True):
        moment = consultation.starts_at - timedelta(minutes=offset)
        if moment <= now < consultation.starts_at and (consultation.scheduled_at or now) <= moment:
            due.append(offset)
    return due
