"""core/workflow on the request table: every action from every state either moves the request (the
table's target) or is refused with Conflict, under the row lock, with its history event and audit row."""
import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core import clock, workflow
from portal.core.audit import AuditEvent
from portal.core.exceptions import Conflict, PermissionDenied
from portal.extensions import db
from portal.requests.models import STATUSES, UNISSUED, Request, RequestEvent
from portal.requests.services.states import REQUESTS, TRANSITIONS

# Who holds each permission of the table; None: a system step (the tick).
HOLDER = {"request.draft": "officer", "request.approve": "supervisor", "request.withdraw": "officer",
          "request.respond": "agent", "request.close": "officer", "request.decide_extension": "supervisor",
          None: None}
PAIRS = [(action, status) for action in TRANSITIONS for status in STATUSES]


def _expected(action: str, status: str) -> str | None:
    """What the table says, written out here rather than derived: the target, or None for a refusal."""
    step = TRANSITIONS[action]
    return (step.target or status) if status in step.sources else None


@pytest.mark.parametrize("action,status", PAIRS)
def test_every_action_from_every_state_moves_or_conflicts(app, make, action, status):
    parties = make.parties()
    request_id = make.request(parties, "draft", urls=())  # a bare draft: no notice to render
    who = HOLDER[TRANSITIONS[action].permission]
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        req.status = status  # put it straight into the state under test
        if status not in UNISSUED:  # as if its notice were ready: the platform reaches it
            req.notice_ready_at = clock.now()
        db.session.commit()
        by = db.session.get(User, getattr(parties, who).id) if who else None
        events = db.session.scalar(select(func.count()).select_from(RequestEvent))
        expected = _expected(action, status)
        unreachable = who == "agent" and status in UNISSUED  # the platform does not see it yet: 404
        if expected is None or unreachable:
            with pytest.raises(PermissionDenied if unreachable else Conflict):
                workflow.transition(REQUESTS, req, action, by)
            db.session.rollback()
            assert db.session.get(Request, request_id).status == status
            return
        result = workflow.transition(REQUESTS, req, action, by)
        assert result == expected and req.status == expected
        assert db.session.scalar(select(func.count()).select_from(RequestEvent)) == events + 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == f"request.{action}")) >= 1
        db.session.rollback()


def test_a_system_step_refuses_a_user_and_a_user_step_refuses_the_system(app, make):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        with pytest.raises(PermissionDenied):
            workflow.transition(REQUESTS, req, "overdue", db.session.get(User, parties.supervisor.id))
        with pytest.raises(PermissionDenied):
            workflow.transition(REQUESTS, req, "acknowledge", None)


def test_transition_rereads_the_state_under_the_lock(app, make):
    """Another writer moved the row since this session read it: the step no longer applies."""
    parties = make.parties()
    request_id = make.request(parties, "issued")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        assert req.status == "issued"
        # Another writer acknowledges the request behind this session's back.
        db.session.rollback()  # this session holds no lock now (SQLite: no writer's lock either)
        with db.engine.begin() as other:
            other.execute(Request.__table__.update().where(Request.id == request_id)
                          .values(status="acknowledged"))
        with pytest.raises(Conflict):
            workflow.transition(REQUESTS, req, "acknowledge", db.session.get(User, parties.agent.id))
