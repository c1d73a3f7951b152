"""Deadlines: the periodic tick that marks overdue requests and sends reminders."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from portal.core import clock, events
from portal.core.exceptions import Conflict
from portal.extensions import db
from portal.requests.models import Request
from portal.requests.services.recipients import (
    _contacts,
    _issuing_supervisor,
    _notify,
    _notify_contact,
    _platform_users,
    _unique,
)
from portal.requests.services.states import step


def tick(now: datetime | None = None) -> dict[str, int]:
    """Mark overdue and very overdue requests, send reminders and escalations; each once per deadline.

    Idempotent and safe to run concurrently: each mark is a workflow step taken under the request's row
    lock that re-checks the mark and the deadline, and only the run that made the mark sends the
    notifications.
    """
    now = now or clock.now()
    counts = {"reminded": 0, "overdue": 0, "very_overdue": 0}
    # A request whose notice is still being prepared is not the platform's yet: no reminders either.
    open_ = and_(Request.is_open.is_(True), Request.notice_ready_at.isnot(None))
    for request_id in db.session.scalars(select(Request.id).where(
            open_, Request.reminded_at.is_(None), Request.remind_at <= now, Request.deadline > now)):
        req = _mark(request_id, "reminder_sent", "reminded_at", now,
                    lambda req: req.remind_at is not None and req.remind_at <= now < req.deadline)
        if req is not None:
            for user in _platform_users(req):
                _notify("deadline_reminder", user, req)
            events.emit("request.deadline_approaching", req=req, occurred_at=now)
            counts["reminded"] += 1
    for request_id in db.session.scalars(select(Request.id).where(
            open_, Request.overdue_at.is_(None), Request.deadline <= now)):
        req = _mark(request_id, "overdue", "overdue_at", now, lambda req: req.deadline <= now)
        if req is not None:
            for user in _unique(_platform_users(req) + _issuing_supervisor(req)):
                _notify("deadline_overdue", user, req)
            events.emit("request.overdue", req=req, occurred_at=now)
            counts["overdue"] += 1
    for request_id in db.session.scalars(select(Request.id).where(
            open_, Request.very_overdue_at.is_(None), Request.very_overdue_from <= now)):
        req = _mark(request_id, "very_overdue", "very_overdue_at", now,
                    lambda req: req.very_overdue_from is not None and req.very_overdue_from <= now)
        if req is not None:
            # Escalation: the platform's administrators and designated contacts, and the supervisor who issued it.
            users = _unique(_platform_users(req, roles=("platform_admin",)) + _issuing_supervisor(req))
            for user in users:
                _notify("deadline_escalation", user, req)
            for contact in _contacts(req, skip={user.email for user in users}):
                _notify_contact("deadline_escalation", contact, req)
            counts["very_overdue"] += 1
    return counts


def _mark(request_id: int, action: str, column: str, now: datetime, due) -> Request | None:
    """Take the system step `action`, setting `column` to `now`, unless under the lock the request is no
    longer open, already marked or no longer `due`; the request when this run made the mark."""
    req = db.session.get(Request, request_id)

    def claim(req):
        if getattr(req, column) is not None or not due(req):
            raise Conflict(_l("The request is no longer open."))
        setattr(req, column, now)

    try:
        step(None, req, action, prepare=claim, at=now)
    except Conflict:
        return None
    return req
