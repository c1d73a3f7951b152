"""What key routes answer each role, written out by hand.

test_policy.py walks every route and derives what to expect from `core/policy`'s own matrix, so a wrong
grant there (or a route declaring too coarse a permission) would pass it. This table does not read the
matrix: each answer is what the design says the role should get, checked against the running app.

The world: one agency (officer, supervisor) and one platform (agent, admin) share an acknowledged request
with no outcome yet; the secretariat, a system administrator and the agent of another platform look on.
Every POST here is one the portal refuses without changing anything (already acknowledged, no outcome
yet, already issued, an empty note...), so the rows do not depend on their order; the test checks that
the request is unchanged at the end. Answers: 200 page, 302 to the login page (anonymous) or back to the
request after a refusal, 401 API without a token, 403 the role may never do this, 404 not within reach,
405 no such method.
"""
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.requests.models import Request, RequestItem
from tests.api_support import bearer, token_for
from tests.factories import Auth

WHO = ("anonymous", "regulator_officer", "regulator_supervisor", "platform_agent", "platform_admin",
       "secretariat", "system_admin", "other_platform_agent")

# method, path ({request}, {item} filled in), then the answer for each of WHO in that order:
#   anonymous, officer, supervisor, agent, platform admin, secretariat, system admin, other platform's agent
ANSWERS = [
    ("GET", "/home",                                (302, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/requests/",                           (302, 200, 200, 200, 200, 403, 403, 200)),
    ("GET", "/requests/new",                        (302, 200, 200, 403, 403, 403, 403, 403)),
    ("GET", "/requests/{request}",                  (302, 200, 200, 200, 200, 403, 403, 404)),
    ("POST", "/requests/{request}",                 (405, 405, 405, 405, 405, 405, 405, 405)),
    ("GET", "/requests/{request}/items/{item}",     (302, 200, 200, 200, 200, 403, 403, 404)),
    ("POST", "/requests/{request}/items/{item}",    (302, 403, 403, 200, 200, 403, 403, 404)),
    ("POST", "/requests/{request}/issue",           (302, 403, 302, 403, 403, 403, 403, 403)),
    ("POST", "/requests/{request}/send-back",       (302, 403, 302, 403, 403, 403, 403, 403)),
    ("POST", "/requests/{request}/acknowledge",     (302, 403, 403, 302, 302, 403, 403, 404)),
    ("POST", "/requests/{request}/respond",         (302, 403, 403, 302, 302, 403, 403, 404)),
    ("POST", "/requests/{request}/notes",           (302, 302, 302, 403, 403, 403, 403, 403)),
    ("GET", "/requests/settings",                   (302, 403, 403, 403, 403, 200, 200, 403)),
    ("GET", "/api/v1/requests/{request}",           (401, 200, 200, 200, 200, 403, 403, 404)),
    ("GET", "/account/api-tokens",                  (302, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/admin/api-tokens",                    (302, 403, 403, 403, 200, 403, 200, 403)),
    ("GET", "/admin/users",                         (302, 403, 403, 403, 200, 200, 200, 403)),
    ("GET", "/admin/users/invite",                  (302, 403, 403, 403, 200, 200, 200, 403)),
    ("GET", "/admin/organisations",                 (302, 403, 403, 403, 403, 200, 200, 403)),
    ("GET", "/admin/audit",                         (302, 403, 403, 403, 403, 403, 200, 403)),
    ("GET", "/admin/outbox",                        (302, 403, 403, 403, 403, 403, 200, 403)),
    ("GET", "/admin/contacts",                      (302, 403, 403, 403, 200, 200, 200, 403)),
    ("GET", "/webhooks/",                           (302, 403, 403, 403, 200, 403, 403, 403)),
    ("GET", "/verify",                              (200, 200, 200, 200, 200, 200, 200, 200)),
]


def test_the_table_names_every_role_once_per_row():
    assert all(len(answers) == len(WHO) for _method, _path, answers in ANSWERS)


@pytest.fixture
def world(app, make):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    with app.app_context():
        item_id = db.session.scalars(select(RequestItem.id).where(RequestItem.request_id == request_id)).first()
    users = {
        "regulator_officer": parties.officer, "regulator_supervisor": parties.supervisor,
        "platform_agent": parties.agent, "platform_admin": parties.platform_admin,
        "secretariat": make.user("secretariat"), "system_admin": make.user("system_admin"),
        "other_platform_agent": make.user("platform_agent"),
    }
    return request_id, item_id, users


def test_key_routes_answer_each_role_as_written(app, make, world):
    request_id, item_id, users = world
    failures = []
    for who in WHO:
        client = app.test_client()
        headers = {}
        if who != "anonymous":
            Auth(client, make).login(users[who])  # once per role: the cookie serves every row
            headers = bearer(token_for(app, users[who]))
        for method, template, answers in ANSWERS:
            path = template.format(request=request_id, item=item_id)
            response = client.open(path, method=method, data={},
                                   headers=headers if path.startswith("/api/") else {})
            expected = answers[WHO.index(who)]
            status = response.status_code
            if status == 302 and who != "anonymous" and response.location.startswith("/login"):
                status = "302 to the login page"  # a logged-in role must never be sent to log in
            if status != expected:
                failures.append((who, method, path, expected, status))
            response.close()
    assert failures == []
    with app.app_context():  # every refused POST left the request as it was
        req = db.session.get(Request, request_id)
        assert req.status == "acknowledged"
