"""A notice is prepared after the commit that issues its request, with no transaction open while it
renders; the platform sees the request (inbox, page, API, e-mail) only once the signed notice exists; a job
prepares any notice a crashed process left pending, exactly once."""
import sqlite3
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.core import clock, documents, jobs
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.requests import notices
from portal.requests.models import Request
from tests.api_support import api_as
from tests.documents_support import stand_in_pdf
from tests.factories import Auth


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _state(app, request_id):
    with app.app_context():
        req = db.session.get(Request, request_id)
        notices_ = _count(documents.Document, documents.Document.reference == req.reference,
                          documents.Document.kind == notices.NOTICE)
        mails = _count(OutboxMessage, OutboxMessage.template == "request_issued")
        return req.status, req.reference, req.notice_ready_at, notices_, mails


@pytest.fixture
def failing_renderer(monkeypatch):
    """The renderer breaks (as a process would die) until the test repairs it."""
    state = {"broken": True}

    def write(html, **kwargs):
        if state["broken"]:
            raise documents.DocumentRenderError("the process died while rendering")
        return stand_in_pdf(html, **kwargs)

    monkeypatch.setattr(documents.render, "write_pdf", write)
    return state


def test_issuing_prepares_the_notice_after_the_commit_and_then_tells_the_platform(app, make):
    status, reference, ready_at, notices_, mails = _state(app, make.request(make.parties(), "issued"))
    assert status == "issued" and reference and ready_at is not None
    assert notices_ == 1 and mails == 2  # the platform's agent and admin


def test_the_notice_renders_with_no_transaction_open(app, make, monkeypatch):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the SQLite write lock is what this test probes")
    seen = {}

    def write(html, **kwargs):
        # Another connection can take the writer's lock at once, and already sees the issued request.
        path = db.engine.url.database
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            seen["reference"] = other.execute("SELECT reference FROM requests WHERE status = 'issued'").fetchone()
            other.execute("ROLLBACK")
        finally:
            other.close()
        seen["in_transaction"] = db.session().in_transaction()
        return stand_in_pdf(html, **kwargs)

    monkeypatch.setattr(documents.render, "write_pdf", write)
    request_id = make.request(make.parties(), "issued")
    assert seen["reference"][0] and seen["in_transaction"] is False
    assert _state(app, request_id)[3] == 1


def test_the_platform_sees_nothing_until_the_notice_exists(app, make, client, failing_renderer):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    status, reference, ready_at, notices_, mails = _state(app, request_id)
    assert status == "issued" and reference and ready_at is None and notices_ == 0 and mails == 0

    auth = Auth(client, make)
    auth.login(parties.agent)
    assert reference not in client.get("/requests/?status=all").get_data(as_text=True)
    assert client.get(f"/requests/{request_id}").status_code == 404
    assert api_as(app, client, parties.agent).get(f"/requests/{request_id}").status_code == 404
    auth.logout()
    auth.login(parties.supervisor)
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "Notice being prepared" in page
    assert "통지서 준비 중" in client.get(f"/requests/{request_id}?lang=ko").get_data(as_text=True)


def test_the_job_prepares_a_pending_notice_once(app, make, client, failing_renderer):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    failing_renderer["broken"] = False
    with app.app_context():
        jobs.run_round()  # too soon: the issuing process may still be rendering it
    assert _state(app, request_id)[2] is None
    with time_machine.travel(clock.now() + timedelta(minutes=3), tick=False):
        with app.app_context():
            assert jobs.run_round()["requests.prepare_notices"] == {"pending": 1}
        with app.app_context():
            assert jobs.run_round()["requests.prepare_notices"] == {"pending": 0}
    _status, _reference, ready_at, notices_, mails = _state(app, request_id)
    assert ready_at is not None and notices_ == 1 and mails == 2

    auth = Auth(client, make)
    auth.login(parties.agent)
    assert client.get(f"/requests/{request_id}").status_code == 200


def test_preparing_twice_records_one_notice(app, make):
    request_id = make.request(make.parties(), "issued")
    with app.test_request_context():
        assert notices.prepare_notice(request_id) is False
    assert _state(app, request_id)[3:] == (1, 2)


