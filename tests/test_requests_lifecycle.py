"""The life of a request: every transition the state machine allows, every one it refuses, and four-eyes."""
import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.core.audit import AuditEvent
from portal.core.exceptions import Conflict, PermissionDenied, ValidationError
from portal.extensions import db
from portal.requests import services
from portal.requests.models import STATUSES, UNISSUED, Request, RequestEvent, RequestItem

# Each action, who does it, and what it needs besides the request.
ACTIONS = {
    "submit": ("officer", lambda by, req: services.submit_for_approval(by, req)),
    "send_back": ("supervisor", lambda by, req: services.send_back(by, req, "fix the summary")),
    "issue": ("supervisor", lambda by, req: services.issue_request(by, req)),
    "withdraw": ("officer", lambda by, req: services.withdraw(by, req, "sent by mistake")),
    "acknowledge": ("agent", lambda by, req: services.acknowledge(by, req)),
    "respond": ("agent", lambda by, req: services.submit_response(by, req)),
    "close": ("officer", lambda by, req: services.close(by, req)),
    "reopen": ("officer", lambda by, req: services.reopen(by, req, "item 2 is still online")),
}
ALLOWED = {
    "submit": {"draft"},
    "send_back": {"awaiting_approval"},
    "issue": {"awaiting_approval"},
    "withdraw": {"issued", "acknowledged", "responded_partly", "responded_fully"},
    "acknowledge": {"issued"},
    "respond": {"acknowledged", "responded_partly"},
    "close": {"responded_partly", "responded_fully"},
    "reopen": {"responded_partly", "responded_fully", "closed"},
}
ILLEGAL = [(action, status) for action in ACTIONS for status in STATUSES if status not in ALLOWED[action]]
LEGAL = [(action, status) for action in ACTIONS for status in sorted(ALLOWED[action])]


def _user(parties, who) -> User:
    return db.session.get(User, getattr(parties, who).id)


def _status(app, request_id) -> str:
    with app.app_context():
        return db.session.get(Request, request_id).status


@pytest.mark.parametrize("action,status", ILLEGAL)
def test_illegal_transition_is_refused(app, make, action, status):
    parties = make.parties()
    request_id = make.request(parties, status)
    who, run = ACTIONS[action]
    # Before it is issued a request does not exist for the platform at all (404), hence no Conflict.
    expected = PermissionDenied if who == "agent" and status in UNISSUED else Conflict
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        with pytest.raises(expected):
            run(_user(parties, who), req)
        db.session.rollback()
    assert _status(app, request_id) == status


@pytest.mark.parametrize("action,status", LEGAL)
def test_legal_transition_is_made_and_recorded(app, make, action, status):
    parties = make.parties()
    request_id = make.request(parties, status)
    who, run = ACTIONS[action]
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        if action == "respond":  # a response needs an outcome on record
            services.set_outcomes(_user(parties, "agent"), req, [services.items_page(req)[0].id], "removed")
        run(_user(parties, who), req)
        db.session.commit()
        assert req.status != status or action == "respond"
        event = db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id)
                                   .order_by(RequestEvent.id.desc())).first()
        assert event.action == action and event.from_status == status
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == f"request.{action}",
                                                          AuditEvent.object_id == str(request_id)))


def test_drafter_who_is_a_supervisor_cannot_issue_own_request(app, make):
    parties = make.parties()
    with app.test_request_context():
        supervisor = _user(parties, "supervisor")
        req = services.create_draft(supervisor, platform_id=parties.platform, request_type="removal",
                                    category="ncii", priority="urgent", legal_basis_id=None,
                                    legal_basis_text="Art. 1", summary_ko="요약", summary_en="Summary")
        services.add_items(supervisor, req, services_parse("https://example.com/x"))
        services.submit_for_approval(supervisor, req)
        with pytest.raises(Conflict):
            services.issue_request(supervisor, req)
        assert req.status == "awaiting_approval" and req.reference is None


