"""Reference numbers: `<AGENCY>-<YEAR>-<6 digits>`, per agency and KST year, unique under concurrent issuing."""
import re
import threading
from datetime import datetime, timezone

import time_machine
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.requests import services
from portal.requests.models import Request


def _reference(app, request_id) -> str:
    with app.app_context():
        return db.session.get(Request, request_id).reference


def test_reference_has_agency_year_and_six_digits(app, make):
    parties = make.parties(agency_code="KCSC")
    with time_machine.travel(datetime(2026, 11, 25, 5, 3, tzinfo=timezone.utc), tick=False):
        first, second = make.request(parties), make.request(parties)
    assert _reference(app, first) == "KCSC-2026-000001"
    assert _reference(app, second) == "KCSC-2026-000002"


def test_each_agency_counts_on_its_own(app, make):
    kcsc, knpa = make.parties(agency_code="KCSC"), make.parties(agency_code="KNPA")
    with time_machine.travel(datetime(2026, 11, 25, 5, 3, tzinfo=timezone.utc), tick=False):
        a, b = make.request(kcsc), make.request(knpa)
    assert re.fullmatch(r"KCSC-2026-000001", _reference(app, a))
    assert re.fullmatch(r"KNPA-2026-000001", _reference(app, b))


def test_year_is_the_korean_year_and_restarts_the_count(app, make):
    parties = make.parties(agency_code="KCSC")
    with time_machine.travel(datetime(2026, 12, 31, 14, 0, tzinfo=timezone.utc), tick=False):  # 23:00 KST
        last_of_year = make.request(parties)
    with time_machine.travel(datetime(2026, 12, 31, 15, 30, tzinfo=timezone.utc), tick=False):  # 00:30 KST
        first_of_next = make.request(parties)
    assert _reference(app, last_of_year) == "KCSC-2026-000001"
    assert _reference(app, first_of_next) == "KCSC-2027-000001"


def test_drafts_get_no_number_and_a_deleted_draft_uses_none(app, make):
    parties = make.parties(agency_code="KCSC")
    draft = make.request(parties, "draft")
    assert _reference(app, draft) is None
    with app.test_request_context():
        services.delete_draft(db.session.get(User, parties.officer.id), db.session.get(Request, draft))
        db.session.commit()
    assert _reference(app, make.request(parties)).endswith("-000001")


def test_references_are_unique_under_concurrent_issuing(app, make):
    """Threads issue at the same moment, each in its own transaction, on SQLite or PostgreSQL."""
    parties = make.parties(agency_code="KCSC")
    count = 12
    waiting = [make.request(parties, "awaiting_approval", urls=(f"https://example.com/{n}",)) for n in range(count)]
    barrier = threading.Barrier(count)
    errors = []

    def issue(request_id):
        try:
            with app.test_request_context():
                # Start together, before any transaction: on SQLite a transaction holds the write lock.
                barrier.wait(timeout=30)
                supervisor = db.session.get(User, parties.supervisor.id)
                services.issue_request(supervisor, db.session.get(Request, request_id))
                db.session.commit()
                db.session.remove()
        except Exception as error:  # reported below; a thread's exception is otherwise lost
            errors.append(repr(error))

    threads = [threading.Thread(target=issue, args=(request_id,)) for request_id in waiting]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        references = db.session.scalars(select(Request.reference).where(Request.id.in_(waiting))).all()
    year = datetime.now(timezone.utc).year
    assert len(set(references)) == count
    assert sorted(int(r.rsplit("-", 1)[1]) for r in references) == list(range(1, count + 1))
    assert all(re.fullmatch(rf"KCSC-({year}|{year + 1})-\d{{6}}", r) for r in references)
