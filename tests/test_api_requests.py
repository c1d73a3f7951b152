"""API v1 over formal requests: the same services, scoping, four-eyes and audit as the web pages."""
import pytest
from sqlalchemy import func, select

from portal.core.audit import AuditEvent
from portal.extensions import db
from portal.requests.models import Request, RequestItem
from tests.api_support import api_as

NEW = {"platform": None, "request_type": "removal", "category": "deepfake", "priority": "standard",
       "legal_basis_text": "Act on Test, Art. 1", "summary_ko": "시험 요청", "summary_en": "Test request"}


def _new(app, platform_id, **extra):
    from portal.accounts.models import Organisation

    with app.app_context():
        code = db.session.get(Organisation, platform_id).code
    return {**NEW, "platform": code, **extra}


# --- Reading ----------------------------------------------------------------------------------------------

def test_list_shows_callers_visible_requests(app, client, make):
    parties, other = make.parties(), make.parties()
    mine = make.request(parties, "issued")
    make.request(other, "issued")
    make.request(parties, "draft")  # not yet the platform's business
    for who in (parties.agent, parties.officer):
        body = api_as(app, client, who).get("/requests").get_json()
        assert [r["id"] for r in body["requests"]] == [mine]
        assert body["next_cursor"] is None


def test_list_filters_and_cursor_pagination(app, client, make):
    parties = make.parties()
    ids = [make.request(parties, "issued", urls=(f"https://example.com/{n}",)) for n in range(5)]
    urgent = make.request(parties, "issued", priority="urgent", urls=("https://example.com/u",))
    api = api_as(app, client, parties.agent)
    seen, cursor = [], None
    while True:
        body = api.get("/requests", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += [r["id"] for r in body["requests"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids + [urgent]) and len(seen) == len(set(seen))
    body = api.get("/requests", query_string={"priority": "urgent"}).get_json()
    assert [r["id"] for r in body["requests"]] == [urgent]
    assert api.get("/requests", query_string={"status": "closed"}).get_json()["requests"] == []
    assert api.get("/requests", query_string={"updated_since": "2099-01-01T00:00:00Z"}).get_json()["requests"] == []
    assert len(api.get("/requests", query_string={"updated_since": "2000-01-01T00:00:00Z"}).get_json()["requests"]) == 6
    assert api.get("/requests", query_string={"status": "nonsense"}).status_code == 422
    assert api.get("/requests", query_string={"cursor": "%%%"}).status_code == 422


def test_detail_has_items_pages_deadline_in_utc_and_kst(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "issued", urls=tuple(f"https://example.com/{n}" for n in range(5)))
    api = api_as(app, client, parties.agent)
    body = api.get(f"/requests/{request_id}", query_string={"items_limit": 3}).get_json()
    assert body["request"]["reference"] and body["request"]["status"] == "issued"
    assert body["request"]["deadline"]["utc"].endswith("Z") and body["request"]["deadline"]["kst"].endswith("+09:00")
    assert [i["position"] for i in body["items"]] == [1, 2, 3] and body["next_items_cursor"] == 3
    rest = api.get(f"/requests/{request_id}", query_string={"items_after": 3}).get_json()
    assert [i["position"] for i in rest["items"]] == [4, 5] and rest["next_items_cursor"] is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "request.viewed")) == 2


ENDPOINTS = [
    ("get", "/requests/{id}", None),
    ("get", "/requests/{id}/messages", None),
    ("post", "/requests/{id}/messages", {"body": "hello"}),
    ("post", "/requests/{id}/submit", {}),
    ("post", "/requests/{id}/approve", {}),
    ("post", "/requests/{id}/withdraw", {"reason": "x"}),
    ("post", "/requests/{id}/close", {}),
    ("post", "/requests/{id}/reopen", {"reason": "x"}),
    ("post", "/requests/{id}/acknowledge", {}),
    ("patch", "/requests/{id}/items", {"outcomes": [{"item": 1, "outcome": "removed"}]}),
    ("post", "/requests/{id}/response", {}),
    ("post", "/requests/{id}/extension", {"reason": "x"}),
]


