"""The worker's job for action items: remind the owner a few days before the due date and once it is
overdue, each once, whatever the number of workers or rounds (a conditional update claims each reminder)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from portal.core import audit, clock
from portal.extensions import db
from portal.minutes import notices
from portal.minutes.models import ActionItem

# How many days before the due date (KST) the owner is reminded.
DUE_SOON_DAYS = 3


def send_reminders() -> dict:
    today = clock.now().astimezone(clock.KST).date()
    due = overdue = 0
    candidates = db.session.scalars(select(ActionItem).where(
        ActionItem.status == "open", ActionItem.due_on <= today + timedelta(days=DUE_SOON_DAYS),
        (ActionItem.reminded_due_at.is_(None)) | (ActionItem.reminded_overdue_at.is_(None)))
        .order_by(ActionItem.due_on, ActionItem.id))
    for item in list(candidates):
        if item.due_on < today:
            if _claim(item, ActionItem.reminded_overdue_at):
                overdue += notices.reminder(item, overdue=True)
                audit.record("action_item.overdue_reminded", item, actor=None,
                             organisation_id=item.owner_organisation_id)
        elif item.reminded_due_at is None and _claim(item, ActionItem.reminded_due_at):
            due += notices.reminder(item, overdue=False)
            audit.record("action_item.due_reminded", item, actor=None, organisation_id=item.owner_organisation_id)
    return {"due": due, "overdue": overdue}


def _claim(item: ActionItem, column) -> bool:
    """Set the reminder's moment unless another round already did: exactly one claimant wins."""
    result = db.session.execute(update(ActionItem).where(ActionItem.id == item.id, column.is_(None))
                                .values({column.key: clock.now()}).execution_options(synchronize_session=False))
    return result.rowcount == 1
