"""The worker's jobs for commitments: renewal reminders 60, 30 and 7 days before the end of the term (to
the platform's admins and the secretariat, each reminder once), and the expiry of commitments whose term
has ended. Each runs in its own unit of work (portal/core/jobs) and does its work once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Organisation, User
from portal.commitments.models import IN_FORCE, REMINDER_DAYS, Commitment, ReminderSent
from portal.commitments.services import _move
from portal.core import audit, clock, events, outbox
from portal.extensions import db


def _today():
    return clock.now().astimezone(clock.KST).date()


def send_renewal_reminders() -> dict:
    """Send each due reminder once: the largest offset not yet sent whose day has come."""
    today = _today()
    sent = 0
    due = db.session.scalars(select(Commitment).where(
        Commitment.status == IN_FORCE, Commitment.valid_until > today,
        Commitment.valid_until <= today + timedelta(days=max(REMINDER_DAYS))).order_by(Commitment.id))
    for commitment in due:
        left = (commitment.valid_until - today).days
        # Only the nearest offset reached: a commitment made 20 days before its end gets the 30-day one only.
        offset = min(d for d in REMINDER_DAYS if d >= left)
        if _claim(commitment, offset):
            sent += _remind(commitment, offset, left)
            audit.record("commitment.reminded", commitment, actor=None, organisation_id=commitment.agency_id,
                         details={"days_before": offset})
            events.emit("commitment.expiring", commitment=commitment, days_left=left)
    return {"reminders": sent}


def _claim(commitment: Commitment, offset: int) -> bool:
    if db.session.scalar(select(ReminderSent.id).where(ReminderSent.commitment_id == commitment.id,
                                                       ReminderSent.days_before == offset)):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ReminderSent(commitment_id=commitment.id, days_before=offset, sent_at=clock.now()))
    except IntegrityError:
        return False
    return True


def _recipients(commitment: Commitment) -> list[User]:
    secretariat = select(Organisation.id).where(Organisation.kind == "secretariat")
    return list(db.session.scalars(select(User).where(
        User.active,
        ((User.organisation_id == commitment.platform_id) & (User.role == "platform_admin"))
        | ((User.organisation_id.in_(secretariat)) & (User.role == "secretariat"))).order_by(User.id)))


def _remind(commitment: Commitment, offset: int, left: int) -> int:
    count = 0
    for user in _recipients(commitment):
        outbox.enqueue_email("commitment_renewal", recipient=user.email, language=user.language, user_id=user.id,
                             reference=commitment.reference, platform=commitment.platform,
                             valid_until=commitment.valid_until, days_left=left,
                             title=commitment.template.title(user.language))
        count += 1
    return count


def expire_commitments() -> dict:
    """Commitments in force whose last day has passed are expired."""
    today = _today()
    ended = db.session.scalars(select(Commitment).where(Commitment.status == IN_FORCE,
                                                        Commitment.valid_until < today).order_by(Commitment.id))
    count = 0
    for commitment in ended:
        _move(None, commitment, "expire")
        commitment.ended_at = clock.now()
        count += 1
    return {"expired": count}
