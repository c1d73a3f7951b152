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
    undeclared = [r.endpoint for r in _rules(app) if policy.access_rule_of_view(app, r.endpoint) is None]
    assert undeclared == []


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


@pytest.mark.parametrize("role", [None] + ROLES)
def test_role_matrix_holds_on_every_route(app, make, role):
    """For each route and method: anonymous users are sent to log in, roles without the permission get
    403 before anything runs, roles with it are let through (to a page, a redirect, a 404 of a sample id)."""
    user = make.user(role) if role else None
    # The API never takes the session cookie: its calls carry a token of the same user instead.
    api_headers = bearer(token_for(app, user)) if user else {}
    failures = []
    for endpoint, method, path in _calls(app):
        rule_name = policy.access_rule_of_view(app, endpoint)
        client = app.test_client()
        if user:
            Auth(client, make).login(user)
        headers = api_headers if path.startswith("/api/") else {}
        response = client.open(path, method=method, data={}, headers=headers)
        expectation = _expected(rule_name, role, path)
        location = response.location
        if user and endpoint == "accounts.logout" and response.status_code == 302:
            location = "(logged out)"  # logging out rightly ends at the login page
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
