"""Races on one request, on PostgreSQL, with real threads: each thread has its own application context,
session and database connection, waits at a barrier, then calls the service and commits its own unit of
work. Of 8 simultaneous calls exactly one succeeds and the others end in a clean Conflict.

(SQLite serialises every writer with BEGIN IMMEDIATE, so these races cannot happen there; the HTTP-level
test against a running gunicorn lives beside the benchmarks.)
"""
import threading

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core import transaction
from portal.core.documents import Document
from portal.core.exceptions import Conflict
from portal.extensions import db
from portal.requests import notices, services
from portal.requests.models import ExtensionRequest, Request, RequestCounter, RequestEvent
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="races need PostgreSQL (PORTAL_TEST_DATABASE_URL)")

THREADS = 8


def _race(app, request_id: int, calls) -> list[str]:
    """Run `calls[i](req)` in thread i, all released at once; 'ok', 'conflict' or the error of each."""
    barrier = threading.Barrier(len(calls))
    results: list[str] = [""] * len(calls)

    def run(i):
        with app.test_request_context():
            try:
                req = db.session.get(Request, request_id)  # each reads the state before the others move it
                barrier.wait(timeout=30)
                with transaction.unit_of_work():
                    calls[i](req)
                results[i] = "ok"
            except Conflict:
                results[i] = "conflict"
            except Exception as error:  # noqa: BLE001 -- reported in the assertion
                results[i] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def _count(app, query) -> int:
    with app.app_context():
        return db.session.scalar(query)


def _documents(app, request_id: int, kinds) -> int:
    with app.app_context():
        reference = db.session.get(Request, request_id).reference
        return db.session.scalar(select(func.count()).select_from(Document)
                                 .where(Document.reference == reference, Document.kind.in_(kinds)))


def test_eight_simultaneous_approvals_issue_once(app, make):
    parties = make.parties()
    request_id = make.request(parties, "awaiting_approval")
    supervisor = parties.supervisor.id
    results = _race(app, request_id, [lambda req: services.issue_request(_user(supervisor), req)] * THREADS)
    assert sorted(results) == ["conflict"] * (THREADS - 1) + ["ok"], results
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert req.status == "issued" and req.reference.endswith("-000001")
        assert db.session.scalar(select(RequestCounter.last_number)
                                 .where(RequestCounter.agency_id == parties.agency)) == 1
    assert _documents(app, request_id, [notices.NOTICE]) == 1


def test_eight_simultaneous_acknowledgements_acknowledge_once(app, make):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    agent = parties.agent.id
    results = _race(app, request_id, [lambda req: services.acknowledge(_user(agent), req)] * THREADS)
    assert sorted(results) == ["conflict"] * (THREADS - 1) + ["ok"], results
    assert _count(app, select(func.count()).select_from(RequestEvent).where(
        RequestEvent.request_id == request_id, RequestEvent.action == "acknowledge")) == 1


def test_eight_simultaneous_extension_requests_leave_one_pending(app, make):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    agent = parties.agent.id
    results = _race(app, request_id,
                    [lambda req: services.request_extension(_user(agent), req, "we need more time")] * THREADS)
    assert sorted(results) == ["conflict"] * (THREADS - 1) + ["ok"], results
    assert _count(app, select(func.count()).select_from(ExtensionRequest).where(
        ExtensionRequest.request_id == request_id, ExtensionRequest.status == "pending")) == 1


def test_withdraw_racing_close_ends_one_way_with_one_notice(app, make):
    parties = make.parties()
    request_id = make.request(parties, "responded_fully")
    officer = parties.officer.id
    calls = ([lambda req: services.withdraw(_user(officer), req, "sent by mistake")] * (THREADS // 2)
             + [lambda req: services.close(_user(officer), req)] * (THREADS // 2))
    results = _race(app, request_id, calls)
    assert sorted(results) == ["conflict"] * (THREADS - 1) + ["ok"], results
    with app.app_context():
        status = db.session.get(Request, request_id).status
    assert status in ("withdrawn", "closed")
    assert _documents(app, request_id, [notices.WITHDRAWAL, notices.CLOSURE]) == 1
