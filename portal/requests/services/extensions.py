"""Extensions of the deadline: the platform asks, a supervisor grants or refuses."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import User
from portal.core import clock, policy
from portal.core.exceptions import Conflict, NotFound
from portal.extensions import db
from portal.requests import deadlines, notices
from portal.requests.models import ExtensionRequest, Request
from portal.requests.services.common import MAX_REASON, _reason
from portal.requests.services.recipients import _agency_supervisors, _notify, _platform_users
from portal.requests.services.states import step


def request_extension(by: User, req: Request, reason: str, requested_until: datetime | None = None) -> ExtensionRequest:
    """The platform asks for more time. At most one request waits for a decision: the step is taken under
    the request's row lock, and a partial unique index on pending extensions holds it in the database."""
    policy.require(by, "request.respond", req)
    reason = _reason(reason)
    created = {}

    def ask(req):
        if _pending_extension(req) is not None:
            raise Conflict(_l("An extension request is already waiting for a decision."))
        now = clock.now()
        deadlines.check_new_deadline("requested_until", requested_until, now, after=req.deadline, required=False)
        extension = ExtensionRequest(request_id=req.id, requested_by_id=by.id, reason=reason,
                                     requested_until=requested_until, status="pending", created_at=now)
        db.session.add(extension)
        db.session.flush()
        created["extension"] = extension
        return {"extension": extension.id}

    step(by, req, "extension_requested", prepare=ask, reason=reason)
    extension = created["extension"]
    for supervisor in _agency_supervisors(req):
        _notify("extension_requested", supervisor, req, by=by, extension=extension)
    return extension


def _pending_extension(req: Request) -> ExtensionRequest | None:
    return db.session.scalar(select(ExtensionRequest).where(ExtensionRequest.request_id == req.id,
                                                            ExtensionRequest.status == "pending"))


def get_extension(req: Request, extension_id: int) -> ExtensionRequest:
    extension = db.session.get(ExtensionRequest, extension_id)
    if extension is None or extension.request_id != req.id:
        raise NotFound(_l("Extension request not found."))
    return extension


def _decidable(by: User, req: Request, extension: ExtensionRequest) -> None:
    policy.require(by, "request.decide_extension", req)
    if extension.request_id != req.id:
        raise NotFound(_l("Extension request not found."))
    if extension.status != "pending":
        raise Conflict(_l("This extension request has already been decided."))


def _still_pending(extension: ExtensionRequest) -> None:
    """Under the request's lock: re-read the extension, which a concurrent decision may have decided."""
    db.session.refresh(extension)
    if extension.status != "pending":
        raise Conflict(_l("This extension request has already been decided."))


def grant_extension(by: User, req: Request, extension: ExtensionRequest, new_deadline: datetime,
                    reason: str | None = None) -> None:
    """A supervisor of the agency grants more time: the new deadline replaces the old one."""
    _decidable(by, req, extension)

    def grant(req):
        _still_pending(extension)
        now = clock.now()
        deadlines.check_new_deadline("new_deadline", new_deadline, now, after=req.deadline)
        extension.status, extension.decided_by_id, extension.decided_at = "granted", by.id, now
        extension.decision_reason = (reason or "").strip()[:MAX_REASON] or None
        extension.previous_deadline, extension.new_deadline = req.deadline, new_deadline
        deadlines.extend(req, new_deadline, now)
        return {"extension": extension.id, "previous_deadline": extension.previous_deadline.isoformat(),
                "new_deadline": req.deadline.isoformat()}

    step(by, req, "extension_granted", prepare=grant, reason=(reason or "").strip()[:MAX_REASON] or None)
    notices.issue_extension_decision(by, req, extension)
    for user in _platform_users(req):
        _notify("extension_decided", user, req, extension=extension)


def refuse_extension(by: User, req: Request, extension: ExtensionRequest, reason: str) -> None:
    _decidable(by, req, extension)
    reason = _reason(reason)

    def refuse(req):
        _still_pending(extension)
        extension.status, extension.decided_by_id, extension.decided_at = "refused", by.id, clock.now()
        extension.decision_reason = reason
        return {"extension": extension.id}

    step(by, req, "extension_refused", prepare=refuse, reason=reason)
    notices.issue_extension_decision(by, req, extension)
    for user in _platform_users(req):
        _notify("extension_decided", user, req, extension=extension)
