"""Deadlines: the periodic tick that marks overdue requests and sends reminders."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from portal.core import audit, clock
from portal.extensions import db
from portal.requests.models import Request
from portal.requests.services.common import _event
from portal.requests.services.recipients import (
    _contacts,
    _issuing_supervisor,
    _notify,
    _notify_contact,
    _platform_users,
    _unique,
)
from portal.webhooks import services as webhooks


def tick(now: datetime | None = None) -> dict[str, int]:
    """Mark overdue and very overdue requests, send reminders and escalations; each once per deadline.

    Idempotent and safe to run concurrently: each mark is claimed with a conditional UPDATE, and only
    the run whose UPDATE changed the row sends the notifications.
    """
    now = now or clock.now()
    counts = {"reminded": 0, "overdue": 0, "very_overdue": 0}
    open_ = Request.is_open.is_(True)
    for request_id in db.session.scalars(select(Request.id).where(
            open_, Request.reminded_at.is_(None), Request.remind_at <= now, Request.deadline > now)):
        if _claim(request_id, Request.reminded_at, now):
            req = db.session.get(Request, request_id, populate_existing=True)
            _event(None, req, "reminder_sent", at=now)
            audit.record("request.reminder_sent", req, actor=None, organisation_id=req.platform_id)
            for user in _platform_users(req):
                _notify("deadline_reminder", user, req)
            webhooks.announce("request.deadline_approaching", req, occurred_at=now)
            counts["reminded"] += 1
    for request_id in db.session.scalars(select(Request.id).where(
            open_, Request.overdue_at.is_(None), Request.deadline <= now)):
        if _claim(request_id, Request.overdue_at, now):
            req = db.session.get(Request, request_id, populate_existing=True)
            _event(None, req, "overdue", at=now)
            audit.record("request.overdue", req, actor=None, organisation_id=req.platform_id)
            for user in _unique(_platform_users(req) + _issuing_supervisor(req)):
                _notify("deadline_overdue", user, req)
            webhooks.announce("request.overdue", req, occurred_at=now)
            counts["overdue"] += 1
    for request_id in db.session.scalars(select(Request.id).where(
            open_, Request.very_overdue_at.is_(None), Request.very_overdue_from <= now)):
        if _claim(request_id, Request.very_overdue_at, now):
            req = db.session.get(Request, request_id, populate_existing=True)
            _event(None, req, "very_overdue", at=now)
            audit.record("request.very_overdue", req, actor=None, organisation_id=req.platform_id)
            # Escalation: the platform's administrators and designated contacts, and the supervisor who issued it.
            users = _unique(_platform_users(req, roles=("platform_admin",)) + _issuing_supervisor(req))
            for user in users:
                _notify("deadline_escalation", user, req)
            for contact in _contacts(req, skip={user.email for user in users}):
                _notify_contact("deadline_escalation", contact, req)
            counts["very_overdue"] += 1
    return counts


def _claim(request_id: int, column, now: datetime) -> bool:
    result = db.session.execute(
        update(Request).where(Request.id == request_id, column.is_(None)).values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
