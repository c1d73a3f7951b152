"""Extensions of the deadline: the platform asks, a supervisor grants or refuses."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import User
from portal.core import audit, clock, policy
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.extensions import db
from portal.requests import deadlines, notices
from portal.requests.models import OPEN, ExtensionRequest, Request
from portal.requests.services.common import MAX_REASON, _event, _reason
from portal.requests.services.recipients import _agency_supervisors, _notify, _platform_users


def request_extension(by: User, req: Request, reason: str, requested_until: datetime | None = None) -> ExtensionRequest:
    policy.require(by, "request.respond", req)
    if req.status not in OPEN:
        raise Conflict(_l("An extension can be asked only while the request is open."))
    if _pending_extension(req) is not None:
        raise Conflict(_l("An extension request is already waiting for a decision."))
    reason = _reason(reason)
    if requested_until is not None and requested_until <= req.deadline:
        raise ValidationError("requested_until", _l("Choose a time after the current deadline."))
    extension = ExtensionRequest(request_id=req.id, requested_by_id=by.id, reason=reason,
                                 requested_until=requested_until, status="pending", created_at=clock.now())
    db.session.add(extension)
    db.session.flush()
    _event(by, req, "extension_requested", reason=reason)
    audit.record("request.extension_requested", req, actor=by, details={"extension": extension.id})
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
    if req.status not in OPEN:
        raise Conflict(_l("The request is no longer open."))


def grant_extension(by: User, req: Request, extension: ExtensionRequest, new_deadline: datetime,
                    reason: str | None = None) -> None:
    """A supervisor of the agency grants more time: the new deadline replaces the old one."""
    _decidable(by, req, extension)
    now = clock.now()
    if new_deadline is None or new_deadline.tzinfo is None:
        raise ValidationError("new_deadline", _l("Give the new deadline."))
    if new_deadline <= max(req.deadline, now):
        raise ValidationError("new_deadline", _l("The new deadline must be later than the current one."))
    extension.status, extension.decided_by_id, extension.decided_at = "granted", by.id, now
    extension.decision_reason = (reason or "").strip()[:MAX_REASON] or None
    extension.previous_deadline, extension.new_deadline = req.deadline, new_deadline
    deadlines.extend(req, new_deadline, now)
    req.updated_at = now
    _event(by, req, "extension_granted", reason=extension.decision_reason)
    audit.record("request.extension_granted", req, actor=by,
                 details={"extension": extension.id, "previous_deadline": extension.previous_deadline.isoformat(),
                          "new_deadline": req.deadline.isoformat()})
    notices.issue_extension_decision(by, req, extension)
    for user in _platform_users(req):
        _notify("extension_decided", user, req, extension=extension)


def refuse_extension(by: User, req: Request, extension: ExtensionRequest, reason: str) -> None:
    _decidable(by, req, extension)
    reason = _reason(reason)
    extension.status, extension.decided_by_id, extension.decided_at = "refused", by.id, clock.now()
    extension.decision_reason = reason
    _event(by, req, "extension_refused", reason=reason)
    audit.record("request.extension_refused", req, actor=by, details={"extension": extension.id})
    notices.issue_extension_decision(by, req, extension)
    for user in _platform_users(req):
        _notify("extension_decided", user, req, extension=extension)