def test_a_rolled_back_issue_prepares_nothing(app, make):
    request_id = make.request(make.parties(), "awaiting_approval")
    from portal.accounts.models import User
    from portal.core.transaction import unit_of_work
    from portal.requests import services

    with app.test_request_context():
        req = db.session.get(Request, request_id)
        supervisor = db.session.scalar(select(User).where(User.role == "regulator_supervisor"))
        with pytest.raises(RuntimeError), unit_of_work():
            services.issue_request(supervisor, req)
            raise RuntimeError("the request failed after issuing")
    status, reference, _ready, notices_, mails = _state(app, request_id)
    assert status == "awaiting_approval" and reference is None and notices_ == 0 and mails == 0


# --- The documents of a step: withdrawal notice, closure certificate -----------------------------------------

def _step_state(app, request_id, kind, template):
    with app.app_context():
        req = db.session.get(Request, request_id)
        documents_ = _count(documents.Document, documents.Document.reference == req.reference,
                            documents.Document.kind == kind)
        return req.status, documents_, _count(OutboxMessage, OutboxMessage.template == template)


def _take(app, make, parties, request_id, action):
    from portal.accounts.models import User
    from portal.core.transaction import unit_of_work
    from portal.requests import services

    with app.test_request_context(), unit_of_work():
        req, officer = db.session.get(Request, request_id), db.session.get(User, parties.officer.id)
        if action == "close":
            services.close(officer, req)
        else:
            services.withdraw(officer, req, "Issued to the wrong platform")


@pytest.mark.parametrize("action, kind, template", [("close", notices.CLOSURE, "request_closed"),
                                                    ("withdraw", notices.WITHDRAWAL, "request_withdrawn")])
def test_a_steps_document_renders_after_the_commit_and_the_platform_is_told_then(app, make, monkeypatch,
                                                                                   action, kind, template):
    parties = make.parties()
    request_id = make.request(parties, "responded_fully")
    seen = {}

    def write(html, **kwargs):
        seen["in_transaction"] = db.session().in_transaction()
        with app.app_context():  # the step is committed and visible while its document renders
            seen["status"] = db.session.get(Request, request_id).status
        return stand_in_pdf(html, **kwargs)

    monkeypatch.setattr(documents.render, "write_pdf", write)
    _take(app, make, parties, request_id, action)
    assert seen == {"in_transaction": False, "status": "closed" if action == "close" else "withdrawn"}
    assert _step_state(app, request_id, kind, template)[1:] == (1, 2)  # one document, agent and admin told


@pytest.mark.parametrize("action, kind, template", [("close", notices.CLOSURE, "request_closed"),
                                                    ("withdraw", notices.WITHDRAWAL, "request_withdrawn")])
def test_the_job_prepares_a_pending_step_document_once(app, make, failing_renderer, action, kind, template):
    failing_renderer["broken"] = False
    parties = make.parties()
    request_id = make.request(parties, "responded_fully")
    failing_renderer["broken"] = True
    _take(app, make, parties, request_id, action)
    status, documents_, mails = _step_state(app, request_id, kind, template)
    assert status in ("closed", "withdrawn") and documents_ == 0 and mails == 0  # the step stands, not yet told

    failing_renderer["broken"] = False
    with app.app_context():
        jobs.run_round()  # too soon
    assert _step_state(app, request_id, kind, template)[1] == 0
    with time_machine.travel(clock.now() + timedelta(minutes=3), tick=False):
        with app.app_context():
            assert jobs.run_round()["requests.prepare_notices"] == {"pending": 1}
        with app.app_context():
            assert jobs.run_round()["requests.prepare_notices"] == {"pending": 0}
    assert _step_state(app, request_id, kind, template)[1:] == (1, 2)


def test_preparing_a_step_document_twice_records_it_once(app, make):
    from portal.requests.models import RequestEvent

    request_id = make.request(make.parties(), "closed")
    with app.app_context():
        event_id = db.session.scalar(select(RequestEvent.id).where(RequestEvent.request_id == request_id,
                                                                  RequestEvent.action == "close"))
        db.session.rollback()
    with app.test_request_context():
        assert notices.prepare_step_document(event_id) is False
    assert _step_state(app, request_id, notices.CLOSURE, "request_closed")[1:] == (1, 2)
