"""Personal API tokens: shown once, stored hashed, refused when revoked, expired or their user is gone;
a session cookie alone never authenticates an API call."""
import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.models import User
from portal.api.models import ApiToken
from portal.core import clock
from portal.core.audit import AuditEvent
from portal.extensions import db
from tests.api_support import bearer, token_for


def _create_through_page(client):
    return client.post("/account/api-tokens", data={"name": "case tool", "scopes": ["requests:read"],
                                                    "valid_days": "30"})


def test_token_is_shown_once_and_stored_hashed(app, client, auth):
    user = auth.as_role("platform_agent")
    response = _create_through_page(client)
    assert response.status_code == 200
    text = re.search(r"pcp_[A-Za-z0-9_\-]{40,}", response.get_data(as_text=True)).group(0)
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
        assert row.token_hash == hashlib.sha256(text.encode()).hexdigest()
        assert text not in {row.name, row.prefix, row.scopes, row.token_hash}
        assert text.startswith(row.prefix)
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.created")) is not None
    listing = client.get("/account/api-tokens").get_data(as_text=True)
    assert "case tool" in listing and text not in listing
    assert client.get("/api/v1/requests", headers=bearer(text)).status_code == 200


def test_scopes_and_validity_are_required(app, client, auth):
    auth.as_role("platform_agent")
    response = client.post("/account/api-tokens", data={"name": "x", "valid_days": "30"})
    assert response.status_code == 200 and b"pcp_" not in response.data
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_revoked_token_is_refused(app, client, auth):
    user = auth.as_role("platform_agent")
    text = token_for(app, user)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert client.post(f"/account/api-tokens/{token_id}/revoke").status_code == 302
    response = client.get("/api/v1/requests", headers=bearer(text))
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorised"


def test_expired_token_is_refused(app, client, make):
    user = make.user("platform_agent")
    text = token_for(app, user, valid_days=30)
    assert client.get("/api/v1/requests", headers=bearer(text)).status_code == 200
    with time_machine.travel(clock.now() + timedelta(days=31), tick=False):
        response = client.get("/api/v1/requests", headers=bearer(text))
    assert response.status_code == 401 and response.is_json


def test_deactivated_users_token_is_refused(app, client, make):
    user = make.user("regulator_officer")
    text = token_for(app, user)
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert client.get("/api/v1/requests", headers=bearer(text)).status_code == 401


def test_unknown_and_malformed_tokens_are_refused(client):
    for header in ({"Authorization": "Bearer pcp_nonsense"}, {"Authorization": "Basic abc"}, {}):
        response = client.get("/api/v1/requests", headers=header)
        assert response.status_code == 401
        assert set(response.get_json()) >= {"error", "message"}


def test_session_cookie_alone_does_not_authenticate_api(client, auth):
    auth.as_role("regulator_officer")
    assert client.get("/requests/").status_code == 200  # the cookie works for the pages
    assert client.get("/api/v1/requests").status_code == 401
    assert client.post("/api/v1/requests", json={}).status_code == 401


def test_token_acts_with_its_scopes_only(app, client, make):
    user = make.user("regulator_officer")
    text = token_for(app, user, scopes=("requests:read",))
    response = client.post("/api/v1/requests", json={}, headers=bearer(text))
    assert response.status_code == 403 and response.get_json()["error"] == "insufficient_scope"
    with app.app_context():
        denied = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access.denied"))
        assert denied.actor_id == user.id and denied.details["scope"] == ["requests:write"]


def test_last_use_is_recorded(app, client, make):
    user = make.user("platform_agent")
    text = token_for(app, user)
    client.get("/api/v1/requests", headers=bearer(text))
    with app.app_context():
        assert db.session.scalar(select(ApiToken)).last_used_at is not None


def test_user_cannot_revoke_someone_elses_token(app, client, auth, make):
    other = make.user("platform_agent")
    token_for(app, other)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    auth.as_role("platform_agent")
    assert client.post(f"/account/api-tokens/{token_id}/revoke").status_code == 404


def test_platform_admin_revokes_own_organisations_tokens_only(app, client, auth, make):
    platform = make.organisation("platform")
    colleague, stranger = make.user("platform_agent", platform), make.user("platform_agent")
    colleague_text, stranger_text = token_for(app, colleague), token_for(app, stranger)
    with app.app_context():
        ids = {row.user_id: row.id for row in db.session.scalars(select(ApiToken))}
    auth.as_role("platform_admin", platform)
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    assert colleague.email in page and stranger.email not in page
    assert client.post(f"/admin/api-tokens/{ids[stranger.id]}/revoke").status_code == 404
    assert client.post(f"/admin/api-tokens/{ids[colleague.id]}/revoke").status_code == 302
    assert client.get("/api/v1/requests", headers=bearer(colleague_text)).status_code == 401
    assert client.get("/api/v1/requests", headers=bearer(stranger_text)).status_code == 200


def test_system_admin_revokes_any_token(app, client, auth, make):
    text = token_for(app, make.user("regulator_officer"))
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    auth.as_role("system_admin")
    assert client.post(f"/admin/api-tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/requests", headers=bearer(text)).status_code == 401


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "API_RATE_LIMIT": "3 per minute"}])
def test_rate_limit_is_per_token(app, client, make):
    first_text, second_text = token_for(app, make.user("platform_agent")), token_for(app, make.user("platform_agent"))
    statuses = [client.get("/api/v1/requests", headers=bearer(first_text)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/v1/requests", headers=bearer(first_text)).get_json()["error"] == "rate_limited"
    assert client.get("/api/v1/requests", headers=bearer(second_text)).status_code == 200


def test_demo_seed_writes_a_working_token_per_user(app, runner, client):
    import json
    from pathlib import Path

    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    users = json.loads((Path(app.instance_path) / "demo-credentials.json").read_text())["users"]
    assert all(u["api_token"].startswith("pcp_") for u in users)
    agent = next(u for u in users if u["role"] == "platform_agent")
    body = client.get("/api/v1/requests", headers=bearer(agent["api_token"])).get_json()
    assert isinstance(body["requests"], list)
