"""The counts on each role's home page (portal/reports/dashboards.py)."""
from datetime import timedelta

import time_machine

from portal.accounts.models import User
from portal.extensions import db
from portal.reports import dashboards
from portal.requests.models import ExtensionRequest, Request
from tests.reports_support import kst, shaped

NOW = kst(2026, 11, 20, 12, 0)


def _counts(app, user_id):
    with app.test_request_context():
        board = dashboards.for_user(db.session.get(User, user_id), now=NOW)
        return {c.key: c.value for c in board.counts}


def _deadlines(make, parties):
    issued = kst(2026, 11, 15, 9, 0)
    shaped(make, parties, issued=issued, deadline=NOW + timedelta(hours=23))      # due in 24 h
    shaped(make, parties, issued=issued, deadline=NOW + timedelta(hours=25))      # not yet
    shaped(make, parties, issued=issued, deadline=NOW - timedelta(minutes=1))     # overdue
    shaped(make, parties, issued=issued, status="closed", deadline=NOW - timedelta(hours=5))  # answered: neither


def test_officer_counts(app, make):
    parties = make.parties()
    make.request(parties, "draft")
    make.request(parties, "awaiting_approval")
    sent_back = make.request(parties, "draft")
    with app.app_context():
        db.session.get(Request, sent_back).submitted_at = NOW
        db.session.commit()
    _deadlines(make, parties)
    counts = _counts(app, parties.officer.id)
    assert counts == {"my_drafts": 2, "sent_back": 1, "my_awaiting_approval": 1, "due_24h": 1, "overdue": 1,
                      "unread_messages": 0}


def test_supervisor_counts(app, make):
    parties = make.parties()
    make.request(parties, "awaiting_approval")
    request_id = make.request(parties, "acknowledged")
    with app.app_context():
        db.session.add(ExtensionRequest(request_id=request_id, requested_by_id=parties.agent.id, reason="time",
                                        status="pending", created_at=NOW))
        db.session.commit()
    counts = _counts(app, parties.supervisor.id)
    assert counts["awaiting_my_approval"] == 1 and counts["extensions_to_decide"] == 1


def test_platform_counts_only_its_own(app, make):
    parties, other = make.parties(), make.parties()
    _deadlines(make, parties)
    _deadlines(make, other)
    issued = kst(2026, 11, 19, 9, 0)
    shaped(make, parties, issued=issued, status="responded_partly", acknowledged=issued,
           outcomes=[("removed", issued), ("needs_information", issued)], deadline=NOW + timedelta(days=3))
    counts = _counts(app, parties.agent.id)
    assert counts == {"new": 3, "due_24h": 1, "overdue": 1, "needs_information": 1, "unread_messages": 0}


def test_home_page_shows_the_counts(client, auth, make):
    parties = make.parties()
    make.request(parties, "draft")
    auth.login(parties.officer)
    page = client.get("/home").get_data(as_text=True)
    assert "At a glance" in page and "My drafts" in page


def test_secretariat_home_counts_upcoming_consultations(app, client, auth):
    user = auth.as_role("secretariat")
    with time_machine.travel(NOW, tick=False):
        with app.test_request_context():
            board = dashboards.for_user(db.session.get(User, user.id))
    assert [c.key for c in board.counts] == ["upcoming_consultations"]
    assert client.get("/home", query_string={"lang": "ko"}).status_code == 200
