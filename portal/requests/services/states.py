"""The request's state machine: which action applies in which state, and the status change."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.core import audit, clock
from portal.core.exceptions import Conflict
from portal.requests.models import (
    ACKNOWLEDGED,
    AWAITING_APPROVAL,
    CLOSED,
    DRAFT,
    ISSUED,
    OPEN,
    RESPONDED_FULLY,
    RESPONDED_PARTLY,
    WITHDRAWN,
    Request,
)
from portal.requests.services.common import _event


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: decided by the service (submit_response)
    refusal: object


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({DRAFT}), AWAITING_APPROVAL,
                         _l("Only a draft can be submitted for approval.")),
    "send_back": Transition(frozenset({AWAITING_APPROVAL}), DRAFT,
                            _l("Only a request awaiting approval can be sent back.")),
    "issue": Transition(frozenset({AWAITING_APPROVAL}), ISSUED,
                        _l("Only a request awaiting approval can be approved and issued.")),
    "withdraw": Transition(frozenset({ISSUED, ACKNOWLEDGED, RESPONDED_PARTLY, RESPONDED_FULLY}), WITHDRAWN,
                           _l("Only an issued request that is not closed can be withdrawn.")),
    "acknowledge": Transition(frozenset({ISSUED}), ACKNOWLEDGED,
                              _l("Only a newly issued request can be acknowledged.")),
    "respond": Transition(frozenset({ACKNOWLEDGED, RESPONDED_PARTLY}), None,
                          _l("A response can be submitted only for an acknowledged request.")),
    "close": Transition(frozenset({RESPONDED_PARTLY, RESPONDED_FULLY}), CLOSED,
                        _l("Only a request the platform has answered can be closed.")),
    "reopen": Transition(frozenset({RESPONDED_PARTLY, RESPONDED_FULLY, CLOSED}), ACKNOWLEDGED,
                         _l("Only an answered or closed request can be reopened.")),
}
# States in which the platform may record outcomes (after acknowledging, before the response is final).
OUTCOME_STATES = frozenset({ACKNOWLEDGED, RESPONDED_PARTLY})


def allowed_actions(req: Request) -> set[str]:
    return {name for name, transition in TRANSITIONS.items() if req.status in transition.sources}


def _transition(by: User | None, req: Request, action: str, *, target: str | None = None,
                reason: str | None = None, internal: bool = False, details: dict | None = None) -> None:
    transition = TRANSITIONS[action]
    if req.status not in transition.sources:
        raise Conflict(transition.refusal)
    _set_status(by, req, action, target or transition.target, reason=reason, internal=internal, details=details)


def _set_status(by, req: Request, action: str, target: str, *, reason=None, internal=False, details=None):
    now = clock.now()
    source = req.status
    req.status, req.is_open, req.updated_at = target, target in OPEN, now
    _event(by, req, action, source, target, reason=reason, internal=internal, at=now)
    audit.record(f"request.{action}", req, actor=by, organisation_id=by.organisation_id if by else None,
                 details={"from": source, "to": target, **({"reason": reason} if reason else {}),
                          **(details or {})})
