"""Shared pieces of the request services: limits, refusals, the history event, reach."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.core import audit, clock, policy
from portal.core.exceptions import NotFound, ValidationError
from portal.extensions import db
from portal.i18n import Number
from portal.requests.models import Request, RequestEvent, RequestItem


MAX_TEXT = 10_000
MAX_REASON = 2_000


class ItemsRefused(ValidationError):
    """Some lines of a list of items are not valid; nothing was saved. `errors` name the lines."""

    def __init__(self, errors, message=None):
        super().__init__("items", message or _l("Nothing was saved: correct the lines listed below."))
        self.errors = errors


def _event(by, req: Request, action: str, source=None, target=None, *, reason=None, internal=False, at=None):
    db.session.add(RequestEvent(request_id=req.id, actor_id=by.id if by else None, action=action,
                                from_status=source, to_status=target, reason=reason, internal=internal,
                                occurred_at=at or clock.now()))


def _reason(text: str | None, field: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(field, _l("Give a reason."))
    if len(text) > MAX_REASON:
        raise ValidationError(field, _l("Keep the reason under %(max)s characters.", max=Number(MAX_REASON)))
    return text


def _chunks(values, size: int = 500):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def get_request(user: User, request_id: int, permission: str = "request.view") -> Request:
    """The request if `user` may reach it for `permission`; another organisation's is not found (404)."""
    req = db.session.get(Request, request_id)
    if req is None:
        raise NotFound(_l("Request not found."))
    policy.require(user, permission, req)
    return req


def record_view(user: User, req: Request) -> None:
    audit.record("request.viewed", req, actor=user)


def record_item_view(user: User, req: Request, item: RequestItem) -> None:
    audit.record("request.item_viewed", req, actor=user, details={"item": item.id})
