"""Four eyes: whoever wrote any part of a request (drafted it, edited its fields, added or removed items,
attached a file before its issue) cannot approve it; every editor is recorded in the draft's history."""
import io

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.core.exceptions import Conflict
from portal.extensions import db
from portal.requests import services
from portal.requests.models import Request, RequestEvent
from portal.requests.urls import parse_lines
from tests.api_support import Api, token_for

MINIMAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
               b"endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _status(app, request_id) -> str:
    with app.app_context():
        return db.session.get(Request, request_id).status


def _edit_as(app, user_id: int, request_id: int, how: str) -> None:
    """`user_id` writes part of the draft through the service, the way the pages and the API do."""
    with app.test_request_context():
        by, req = db.session.get(User, user_id), db.session.get(Request, request_id)
        if how == "fields":
            services.update_draft(by, req, platform_id=req.platform_id, request_type=req.request_type,
                                  category=req.category, priority=req.priority, legal_basis_id=None,
                                  legal_basis_text="Act on Test, Art. 2", summary_ko="고친 요약",
                                  summary_en="Rewritten summary")
        elif how == "add_items":
            services.add_items(by, req, parse_lines("https://example.com/added-by-supervisor"))
        elif how == "remove_items":
            services.remove_items(by, req, [services.items_page(req, 0, 1)[0].id])
        elif how == "attachment":
            services.add_attachment(by, req, io.BytesIO(b"Evidence list, written by the supervisor.\n"),
                                    "evidence.txt")
        db.session.commit()


@pytest.mark.parametrize("how", ["fields", "add_items", "remove_items", "attachment"])
def test_supervisor_who_edited_a_draft_cannot_approve_it(app, make, how):
    parties = make.parties()
    request_id = make.request(parties, "draft")
    _edit_as(app, parties.supervisor.id, request_id, how)
    with app.test_request_context():
        supervisor, req = db.session.get(User, parties.supervisor.id), db.session.get(Request, request_id)
        services.submit_for_approval(supervisor, req)
        db.session.commit()
        with pytest.raises(Conflict):
            services.issue_request(supervisor, req)
        db.session.rollback()
    assert _status(app, request_id) == "awaiting_approval"


def test_every_editor_is_in_the_drafts_history(app, make):
    parties = make.parties()
    request_id = make.request(parties, "draft")
    _edit_as(app, parties.supervisor.id, request_id, "add_items")
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert services.authors(req) == {parties.officer.id, parties.supervisor.id}
        actors = {(e.action, e.actor_id) for e in db.session.scalars(
            select(RequestEvent).where(RequestEvent.request_id == request_id))}
        assert ("items_added", parties.supervisor.id) in actors and ("items_added", parties.officer.id) in actors


def test_supervisor_edits_on_the_web_then_approval_is_refused(app, make, client, auth):
    parties = make.parties()
    request_id = make.request(parties, "draft")
    auth.login(parties.supervisor)
    added = client.post(f"/requests/{request_id}/items/add", data={"lines": "https://example.com/c"})
    assert added.status_code == 302
    assert client.post(f"/requests/{request_id}/submit").status_code == 302
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "You wrote part of this request" in page and "Approve and issue" not in page
    refused = client.post(f"/requests/{request_id}/issue", follow_redirects=True)
    assert "has not written any part of it" in refused.get_data(as_text=True)
    assert _status(app, request_id) == "awaiting_approval"


def test_supervisor_edits_then_approval_through_the_api_is_refused(app, make, client):
    parties = make.parties()
    request_id = make.request(parties, "draft")
    _edit_as(app, parties.supervisor.id, request_id, "fields")
    api = Api(client, token_for(app, parties.supervisor))
    assert api.post(f"/requests/{request_id}/submit").status_code == 200
    response = api.post(f"/requests/{request_id}/approve")
    assert response.status_code == 409 and response.get_json()["error"] == "conflict"
    assert _status(app, request_id) == "awaiting_approval"


def test_a_supervisor_who_wrote_nothing_approves(app, make, client):
    parties = make.parties()
    request_id = make.request(parties, "draft")
    _edit_as(app, parties.supervisor.id, request_id, "add_items")
    other = make.user("regulator_supervisor", parties.agency)
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        services.submit_for_approval(db.session.get(User, parties.officer.id), req)
        db.session.commit()
    response = Api(client, token_for(app, other)).post(f"/requests/{request_id}/approve")
    assert response.status_code == 200, response.get_json()
    assert _status(app, request_id) == "issued"
