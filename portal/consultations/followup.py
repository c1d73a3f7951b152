"""The worker's jobs for consultations: reminders before the start, and the agenda's freeze, which puts
every very overdue request of the invited platforms on it. Each runs in its own unit of work
(portal/core/jobs) and does its work once, whatever the number of workers or rounds."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.consultations import invitations
from portal.consultations.models import PROPOSED, SCHEDULED, Consultation, ReminderSent
from portal.core import audit, clock
from portal.extensions import db

# Reminders further ahead than this are not looked for (an offset is at most 30 days).
HORIZON = timedelta(days=31)


def send_reminders() -> dict:
    """Send each due reminder once per start time: a reschedule makes the new start's reminders due."""
    now = clock.now()
    sent = 0
    coming = db.session.scalars(select(Consultation).where(
        Consultation.status == SCHEDULED, Consultation.starts_at > now,
        Consultation.starts_at <= now + HORIZON).order_by(Consultation.starts_at))
    for consultation in coming:
        for offset in invitations.reminders_due(consultation):
            if _claim_reminder(consultation, offset):
                sent += invitations.reminder(consultation, offset)
                audit.record("consultation.reminded", consultation, actor=None,
                             organisation_id=consultation.organiser_id, details={"offset_minutes": offset})
    return {"reminders": sent}


def _claim_reminder(consultation: Consultation, offset: int) -> bool:
    """Insert the reminder's row, or learn that another round already did (the unique constraint)."""
    exists = db.session.scalar(select(ReminderSent.id).where(
        ReminderSent.consultation_id == consultation.id, ReminderSent.starts_at == consultation.starts_at,
        ReminderSent.offset_minutes == offset))
    if exists:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ReminderSent(consultation_id=consultation.id, starts_at=consultation.starts_at,
                                        offset_minutes=offset, sent_at=clock.now()))
    except IntegrityError:
        return False
    return True


def freeze_agendas() -> dict:
    """Freeze the agendas whose time has come and add, once, the invited platforms' very overdue requests."""
    from portal.consultations.services import add_very_overdue_requests

    now = clock.now()
    frozen = added = 0
    candidates = db.session.scalars(select(Consultation).where(
        Consultation.status.in_((PROPOSED, SCHEDULED)), Consultation.agenda_frozen_at.is_(None),
        Consultation.starts_at.is_not(None), Consultation.starts_at <= now + timedelta(days=30)))
    for consultation in list(candidates):
        if consultation.starts_at - timedelta(hours=consultation.agenda_freeze_hours) > now:
            continue
        query = select(Consultation).where(Consultation.id == consultation.id,
                                           Consultation.agenda_frozen_at.is_(None))
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # another worker has it
        if db.session.scalar(query) is None:
            continue
        added += add_very_overdue_requests(consultation)
        consultation.agenda_frozen_at = now
        audit.record("consultation.agenda_frozen", consultation, actor=None,
                     organisation_id=consultation.organiser_id)
        frozen += 1
    return {"frozen": frozen, "added": added}