def test_officer_cannot_issue(app, make):
    parties = make.parties()
    request_id = make.request(parties, "awaiting_approval")
    with app.test_request_context():
        with pytest.raises(PermissionDenied):
            services.issue_request(_user(parties, "officer"), db.session.get(Request, request_id))


def test_supervisor_of_another_agency_cannot_issue(app, make):
    parties, other = make.parties(), make.parties()
    request_id = make.request(parties, "awaiting_approval")
    with app.test_request_context():
        with pytest.raises(PermissionDenied) as refused:
            services.issue_request(_user(other, "supervisor"), db.session.get(Request, request_id))
        assert refused.value.obj is not None  # answered 404, not 403


def test_another_supervisor_of_the_agency_issues(app, make):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert req.approved_by_id == parties.supervisor.id != req.drafted_by_id
        assert req.reference.startswith(db.session.get(type(req.agency), parties.agency).code + "-")
        assert req.deadline is not None and req.is_open


@pytest.mark.parametrize("action", ["send_back", "withdraw", "reopen"])
def test_reason_is_required(app, make, action):
    status = {"send_back": "awaiting_approval", "withdraw": "issued", "reopen": "closed"}[action]
    parties = make.parties()
    request_id = make.request(parties, status)
    who = ACTIONS[action][0]
    run = {"send_back": services.send_back, "withdraw": services.withdraw, "reopen": services.reopen}[action]
    with app.test_request_context():
        with pytest.raises(ValidationError):
            run(_user(parties, who), db.session.get(Request, request_id), "   ")


def test_send_back_returns_the_draft_to_editing(app, make):
    parties = make.parties()
    request_id = make.request(parties, "awaiting_approval")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        services.send_back(_user(parties, "supervisor"), req, "Add the legal basis article")
        services.update_draft(_user(parties, "officer"), req, platform_id=parties.platform, request_type="removal",
                              category="deepfake", priority="urgent", legal_basis_id=None,
                              legal_basis_text="Art. 44-7", summary_ko="요약", summary_en="Summary")
        assert req.status == "draft" and req.priority == "urgent"


def test_issued_request_cannot_be_edited_or_deleted(app, make):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        with pytest.raises(Conflict):
            services.delete_draft(_user(parties, "officer"), req)
        with pytest.raises(Conflict):
            services.add_items(_user(parties, "officer"), req, services_parse("https://example.com/new"))


def test_draft_can_be_deleted(app, make):
    parties = make.parties()
    request_id = make.request(parties, "draft")
    with app.test_request_context():
        services.delete_draft(_user(parties, "officer"), db.session.get(Request, request_id))
        db.session.commit()
        assert db.session.get(Request, request_id) is None
        assert not db.session.scalar(select(RequestItem.id).where(RequestItem.request_id == request_id))


def test_outcomes_need_acknowledgement_first(app, make):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        with pytest.raises(Conflict):
            services.set_outcomes(_user(parties, "agent"), req, [services.items_page(req)[0].id], "removed")


def test_declining_requires_a_reason(app, make):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        item_id = services.items_page(req)[0].id
        with pytest.raises(ValidationError) as refused:
            services.set_outcomes(_user(parties, "agent"), req, [item_id], "declined", "")
        assert refused.value.field == "decline_reason"
        services.set_outcomes(_user(parties, "agent"), req, [item_id], "declined", "Lawful satire")
        assert db.session.get(RequestItem, item_id).decline_reason == "Lawful satire"


def test_outcomes_for_many_items_at_once(app, make):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged", urls=tuple(f"https://example.com/{n}" for n in range(30)))
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        ids = [item.id for item in services.items_page(req)]
        assert services.set_outcomes(_user(parties, "agent"), req, ids, "blocked_kr") == 30
        assert services.submit_response(_user(parties, "agent"), req) == "responded_fully"


def test_items_of_another_request_cannot_be_answered(app, make):
    parties = make.parties()
    first, second = make.request(parties, "acknowledged"), make.request(parties, "acknowledged")
    with app.test_request_context():
        other_item = services.items_page(db.session.get(Request, second))[0].id
        with pytest.raises(ValidationError):
            services.set_outcomes(_user(parties, "agent"), db.session.get(Request, first), [other_item], "removed")


