"""Deny by default: every view declares who may use it, and the role matrix holds on every route."""
import pytest
from flask import url_for
from werkzeug.routing import Rule

from portal.core import policy
from tests.api_support import bearer, token_for
from tests.factories import Auth

ROLES = sorted(policy.ROLES)
SAMPLE_ARGS = {"integer": 999_999, "int": 999_999, "string": "sample", "default": "sample", "path": "sample", "uuid": "00000000-0000-0000-0000-000000000000"}


def _rules(app) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static" and not r.endpoint.endswith(".static")]


def _url(rule: Rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        values[name] = SAMPLE_ARGS.get(kind, "sample")
    return url_for(rule.endpoint, **values)


def _calls(app) -> list[tuple[str, str, str]]:
    with app.test_request_context():
        return [(rule.endpoint, method, _url(rule)) for rule in _rules(app)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def test_every_view_declares_its_access(app):
    undeclared = [(r.endpoint, method) for r in _rules(app) for method in sorted(r.methods)
                  if policy.access_rule_of_view(app, r.endpoint, method) is None]
    assert undeclared == []


def test_a_method_a_view_does_not_declare_is_refused(app, client):
    @app.route("/half-declared-for-test", methods=["GET", "POST"])
    @policy.access({"GET": policy.PUBLIC})
    def half_declared():
        return "served"

    assert client.get("/half-declared-for-test").status_code == 200
    assert client.head("/half-declared-for-test").status_code == 200
    assert client.post("/half-declared-for-test").status_code == 403


def test_a_view_may_declare_a_permission_per_method(app, make, auth, client):
    @app.route("/per-method-for-test", methods=["GET", "POST"])
    @policy.access({"GET": "request.view", "POST": "request.respond"})
    def per_method():
        return "served"

    auth.as_role("regulator_officer")
    assert client.get("/per-method-for-test").status_code == 200
    assert client.post("/per-method-for-test").status_code == 403


def test_an_undeclared_view_is_refused(app, client):
    @app.get("/undeclared-for-test")
    def undeclared():
        return "should never be served"

    assert client.get("/undeclared-for-test").status_code == 403


def test_every_role_in_the_matrix_is_a_known_role():
    for permission, roles in policy.PERMISSIONS.items():
        assert roles <= set(policy.ROLES), permission


def _expected(rule_name: str, role: str | None, path: str) -> str:
    if rule_name in (policy.PUBLIC, policy.LOGIN_FLOW):
        return "open"
    if role is None:
        return "login"
    if rule_name == policy.AUTHENTICATED or role in policy.PERMISSIONS[rule_name]:
        return "allowed"
    return "forbidden"


def _check(status: int, location: str | None, expectation: str, path: str) -> bool:
    if expectation == "open":
        return status not in (401, 403)
    if expectation == "login":
        if path.startswith("/api/"):
            return status == 401
        return status == 302 and "/login" in (location or "")
    if expectation == "allowed":
        return status not in (401, 403) and not (status == 302 and (location or "").startswith("/login"))
    return status == 403


def _logged_in(app, make, user) -> str:
    """Log `user` in through the real pages once; the session cookie serves every later call."""
    client = app.test_client()
    Auth(client, make).login(user)
    return client.get_cookie("session").value


def _ended_session(response, path: str) -> bool:
    if path.startswith("/api/"):
        return False  # the API's calls carry a token, never the session
    return response.status_code == 401 or (
        response.status_code == 302 and (response.location or "").startswith("/login"))


@pytest.mark.parametrize("role", [None] + ROLES)
def test_role_matrix_holds_on_every_route(app, make, role):
    """For each route and method: anonymous users are sent to log in, roles without the permission get
    403 before anything runs, roles with it are let through (to a page, a redirect, a 404 of a sample id).

    Each role logs in once; every call runs in a fresh client holding that session's cookie. Logging out
    is followed by a new login; any other call that finds itself sent to log in (because an earlier call
    ended the session) is made again after a new login, so every call is checked with a live session, as
    if it had logged in just for it."""
    user = make.user(role) if role else None
    # The API never takes the session cookie: its calls carry a token of the same user instead.
    api_headers = bearer(token_for(app, user)) if user else {}
    cookie = _logged_in(app, make, user) if user else None
    failures = []

    def call(method, path):
        client = app.test_client()
        if cookie:
            client.set_cookie("session", cookie)
        headers = api_headers if path.startswith("/api/") else {}
        return client.open(path, method=method, data={}, headers=headers)

    for endpoint, method, path in _calls(app):
        rule_name = policy.access_rule_of_view(app, endpoint, method)
        expectation = _expected(rule_name, role, path)
        response = call(method, path)
        location = response.location
        if user and endpoint == "accounts.logout":
            if response.status_code == 302:
                location = "(logged out)"  # logging out rightly ends at the login page
            cookie = _logged_in(app, make, user)
        elif user and expectation != "open" and _ended_session(response, path):
            response.close()
            cookie = _logged_in(app, make, user)
            response = call(method, path)
            location = response.location
        if not _check(response.status_code, location, expectation, path):
            failures.append((method, path, rule_name, expectation, response.status_code, response.location))
        response.close()  # a streamed response (CSV export) holds its request context until closed
    assert failures == []


def test_matrix_is_what_the_design_says():
    assert policy.can_role("system_admin", "audit.view")
    assert not policy.can_role("secretariat", "audit.view")
    assert not policy.can_role("platform_admin", "organisation.manage")
    assert policy.can_role("platform_admin", "user.invite")
    assert not policy.can_role("platform_agent", "user.invite")
    assert not policy.can_role("regulator_officer", "user.view")
