"""Reach: a platform sees only its own platform's issued requests, an agency only its own; everything
else answers 404 (never 403), on every route and for every file. (A role that may never do what a route
does is refused with 403 before any request is looked up, whichever request it names.)"""
import io

import pytest
from flask import url_for

from portal.accounts.models import User
from portal.core import policy
from portal.extensions import db
from portal.requests import services
from portal.requests.models import Request
from tests.attachment_samples import PDF


def _prepared(app, make, status="acknowledged"):
    """A request with an item, an attachment and a pending extension; ids of all of them."""
    parties = make.parties()
    request_id = make.request(parties, status)
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        attachment = services.add_attachment(db.session.get(User, parties.officer.id), req, io.BytesIO(PDF), "n.pdf")
        ids = {"request_id": request_id, "item_id": services.items_page(req)[0].id, "attachment_id": attachment.id,
               "extension_id": 0}
        if req.is_open:
            ids["extension_id"] = services.request_extension(db.session.get(User, parties.agent.id), req, "time").id
        db.session.commit()
    return parties, ids


def _request_routes(app, ids):
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("requests.") and "request_id" in rule.arguments:
                values = {name: ids[name] for name in rule.arguments}
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    yield rule.endpoint, method, url_for(rule.endpoint, **values)


@pytest.mark.parametrize("intruder", ["platform_agent", "platform_admin", "regulator_officer", "regulator_supervisor"])
def test_every_route_of_another_organisations_request_is_404(app, make, auth, client, intruder):
    _, ids = _prepared(app, make)
    auth.as_role(intruder)
    answers = {(endpoint, method): client.open(path, method=method, data={"reason": "x", "body": "x",
                                                                         "outcome": "removed", "item": "1"}).status_code
               for endpoint, method, path in _request_routes(app, ids)}
    assert len(answers) > 20

    # A route whose permission the intruder's role lacks altogether answers 403 before any request is
    # looked up, so that answer says nothing about this one; every other route answers 404.
    def expected(endpoint, method):
        rule = policy.access_rule_of_view(app, endpoint, method)
        return 404 if policy.can_role(intruder, rule) else 403

    assert {key: status for key, status in answers.items() if status != expected(*key)} == {}
    with app.app_context():  # and nothing changed
        req = db.session.get(Request, ids["request_id"])
        assert req.status == "acknowledged" and req.item_count == 2


def test_platform_cannot_see_a_request_before_it_is_issued(app, make, auth, client):
    parties = make.parties()
    draft = make.request(parties, "awaiting_approval")
    auth.login(parties.agent)
    assert client.get(f"/requests/{draft}").status_code == 404
    assert client.post(f"/requests/{draft}/acknowledge").status_code == 404


def test_attachment_of_another_request_is_not_served_through_mine(app, make, auth, client):
    parties, theirs = _prepared(app, make)
    mine = make.request(make.parties(), "issued")
    with app.app_context():
        me = db.session.get(Request, mine)
    auth.as_role("platform_agent", me.platform_id)
    assert client.get(f"/requests/{mine}/attachments/{theirs['attachment_id']}").status_code == 404
    assert client.get(f"/requests/{mine}/items/{theirs['item_id']}").status_code == 404


def test_inbox_lists_only_the_platforms_issued_requests(app, make, auth, client):
    parties, other = make.parties(agency_code="KCSC"), make.parties(agency_code="KNPA")
    mine = make.request(parties, "issued")
    make.request(parties, "draft")
    theirs = make.request(other, "issued")
    with app.app_context():
        mine_ref = db.session.get(Request, mine).reference
        theirs_ref = db.session.get(Request, theirs).reference
    auth.login(parties.agent)
    page = client.get("/requests/?status=all").get_data(as_text=True)
    assert mine_ref in page and theirs_ref not in page


def test_search_by_reference_or_address_stays_within_reach(app, make, auth, client):
    parties, other = make.parties(), make.parties()
    mine = make.request(parties, "issued", urls=("https://example.com/shared",))
    theirs = make.request(other, "issued", urls=("https://example.com/shared",))
    with app.app_context():
        mine_ref, theirs_ref = db.session.get(Request, mine).reference, db.session.get(Request, theirs).reference
    auth.login(parties.agent)
    response = client.post("/requests/search", data={"q": "https://EXAMPLE.com/shared#x"})
    assert response.status_code == 302 and "example.com" not in response.location  # a hash, not the address
    page = client.get(response.location).get_data(as_text=True)
    assert mine_ref in page and theirs_ref not in page
    page = client.get(client.post("/requests/search", data={"q": theirs_ref}).location + "&lang=en")
    assert "No request matches." in page.get_data(as_text=True)


def test_secretariat_and_admins_do_not_reach_requests(app, make, auth, client):
    request_id = make.request()
    for role in ("secretariat", "system_admin"):
        auth.as_role(role)
        assert client.get("/requests/").status_code == 403
        assert client.get(f"/requests/{request_id}").status_code == 403
        auth.logout()


def test_views_and_downloads_are_audited(app, make, auth, client):
    from sqlalchemy import select

    from portal.core.audit import AuditEvent

    parties, ids = _prepared(app, make)
    auth.login(parties.agent)
    client.get(f"/requests/{ids['request_id']}")
    client.get(f"/requests/{ids['request_id']}/attachments/{ids['attachment_id']}")
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == parties.agent.id)))
    assert {"request.viewed", "request.attachment_downloaded"} <= actions


def test_refusals_are_audited(app, make, auth, client):
    from sqlalchemy import select

    from portal.core.audit import AuditEvent

    _, ids = _prepared(app, make)
    intruder = auth.as_role("platform_agent")
    client.get(f"/requests/{ids['request_id']}")
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access.denied",
                                                          AuditEvent.actor_id == intruder.id))
