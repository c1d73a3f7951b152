"""Refused requests leave an audit row, so probing shows up in the log: a 404 (unknown id, unknown page,
invalid reset or invitation link), an unusable API token, a failed CSRF check and a rate-limit hit; never
with the token or the path's secrets, and capped per address and minute so the log cannot be flooded."""
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal import create_app
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.extensions import db
from tests.api_support import bearer


def _refusals(app) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("refused.%"))
                                  .order_by(AuditEvent.seq)).all()
        db.session.expunge_all()
        return rows


def test_a_request_id_that_does_not_exist_is_audited(app, client, auth):
    user = auth.as_role("regulator_officer")
    assert client.get("/requests/987654").status_code == 404
    [row] = _refusals(app)
    assert row.action == "refused.not_found" and row.ip == "127.0.0.1" and row.actor_id == user.id
    assert row.details["path"] == "/requests/987654" and row.details["method"] == "GET"


def test_an_unknown_page_is_audited_without_token_like_parts(app, client):
    secret = "Zq3xV9_kLmN0pQrStUvWxYz12345"
    assert client.get(f"/nothing-here/{secret}").status_code == 404
    [row] = _refusals(app)
    assert row.action == "refused.not_found" and secret not in str(row.details)


@pytest.mark.parametrize("path", ["/password/reset/{}", "/invitation/{}"])
def test_an_invalid_reset_or_invitation_link_is_audited_without_its_token(app, client, path):
    token = "not-a-real-token-but-long-enough-1234567890"
    assert client.get(path.format(token)).status_code == 404
    [row] = _refusals(app)
    assert row.action == "refused.not_found"
    assert token not in str(row.details) and row.details["path"] == path.format("<redacted>")


def test_an_unusable_api_token_is_audited_without_the_token(app, client):
    token = "pcp_" + "A" * 43
    assert client.get("/api/v1/requests", headers=bearer(token)).status_code == 401
    [row] = _refusals(app)
    assert row.action == "refused.api_token" and row.details["path"] == "/api/v1/requests"
    assert "AAAAAAAA" not in str(row.details)


def test_another_organisations_request_is_recorded_once_as_a_denial(app, client, auth, make):
    from portal.core.audit import AuditEvent as Event

    req = make.request()
    auth.as_role("platform_agent")  # an organisation that is not party to it
    assert client.get(f"/requests/{req}").status_code == 404
    assert _refusals(app) == []
    with app.app_context():
        assert db.session.scalar(select(Event).where(Event.action == "access.denied")) is not None


def test_a_failed_csrf_check_is_audited(app):
    application = create_app({**{k: app.config[k] for k in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI")},
                              "INSTANCE_PATH": app.instance_path, "WTF_CSRF_ENABLED": True,
                              "RATELIMIT_ENABLED": False})
    response = application.test_client().post("/login", data={"email": "a@example.test", "password": "whatever"})
    assert response.status_code == 400
    [row] = _refusals(application)
    assert row.action == "refused.csrf" and row.details["path"] == "/login"
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "2 per minute"}])
def test_a_rate_limit_hit_is_audited(app, client):
    from portal.extensions import limiter

    with app.app_context():
        limiter.reset()
    statuses = [client.post("/login", data={"email": "x@example.test", "password": "whatever it is"}).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 429]
    [row] = _refusals(app)
    assert row.action == "refused.rate_limited" and row.details["path"] == "/login"
    assert "whatever" not in str(row.details)


@pytest.mark.parametrize("app_config", [{"AUDIT_REFUSALS_PER_MINUTE": 3}])
def test_refusals_are_capped_per_address_and_minute_then_summarised_once(app, client):
    start = clock.now()
    with time_machine.travel(start, tick=False):
        for n in range(8):
            assert client.get(f"/requests/{900000 + n}").status_code in (302, 404)
            assert client.get(f"/probe-{n}").status_code == 404
    rows = _refusals(app)
    assert [r.action for r in rows] == ["refused.not_found"] * 3 + ["refused.capped"]
    assert rows[-1].details["limit"] == 3
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert client.get("/probe-later").status_code == 404
    assert _refusals(app)[-1].action == "refused.not_found" and len(_refusals(app)) == 5


@pytest.mark.parametrize("app_config", [{"AUDIT_REFUSALS_PER_MINUTE": 1}])
def test_the_cap_is_per_address(app, client):
    client.get("/probe-a")
    client.get("/probe-b")
    client.get("/probe-c", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    rows = _refusals(app)
    assert [(r.action, r.ip) for r in rows] == [("refused.not_found", "127.0.0.1"), ("refused.capped", "127.0.0.1"),
                                               ("refused.not_found", "192.0.2.7")]
