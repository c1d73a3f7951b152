"""A deadline granted or asked for means a real deadline: in the future, after the current one, and at
most `deadlines.MAX_AHEAD` ahead (one bound, in portal/requests/deadlines.py), on the web and in the API."""
from datetime import timedelta

import pytest

from portal.accounts.models import User
from portal.core import clock
from portal.extensions import db
from portal.requests import deadlines, services
from portal.requests.models import ExtensionRequest, Request
from tests.api_support import Api, token_for


def _pending_extension(app, parties, request_id) -> int:
    with app.test_request_context():
        extension = services.request_extension(db.session.get(User, parties.agent.id),
                                               db.session.get(Request, request_id), "we need more time")
        db.session.commit()
        return extension.id


def _deadline(app, request_id):
    with app.app_context():
        return db.session.get(Request, request_id).deadline


@pytest.mark.parametrize("offset,message", [
    (deadlines.MAX_AHEAD + timedelta(days=1), "at most 180 days from now"),
    (timedelta(days=-1), "must be in the future"),
])
def test_grant_form_refuses_an_unbounded_deadline(app, make, client, auth, offset, message):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    extension_id = _pending_extension(app, parties, request_id)
    before = _deadline(app, request_id)
    auth.login(parties.supervisor)
    when = (clock.now() + offset).astimezone(clock.KST).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/requests/{request_id}/extensions/{extension_id}/grant",
                           data={"new_deadline": when}, follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert _deadline(app, request_id) == before
    with app.app_context():
        assert db.session.get(ExtensionRequest, extension_id).status == "pending"


def test_grant_form_accepts_a_deadline_within_the_bound(app, make, client, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    extension_id = _pending_extension(app, parties, request_id)
    auth.login(parties.supervisor)
    when = (clock.now() + timedelta(days=30)).astimezone(clock.KST).replace(second=0, microsecond=0)
    client.post(f"/requests/{request_id}/extensions/{extension_id}/grant",
                data={"new_deadline": when.strftime("%Y-%m-%dT%H:%M")})
    assert _deadline(app, request_id) == when


@pytest.mark.parametrize("offset", [deadlines.MAX_AHEAD + timedelta(days=1), timedelta(days=-1)])
def test_api_refuses_an_unbounded_extension_date(app, make, client, offset):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    api = Api(client, token_for(app, parties.agent))
    when = (clock.now() + offset).isoformat(timespec="seconds")
    response = api.post(f"/requests/{request_id}/extension", json={"reason": "more time", "requested_until": when})
    assert response.status_code == 422, response.get_json()
    with app.app_context():
        assert db.session.query(ExtensionRequest).filter_by(request_id=request_id).count() == 0


def test_api_accepts_an_extension_date_within_the_bound(app, make, client):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    api = Api(client, token_for(app, parties.agent))
    when = (_deadline(app, request_id) + timedelta(days=10)).isoformat(timespec="seconds")
    response = api.post(f"/requests/{request_id}/extension", json={"reason": "more time", "requested_until": when})
    assert response.status_code == 201, response.get_json()


def test_the_refusal_is_translated(app, make, client, auth):
    parties = make.parties(language="ko")
    request_id = make.request(parties, "acknowledged")
    extension_id = _pending_extension(app, parties, request_id)
    auth.login(parties.supervisor)
    when = (clock.now() + timedelta(days=400)).astimezone(clock.KST).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/requests/{request_id}/extensions/{extension_id}/grant?lang=ko",
                           data={"new_deadline": when}, follow_redirects=True)
    assert "180일" in response.get_data(as_text=True)
