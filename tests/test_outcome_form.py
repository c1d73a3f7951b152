"""The outcome form of the request page: no default outcome, a refused "declined" keeps what was chosen, and
what keeps a request partly answered once every item has an outcome is said."""
import re

from sqlalchemy import select

from portal.accounts.models import User
from portal.core.transaction import unit_of_work
from portal.extensions import db
from portal.requests import services
from portal.requests.models import Request, RequestItem


def _item_ids(app, request_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(RequestItem.id).where(RequestItem.request_id == request_id)
                                       .order_by(RequestItem.position)))


def _selected_option(page: str) -> str | None:
    select_html = re.search(r'<select[^>]*name="outcome".*?</select>', page, re.S).group(0)
    chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html)
    return next(v for v in chosen.groups() if v is not None) if chosen else None


def test_the_outcome_list_has_no_default(make, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    auth.login(parties.agent)
    page = auth.client.get(f"/requests/{request_id}").data.decode()
    assert _selected_option(page) in (None, "")
    assert '<option value="">Choose an outcome</option>' in page or '<option selected value="">' in page


def test_recording_without_choosing_an_outcome_is_refused(app, make, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    first = _item_ids(app, request_id)[0]
    auth.login(parties.agent)
    page = auth.client.post(f"/requests/{request_id}/outcomes", data={"item": [first], "scope": "selected",
                                                                       "outcome": ""}, follow_redirects=True)
    assert "Choose an outcome." in page.data.decode()
    with app.app_context():
        assert db.session.get(RequestItem, first).outcome is None


def test_a_refused_decline_keeps_the_ticked_items_and_the_outcome(app, make, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged", urls=("https://example.com/a", "https://example.com/b",
                                                             "https://example.com/c"))
    ids = _item_ids(app, request_id)
    auth.login(parties.agent)
    response = auth.client.post(f"/requests/{request_id}/outcomes",
                                data={"item": [ids[0], ids[2]], "scope": "selected", "outcome": "declined",
                                      "decline_reason": ""})
    page = response.data.decode()
    assert response.status_code == 200
    assert _selected_option(page) == "declined"
    ticked = set(map(int, re.findall(r'name="item" value="(\d+)"[^>]*checked', page)))
    assert ticked == {ids[0], ids[2]}
    with app.app_context():
        assert all(db.session.get(RequestItem, i).outcome is None for i in ids)


def test_the_decline_reason_is_tied_to_the_outcome_list_and_select_all_is_offered(make, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    auth.login(parties.agent)
    page = auth.client.get(f"/requests/{request_id}").data.decode()
    assert 'data-reason-group="decline-reason-group"' in page and 'id="decline-reason-group"' in page
    assert 'data-select-all="item"' in page


def test_every_item_answered_with_one_needing_information_says_what_is_missing(app, make, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    ids = _item_ids(app, request_id)
    with app.test_request_context(), unit_of_work():
        agent, req = db.session.get(User, parties.agent.id), db.session.get(Request, request_id)
        services.set_outcomes(agent, req, [ids[0]], "removed")
        services.set_outcomes(agent, req, [ids[1]], "needs_information")
    auth.login(parties.agent)
    page = auth.client.get(f"/requests/{request_id}").data.decode()
    assert "1 item needs information: the request stays partly answered" in page


def test_no_explanation_while_items_are_unanswered(app, make, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    ids = _item_ids(app, request_id)
    with app.test_request_context(), unit_of_work():
        agent, req = db.session.get(User, parties.agent.id), db.session.get(Request, request_id)
        services.set_outcomes(agent, req, [ids[1]], "needs_information")
    auth.login(parties.agent)
    assert 'id="needs-information-notice"' not in auth.client.get(f"/requests/{request_id}").data.decode()


def test_adding_items_without_duplicates_says_nothing_of_merging(make, auth):
    parties = make.parties()
    request_id = make.request(parties, "draft")
    auth.login(parties.officer)
    page = auth.client.post(f"/requests/{request_id}/items/add", data={"lines": "https://example.com/new"},
                            follow_redirects=True).data.decode()
    assert "1 item added." in page and "merged" not in page