def test_partial_answer_then_full_answer(app, make):
    parties = make.parties()
    request_id = make.request(parties, "responded_partly")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        assert req.status == "responded_partly" and req.is_open
        ids = [item.id for item in services.items_page(req)]
        services.set_outcomes(_user(parties, "agent"), req, ids[1:], "needs_information")
        assert services.submit_response(_user(parties, "agent"), req) == "responded_partly"
        services.set_outcomes(_user(parties, "agent"), req, ids[1:], "not_found")
        assert services.submit_response(_user(parties, "agent"), req) == "responded_fully"
        assert not req.is_open


def test_reopen_starts_a_new_deadline(app, make):
    parties = make.parties()
    request_id = make.request(parties, "closed")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        services.reopen(_user(parties, "officer"), req, "Still reachable")
        assert req.status == "acknowledged" and req.deadline_reason == "reopened" and req.is_open


def test_extension_granted_moves_the_deadline(app, make):
    from datetime import timedelta

    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        old = req.deadline
        extension = services.request_extension(_user(parties, "agent"), req, "Legal review needed")
        with pytest.raises(Conflict):  # one at a time
            services.request_extension(_user(parties, "agent"), req, "again")
        with pytest.raises(PermissionDenied):  # officers do not decide
            services.grant_extension(_user(parties, "officer"), req, extension, old + timedelta(days=2))
        with pytest.raises(ValidationError):
            services.grant_extension(_user(parties, "supervisor"), req, extension, old - timedelta(hours=1))
        services.grant_extension(_user(parties, "supervisor"), req, extension, old + timedelta(days=2))
        assert req.deadline == old + timedelta(days=2) and extension.previous_deadline == old
        with pytest.raises(Conflict):
            services.refuse_extension(_user(parties, "supervisor"), req, extension, "no")


def test_extension_refused_keeps_the_deadline(app, make):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        old = req.deadline
        extension = services.request_extension(_user(parties, "agent"), req, "Holiday")
        services.refuse_extension(_user(parties, "supervisor"), req, extension, "Urgent harm")
        assert extension.status == "refused" and req.deadline == old


def test_extension_only_while_open(app, make):
    parties = make.parties()
    request_id = make.request(parties, "closed")
    with app.test_request_context():
        with pytest.raises(Conflict):
            services.request_extension(_user(parties, "agent"), db.session.get(Request, request_id), "late")


def test_messages_only_once_issued_and_notes_only_for_the_agency(app, make):
    parties = make.parties()
    draft, issued = make.request(parties, "draft"), make.request(parties, "issued")
    with app.test_request_context():
        with pytest.raises(Conflict):
            services.post_message(_user(parties, "officer"), db.session.get(Request, draft), "hello")
        services.post_message(_user(parties, "agent"), db.session.get(Request, issued), "We are on it")
        with pytest.raises(PermissionDenied):
            services.add_note(_user(parties, "agent"), db.session.get(Request, issued), "internal?")
        services.add_note(_user(parties, "officer"), db.session.get(Request, issued), "Call them on Monday")
        assert services.notes(_user(parties, "agent"), db.session.get(Request, issued)) == []


def test_sent_back_reason_is_not_shown_to_the_platform(app, make):
    parties = make.parties()
    request_id = make.request(parties, "awaiting_approval")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        services.send_back(_user(parties, "supervisor"), req, "Internal: wrong platform?")
        services.submit_for_approval(_user(parties, "officer"), req)
        services.issue_request(_user(parties, "supervisor"), req)
        reasons = [e.reason for e in services.history(_user(parties, "agent"), req)]
        assert "Internal: wrong platform?" not in reasons
        assert "Internal: wrong platform?" in [e.reason for e in services.history(_user(parties, "officer"), req)]


def services_parse(*lines):
    from portal.requests.urls import parse_lines

    return parse_lines("\n".join(lines))
