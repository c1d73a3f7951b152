"""The request's workflow: every action, the states it applies in, where it leads, who may take it.

Every change of a request's state (and every step that must happen once per request, such as asking for an
extension or marking it overdue) goes through `step()`, which is `core.workflow.transition` on this table:
the row is locked, the state re-read, and a step that no longer applies is refused with `Conflict`.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.core import workflow
from portal.core.workflow import Transition
from portal.requests.models import (
    ACKNOWLEDGED,
    AWAITING_APPROVAL,
    CLOSED,
    DRAFT,
    ISSUED,
    OPEN,
    RESPONDED_FULLY,
    RESPONDED_PARTLY,
    STATUSES,
    WITHDRAWN,
    Request,
)
from portal.requests.services.common import _event

_ANSWERED = frozenset({RESPONDED_PARTLY, RESPONDED_FULLY})
_NO_LONGER_OPEN = _l("The request is no longer open.")

TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("submit", frozenset({DRAFT}), AWAITING_APPROVAL, "request.draft",
               _l("Only a draft can be submitted for approval.")),
    Transition("send_back", frozenset({AWAITING_APPROVAL}), DRAFT, "request.approve",
               _l("Only a request awaiting approval can be sent back.")),
    Transition("issue", frozenset({AWAITING_APPROVAL}), ISSUED, "request.approve",
               _l("Only a request awaiting approval can be approved and issued.")),
    Transition("withdraw", frozenset({ISSUED, ACKNOWLEDGED, RESPONDED_PARTLY, RESPONDED_FULLY}), WITHDRAWN,
               "request.withdraw", _l("Only an issued request that is not closed can be withdrawn.")),
    Transition("acknowledge", frozenset({ISSUED}), ACKNOWLEDGED, "request.respond",
               _l("Only a newly issued request can be acknowledged.")),
    # The target (partly or fully answered) is decided under the lock from the items' outcomes.
    Transition("respond", frozenset({ACKNOWLEDGED, RESPONDED_PARTLY}), None, "request.respond",
               _l("A response can be submitted only for an acknowledged request.")),
    Transition("close", _ANSWERED, CLOSED, "request.close",
               _l("Only a request the platform has answered can be closed.")),
    Transition("reopen", _ANSWERED | {CLOSED}, ACKNOWLEDGED, "request.close",
               _l("Only an answered or closed request can be reopened.")),
    # Steps that keep the state but must be serialised on the request's row.
    Transition("extension_requested", OPEN, None, "request.respond",
               _l("An extension can be asked only while the request is open.")),
    Transition("extension_granted", OPEN, None, "request.decide_extension", _NO_LONGER_OPEN),
    Transition("extension_refused", OPEN, None, "request.decide_extension", _NO_LONGER_OPEN),
    Transition("reminder_sent", OPEN, None, None, _NO_LONGER_OPEN),
    Transition("overdue", OPEN, None, None, _NO_LONGER_OPEN),
    Transition("very_overdue", OPEN, None, None, _NO_LONGER_OPEN),
)}
# Actions that change the status (the others keep it).
STATUS_ACTIONS = frozenset({"submit", "send_back", "issue", "withdraw", "acknowledge", "respond", "close",
                            "reopen"})
# States in which the platform may record outcomes (after acknowledging, before the response is final).
OUTCOME_STATES = frozenset({ACKNOWLEDGED, RESPONDED_PARTLY})
assert all(t.sources <= set(STATUSES) for t in TRANSITIONS.values())


def _history(req: Request, by, action, source, target, *, reason=None, internal=False, at=None) -> None:
    if target is not None:
        req.is_open = target in OPEN
    _event(by, req, action, source, target, reason=reason, internal=internal, at=at)


REQUESTS = workflow.Workflow(
    name="request", model=Request, transitions=TRANSITIONS.values(), history=_history,
    # System steps (the tick) are audited under the platform the request is addressed to.
    audit_organisation=lambda req, by: req.platform_id,
)


def allowed_actions(req: Request) -> set[str]:
    """The status-changing actions that apply to `req` in its state (whoever may take them)."""
    return REQUESTS.allowed(req) & STATUS_ACTIONS


def step(by, req: Request, action: str, **kwargs) -> str | None:
    """Take `action` on `req` through the locked workflow; see `core.workflow.transition`."""
    return workflow.transition(REQUESTS, req, action, by, **kwargs)
