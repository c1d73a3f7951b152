"""API input is validated against the schemas openapi.json publishes; 404s do not tell a missing object
from another organisation's; 405s say what is allowed; fuzzed input never answers 5xx (API and web)."""
import string

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.api_support import api_as

NASTY = ["\u00b2", "\u0661\u0662\u0663", "\uff11\uff12\uff13", "\x00", "a\x00b", "9" * 40, "-1", "2147483648",
         "9000-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-01-01T00:00:00",
         "", " ", "true", "null", "[]", "{}", "%", "\u202e", "\ud7ff", "1e309", "0x10"]
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
values = st.one_of(st.sampled_from(NASTY), st.text(max_size=30), st.integers().map(str),
                   st.text(alphabet=string.digits + "\u0660\u0669\uff10\u00b2|-:TZ+", max_size=30))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
              st.floats(allow_nan=False), st.sampled_from(NASTY), st.text(max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from(["reason", "body", "items", "outcomes", "item",
                                                                "outcome", "url", "platform", "requested_until",
                                                                "summary_ko", "x"]), children, max_size=4)),
    max_leaves=8)


def test_unknown_or_misspelt_field_answers_422_naming_it(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    agent = api_as(app, client, parties.agent)
    response = agent.post(f"/requests/{request_id}/messages", json={"body": "hello", "bdy": "typo"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_error" and body["field"] == "bdy" and "bdy" in body["message"]
    response = agent.post(f"/requests/{request_id}/messages", json={"body": "a\x00b"})
    assert response.status_code == 422 and response.get_json()["field"] == "body"
    response = agent.post(f"/requests/{request_id}/extension", json={"reason": "x",
                                                                    "requested_until": "9000-01-01T00:00:00Z"})
    assert response.status_code == 422 and response.get_json()["field"] == "requested_until"
    response = agent.get("/requests", query_string={"limit": "\u0661\u0662"})
    assert response.status_code == 422 and response.get_json()["field"] == "limit"
    response = agent.get("/requests", query_string={"limt": "5"})
    assert response.status_code == 422 and response.get_json()["field"] == "limt"
    assert agent.get(f"/requests/{request_id}", query_string={"items_after": "99999999999"}).status_code == 422


def test_method_not_allowed_carries_allow(app, client, make):
    parties = make.parties()
    agent = api_as(app, client, parties.agent)
    response = agent.patch("/requests", json={})
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    response = client.put("/login")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


def test_not_found_is_the_same_for_missing_and_foreign_objects(app, client, make):
    mine, theirs = make.parties(), make.parties()
    own_request = make.request(mine, "issued")
    foreign = make.request(theirs, "issued")
    agent = api_as(app, client, mine.agent)
    other = api_as(app, client, theirs.agent)
    documents = other.get(f"/requests/{foreign}").get_json()["documents"]
    assert documents, "an issued request has its notice"
    assert agent.get(f"/requests/{own_request}").status_code == 200
    missing = 2147483000
    calls = [("GET", "/requests/{}"), ("GET", "/requests/{}/messages"), ("POST", "/requests/{}/messages"),
             ("POST", "/requests/{}/acknowledge"), ("POST", "/requests/{}/response"),
             ("PATCH", "/requests/{}/items"), ("POST", "/requests/{}/extension")]
    bodies = {"/requests/{}/messages": {"body": "hi"}, "/requests/{}/items": {"outcomes": [
        {"item": 1, "outcome": "removed"}]}, "/requests/{}/extension": {"reason": "time"}}
    for method, path in calls:
        json = bodies.get(path) if method != "GET" else None
        kwargs = {"json": json} if json is not None else {}
        foreign_answer = agent._call(method, path.format(foreign), **kwargs)
        missing_answer = agent._call(method, path.format(missing), **kwargs)
        assert foreign_answer.status_code == missing_answer.status_code == 404, (method, path)
        assert foreign_answer.get_data() == missing_answer.get_data(), (method, path)
        assert "incident" not in foreign_answer.get_json()
    supervisor = api_as(app, client, mine.supervisor)
    for action in ("submit", "approve", "close"):
        foreign_answer = supervisor.post(f"/requests/{foreign}/{action}")
        missing_answer = supervisor.post(f"/requests/{missing}/{action}")
        assert foreign_answer.status_code == missing_answer.status_code == 404, action
        assert foreign_answer.get_data() == missing_answer.get_data(), action
    for action in ("withdraw", "reopen"):
        foreign_answer = supervisor.post(f"/requests/{foreign}/{action}", json={"reason": "r"})
        missing_answer = supervisor.post(f"/requests/{missing}/{action}", json={"reason": "r"})
        assert foreign_answer.get_data() == missing_answer.get_data(), action
    foreign_document = agent.get(f"/documents/{documents[0]['id']}")
    missing_document = agent.get(f"/documents/{missing}")
    assert foreign_document.status_code == missing_document.status_code == 404
    assert foreign_document.get_data() == missing_document.get_data()
    unrouted = agent.get("/requests/\u0661\u0662")  # not ASCII digits: no route, the same answer
    assert unrouted.status_code == 404 and unrouted.get_data() == missing_answer.get_data()


def test_fuzzed_api_input_never_answers_5xx(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    agent = api_as(app, client, parties.agent)
    supervisor = api_as(app, client, parties.supervisor)
    query_names = ["status", "type", "limit", "cursor", "updated_since", "overdue", "items_after", "items_limit",
                   "reference", "code", "lang", "x"]
    paths = ["/requests", f"/requests/{request_id}", f"/requests/{request_id}/messages", "/verify"]
    bodied = [f"/requests/{request_id}/messages", f"/requests/{request_id}/extension",
              f"/requests/{request_id}/withdraw", "/requests"]

    @FUZZ
    @given(path=st.sampled_from(paths), query=st.dictionaries(st.sampled_from(query_names), values, max_size=3))
    def reads(path, query):
        response = agent.get(path, query_string=query)
        assert response.status_code < 500, (path, query, response.get_data())

    @FUZZ
    @given(path=st.sampled_from(bodied), body=json_values, who=st.sampled_from([agent, supervisor]))
    def writes(path, body, who):
        response = who.post(path, json=body)
        assert response.status_code < 500, (path, body, response.get_data())
        response = who.patch(f"/requests/{request_id}/items", json={"outcomes": [{"item": body, "outcome": "removed"}]})
        assert response.status_code < 500, (body, response.get_data())

    reads()
    writes()
    for raw in ("\u0661", "99999999999999999999", "2147483648", "9999999999", "-1", "%00"):
        assert agent.get(f"/requests/{raw}").status_code == 404
        assert agent.get(f"/documents/{raw}").status_code == 404
        # Not 405: the GET rule of the same path must not make an out-of-range id look like a wrong method.
        assert agent.post(f"/requests/{raw}/messages", json={"body": "x"}).status_code == 404, raw


def test_fuzzed_web_query_strings_and_forms_never_answer_5xx(app, client, make, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    admin = make.user("portal_admin") if "portal_admin" in _roles() else parties.platform_admin
    auth.login(admin)
    pages = ["/requests/", "/admin/users", "/admin/audit", "/admin/outbox", "/admin/contacts",
             f"/requests/{request_id}"]
    names = ["after", "before", "organisation", "page", "status", "url", "ref", "date_from", "date_to", "q",
             "actor", "action", "lang"]

    @FUZZ
    @given(page=st.sampled_from(pages), query=st.dictionaries(st.sampled_from(names), values, max_size=3))
    def pages_answer(page, query):
        response = client.get(page, query_string=query)
        assert response.status_code < 500, (page, query)

    pages_answer()
    for raw in ("\u0661", "99999999999999999999"):
        assert client.get(f"/requests/{raw}").status_code == 404


def _roles():
    from portal.core import policy

    return policy.ROLES