@pytest.mark.parametrize("who", ["officer", "supervisor", "agent", "platform_admin"])
@pytest.mark.parametrize("method,path,body", ENDPOINTS)
def test_other_organisations_request_is_not_found(app, client, make, who, method, path, body):
    mine, theirs = make.parties(), make.parties()
    request_id = make.request(theirs, "acknowledged")
    api = api_as(app, client, getattr(mine, who))
    kwargs = {"json": body} if body is not None else {}
    response = getattr(api, method)(path.format(id=request_id), **kwargs)
    assert response.status_code == 404, (response.status_code, response.get_json())
    assert response.get_json()["error"] == "not_found"
    with app.app_context():
        assert db.session.get(Request, request_id).status == "acknowledged"


def test_platform_does_not_see_draft(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "awaiting_approval")
    assert api_as(app, client, parties.agent).get(f"/requests/{request_id}").status_code == 404


# --- Creating --------------------------------------------------------------------------------------------

def test_create_draft_with_items(app, client, make):
    parties = make.parties()
    api = api_as(app, client, parties.officer)
    items = [{"url": "https://example.com/a", "sha256": "a" * 64}, {"url": "https://EXAMPLE.com/a"},
             {"url": "https://example.com/b", "note": "second"}]
    response = api.post("/requests", json=_new(app, parties.platform, items=items))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["request"]["status"] == "draft" and body["request"]["item_count"] == 2
    assert body["items_added"] == 2 and body["duplicates_merged"] == 1


def test_validation_errors_name_the_item_index(app, client, make):
    parties = make.parties()
    api = api_as(app, client, parties.officer)
    items = [{"url": "https://example.com/ok"}, {"url": "ftp://example.com/x"}, {"url": "https://e.com/", "md5": "zz"},
             "not an object"]
    response = api.post("/requests", json=_new(app, parties.platform, items=items))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_error" and body["field"] == "items"
    assert [e["index"] for e in body["items"]] == [1, 2, 3]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Request)) == 0


def test_create_names_bad_fields(app, client, make):
    parties = make.parties()
    api = api_as(app, client, parties.officer)
    body = api.post("/requests", json=_new(app, parties.platform, platform="NOPE")).get_json()
    assert body["field"] == "platform"
    assert api.post("/requests", json=_new(app, parties.platform, priority="soon")).get_json()["field"] == "priority"
    assert api.post("/requests", data="[]", content_type="application/json").status_code == 400


def test_platform_cannot_create_request(app, client, make):
    parties = make.parties()
    response = api_as(app, client, parties.agent).post("/requests", json=_new(app, parties.platform))
    assert response.status_code == 403


