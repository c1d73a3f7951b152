"""Unread messages on the dashboards: read marks written after the request's page is built (a GET only
reads), counts of requests with messages from the other side newer than the user's mark, for both sides."""
import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.core.transaction import unit_of_work
from portal.extensions import db
from portal.reports import dashboards
from portal.requests import services
from portal.requests.models import Request, RequestRead
from portal.requests.services import reads


def _post(app, user, request_id: int, body: str = "A question about this request.") -> int:
    with app.test_request_context():
        with unit_of_work():
            message = services.post_message(db.session.get(User, user.id), db.session.get(Request, request_id), body)
        return message.id


def _unread(app, user) -> int:
    with app.test_request_context():
        board = dashboards.for_user(db.session.get(User, user.id))
        return {c.key: c.value for c in board.counts}["unread_messages"]


def _mark(app, user, request_id: int):
    with app.app_context():
        mark = db.session.get(RequestRead, (user.id, request_id))
        return mark.last_read_message_id if mark is not None else None


@pytest.fixture
def thread(app, make):
    """Three requests of one agency to one platform: the platform wrote on two, the agency on the third;
    another pair of organisations talks too, which neither side here may count."""
    parties, others = make.parties(), make.parties()
    first, second, third = (make.request(parties, "acknowledged") for _ in range(3))
    _post(app, parties.agent, first)
    _post(app, parties.platform_admin, second)
    _post(app, parties.officer, third)
    elsewhere = make.request(others, "acknowledged")
    _post(app, others.agent, elsewhere)
    _post(app, others.officer, elsewhere)
    return parties, (first, second, third)


def test_each_side_counts_requests_with_messages_from_the_other(app, thread):
    parties, _requests = thread
    assert _unread(app, parties.officer) == 2  # the platform wrote on two; the officer's own does not count
    assert _unread(app, parties.agent) == 1
    assert _unread(app, parties.platform_admin) == 1


def test_viewing_the_page_marks_the_thread_read(app, client, auth, thread):
    parties, (first, second, _third) = thread
    auth.login(parties.officer)
    assert client.get(f"/requests/{first}").status_code == 200
    assert _unread(app, parties.officer) == 1
    assert _mark(app, parties.officer, second) is None
    # A new message from the platform on the request already read makes it unread again.
    newest = _post(app, parties.agent, first)
    assert _unread(app, parties.officer) == 2
    client.get(f"/requests/{first}")
    assert _mark(app, parties.officer, first) == newest and _unread(app, parties.officer) == 1


def test_marks_are_per_user(app, client, auth, thread):
    parties, (_first, _second, third) = thread
    auth.login(parties.agent)
    client.get(f"/requests/{third}")
    assert _unread(app, parties.agent) == 0
    assert _unread(app, parties.platform_admin) == 1  # a colleague has not read it


def test_an_agency_user_counts_only_the_requests_they_follow(app, make, thread):
    parties, _requests = thread
    colleague = make.user("regulator_officer", parties.agency)
    assert _unread(app, colleague) == 0
    assert _unread(app, parties.supervisor) == 2  # issued all three: a follower too


def test_the_mark_is_written_after_the_page_in_the_deferred_write(app, client, auth, thread, monkeypatch):
    parties, (first, _second, _third) = thread
    from portal.core import transaction

    seen = []
    monkeypatch.setattr(reads, "_advance", lambda *args: seen.append(transaction.reading()))
    auth.login(parties.officer)
    assert client.get(f"/requests/{first}").status_code == 200
    assert seen == [False]  # run once the read-only transaction of the page had ended


def test_a_second_view_without_new_messages_writes_nothing(app, client, auth, thread, monkeypatch):
    parties, (first, _second, _third) = thread
    auth.login(parties.officer)
    client.get(f"/requests/{first}")
    calls = []
    monkeypatch.setattr(reads, "_advance", lambda *args: calls.append(args))
    client.get(f"/requests/{first}")
    assert calls == []


def test_a_mark_never_moves_back(app, thread):
    parties, (first, _second, _third) = thread
    from portal.core import clock

    with app.app_context():
        with unit_of_work():
            reads._advance(parties.officer.id, first, 50, clock.now())
        with unit_of_work():
            reads._advance(parties.officer.id, first, 7, clock.now())  # a slower view of an older page
    assert _mark(app, parties.officer, first) == 50


def test_the_count_links_to_the_requests_behind_it(app, client, auth, thread):
    parties, (first, second, third) = thread
    auth.login(parties.officer)
    page = client.get("/requests/?unread=y&status=all").get_data(as_text=True)
    with app.app_context():
        references = {r.id: r.reference for r in db.session.scalars(select(Request))}
    assert references[first] in page and references[second] in page and references[third] not in page
    home = client.get("/home?lang=ko").get_data(as_text=True)
    assert "unread=y" in home


@pytest.mark.parametrize("language, label", [("en", "With unread messages"), ("ko", "읽지 않은 메시지가 있는 요청")])
def test_home_page_names_the_count(client, auth, thread, language, label):
    parties, _requests = thread
    auth.login(parties.agent)
    assert label in client.get(f"/home?lang={language}").get_data(as_text=True)


def test_reading_the_thread_through_the_api_marks_it_read(app, client, thread):
    from tests.api_support import Api, token_for

    parties, (first, second, _third) = thread
    api = Api(client, token_for(app, parties.officer))
    response = api.get(f"/requests/{first}/messages")
    assert response.status_code == 200 and response.get_json()["messages"]
    assert _mark(app, parties.officer, first) == response.get_json()["messages"][-1]["id"]
    assert _unread(app, parties.officer) == 1 and _mark(app, parties.officer, second) is None