def test_idempotent_create(app, client, make):
    parties = make.parties()
    api = api_as(app, client, parties.officer)
    payload = _new(app, parties.platform, items=[{"url": "https://example.com/a"}])
    first = api.post("/requests", json=payload, headers={"Idempotency-Key": "k-1"})
    again = api.post("/requests", json=payload, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other = api.post("/requests", json={**payload, "summary_en": "Another"}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 409 and other.get_json()["error"] == "idempotency_key_reused"
    fresh = api.post("/requests", json=payload, headers={"Idempotency-Key": "k-2"})
    assert fresh.status_code == 201 and fresh.get_json()["request"]["id"] != first.get_json()["request"]["id"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Request)) == 2


def test_idempotency_keys_belong_to_their_user(app, client, make):
    parties = make.parties()
    payload = _new(app, parties.platform)
    first = api_as(app, client, parties.officer).post("/requests", json=payload, headers={"Idempotency-Key": "k"})
    second = api_as(app, client, parties.supervisor).post("/requests", json=payload, headers={"Idempotency-Key": "k"})
    assert first.status_code == second.status_code == 201
    assert first.get_json()["request"]["id"] != second.get_json()["request"]["id"]


# --- The life of a request through the API ---------------------------------------------------------------

def test_four_eyes_holds_through_the_api(app, client, make):
    agency = make.organisation("agency")
    drafter = make.user("regulator_supervisor", agency)
    other = make.user("regulator_supervisor", agency)
    platform = make.organisation("platform")
    api = api_as(app, client, drafter)
    created = api.post("/requests", json=_new(app, platform, items=[{"url": "https://example.com/a"}])).get_json()
    request_id = created["request"]["id"]
    assert api.post(f"/requests/{request_id}/submit").status_code == 200
    refused = api.post(f"/requests/{request_id}/approve")
    assert refused.status_code == 409 and refused.get_json()["error"] == "conflict"
    with app.app_context():
        assert db.session.get(Request, request_id).status == "awaiting_approval"
    approved = api_as(app, client, other).post(f"/requests/{request_id}/approve")
    assert approved.status_code == 200 and approved.get_json()["status"] == "issued"
    assert approved.get_json()["reference"]


def test_officer_cannot_approve(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "awaiting_approval")
    # Like the web pages: a job outside one's role on a request answers as if it did not exist.
    assert api_as(app, client, parties.officer).post(f"/requests/{request_id}/approve").status_code == 404


def test_full_cycle_through_the_api(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "issued", urls=("https://example.com/a", "https://example.com/b"))
    platform = api_as(app, client, parties.agent, scopes=("requests:read", "requests:respond"))
    agency = api_as(app, client, parties.officer)
    assert platform.post(f"/requests/{request_id}/acknowledge").get_json()["status"] == "acknowledged"
    items = platform.get(f"/requests/{request_id}").get_json()["items"]
    bad = platform.patch(f"/requests/{request_id}/items", json={"outcomes": [{"item": items[0]["id"]}]})
    assert bad.status_code == 422 and bad.get_json()["items"][0]["index"] == 0
    declined = platform.patch(f"/requests/{request_id}/items",
                              json={"outcomes": [{"item": items[1]["id"], "outcome": "declined"}]})
    assert declined.status_code == 422 and declined.get_json()["field"] == "decline_reason"
    response = platform.patch(f"/requests/{request_id}/items", json={"outcomes": [
        {"item": items[0]["id"], "outcome": "removed"},
        {"item": items[1]["id"], "outcome": "declined", "decline_reason": "lawful content"}]})
    assert response.status_code == 200 and response.get_json()["updated"] == 2
    with app.app_context():
        outcomes = dict(db.session.execute(select(RequestItem.id, RequestItem.outcome)
                                           .where(RequestItem.request_id == request_id)).all())
    assert outcomes == {items[0]["id"]: "removed", items[1]["id"]: "declined"}
    assert platform.post(f"/requests/{request_id}/response").get_json()["status"] == "responded_fully"
    assert platform.post(f"/requests/{request_id}/close").get_json()["error"] == "insufficient_scope"
    assert api_as(app, client, parties.agent).post(f"/requests/{request_id}/close").status_code == 404  # a regulator's job
    assert agency.post(f"/requests/{request_id}/close").get_json()["status"] == "closed"
    assert agency.post(f"/requests/{request_id}/reopen", json={}).status_code == 422
    assert agency.post(f"/requests/{request_id}/reopen", json={"reason": "b is back"}).get_json()["status"] == "acknowledged"
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(request_id))))
    assert {"request.acknowledge", "request.outcomes_set", "request.respond", "request.close", "request.reopen"} <= actions


def test_withdraw_needs_a_reason(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    api = api_as(app, client, parties.officer)
    assert api.post(f"/requests/{request_id}/withdraw").status_code == 422
    assert api.post(f"/requests/{request_id}/withdraw", json={"reason": "sent by mistake"}).get_json()["status"] == "withdrawn"


def test_extension_request(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    api = api_as(app, client, parties.agent)
    assert api.post(f"/requests/{request_id}/extension", json={"reason": "x", "requested_until": "tomorrow"}).status_code == 422
    response = api.post(f"/requests/{request_id}/extension", json={"reason": "many items"})
    assert response.status_code == 201 and response.get_json()["status"] == "pending"
    assert api.post(f"/requests/{request_id}/extension", json={"reason": "again"}).status_code == 409


def test_messages_both_ways(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    agency = api_as(app, client, parties.officer)
    platform = api_as(app, client, parties.agent, scopes=("requests:read", "requests:respond"))
    assert agency.post(f"/requests/{request_id}/messages", json={"body": "Any news?"}).status_code == 201
    assert platform.post(f"/requests/{request_id}/messages", json={"body": "Working on it"}).status_code == 201
    assert platform.post(f"/requests/{request_id}/messages", json={"body": " "}).status_code == 422
    thread = agency.get(f"/requests/{request_id}/messages").get_json()["messages"]
    assert [m["body"] for m in thread] == ["Any news?", "Working on it"]


def test_wrong_state_is_a_conflict(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "closed")
    response = api_as(app, client, parties.agent).post(f"/requests/{request_id}/acknowledge")
    assert response.status_code == 409 and set(response.get_json()) >= {"error", "message"}
