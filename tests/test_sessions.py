"""Server-side sessions: idle and absolute expiry, revocation on logout and password change."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.models import User, UserSession
from portal.extensions import db

T0 = datetime(2026, 11, 25, 1, 0, 0, tzinfo=timezone.utc)
NEW_PASSWORD = "a brand new passphrase 2026"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _client_with_cookie(app, value):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_session_expires_after_thirty_idle_minutes(client, auth):
    with time_machine.travel(T0, tick=False):
        auth.as_role("platform_agent")
    with time_machine.travel(T0 + timedelta(minutes=29), tick=False):
        assert client.get("/home").status_code == 200
    with time_machine.travel(T0 + timedelta(minutes=58), tick=False):
        assert client.get("/home").status_code == 200  # activity at 29 min reset the idle clock
    with time_machine.travel(T0 + timedelta(minutes=89), tick=False):
        assert client.get("/home").status_code == 302


def test_session_ends_twelve_hours_after_login_even_when_active(client, auth):
    with time_machine.travel(T0, tick=False):
        auth.as_role("platform_agent")
    for minutes in range(20, 12 * 60, 20):
        with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
            assert client.get("/home").status_code == 200
    with time_machine.travel(T0 + timedelta(hours=12, minutes=1), tick=False):
        assert client.get("/home").status_code == 302


def test_expired_session_is_recorded_as_revoked(client, auth, app):
    with time_machine.travel(T0, tick=False):
        user = auth.as_role("platform_agent")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        client.get("/home")
    with app.app_context():
        session = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
        assert session.revoked_reason == "idle_timeout"


def test_logout_revokes_the_session_so_the_old_cookie_is_refused(client, auth, app):
    auth.as_role("platform_agent")
    stolen = _cookie(client)
    assert auth.logout().status_code == 302
    assert _client_with_cookie(app, stolen).get("/home").status_code == 302


def test_logout_requires_post(client, auth):
    auth.as_role("platform_agent")
    assert client.get("/logout").status_code == 405
    assert client.get("/home").status_code == 200


def test_login_gives_a_new_session_id(client, make, app):
    user = make.user()
    client.get("/login")
    before = client.get_cookie("session")
    auth_cookie_before = before.value if before else None
    from tests.factories import Auth

    Auth(client, make).login(user)
    assert _cookie(client) != auth_cookie_before
    with app.app_context():
        assert db.session.scalar(select(UserSession).where(UserSession.user_id == user.id)) is not None


def test_password_change_ends_other_sessions(app, make):
    from tests.factories import Auth

    user = make.user()
    laptop, phone = app.test_client(), app.test_client()
    Auth(laptop, make).login(user)
    Auth(phone, make).login(user)
    response = laptop.post("/account/password", data={
        "current_password": user.password, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert laptop.get("/home").status_code == 200
    assert phone.get("/home").status_code == 302


def test_password_change_with_wrong_current_password_changes_nothing(client, auth, app):
    user = auth.as_role("platform_agent")
    with app.app_context():
        before = db.session.get(User, user.id).password_hash
    response = client.post("/account/password", data={
        "current_password": "not my password at all", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 200 and b"The current password is incorrect." in response.data
    with app.app_context():
        assert db.session.get(User, user.id).password_hash == before


@pytest.mark.parametrize("new, message", [
    ("short pass", b"Use at least 12 characters."),
    ("x" * 129, b"Use at most 128 characters."),
    ("password1234", b"This password is too common."),
    ("iloveyou2026!!", b"This password is too common."),
    ("1qaz2wsx3edc", b"This password is too common."),
])
def test_password_rules(client, auth, new, message):
    user = auth.as_role("platform_agent")
    response = client.post("/account/password", data={
        "current_password": user.password, "new_password": new, "confirm": new})
    assert response.status_code == 200 and message in response.data


def test_user_sees_and_ends_own_other_session(app, make):
    from tests.factories import Auth

    user = make.user()
    laptop, phone = app.test_client(), app.test_client()
    Auth(laptop, make).login(user)
    Auth(phone, make).login(user)
    with app.app_context():
        sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                                      .order_by(UserSession.id)).all()
        phone_session = sessions[1].id
    page = laptop.get("/account/sessions")
    assert page.status_code == 200 and f"/account/sessions/{phone_session}/revoke".encode() in page.data
    assert laptop.post(f"/account/sessions/{phone_session}/revoke").status_code == 302
    assert phone.get("/home").status_code == 302
    assert laptop.get("/home").status_code == 200


def test_user_cannot_end_someone_elses_session(app, make):
    from tests.factories import Auth

    alice, bob = make.user(), make.user()
    alice_client, bob_client = app.test_client(), app.test_client()
    Auth(alice_client, make).login(alice)
    Auth(bob_client, make).login(bob)
    with app.app_context():
        bob_session = db.session.scalar(select(UserSession.id).where(UserSession.user_id == bob.id))
    assert alice_client.post(f"/account/sessions/{bob_session}/revoke").status_code == 404
    assert bob_client.get("/home").status_code == 200


def test_end_all_other_sessions(app, make):
    from tests.factories import Auth

    user = make.user()
    clients = [app.test_client() for _ in range(3)]
    for c in clients:
        Auth(c, make).login(user)
    assert clients[0].post("/account/sessions/revoke-others").status_code == 302
    assert [c.get("/home").status_code for c in clients] == [200, 302, 302]


def test_session_cookie_flags_in_development(client, auth):
    auth.as_role("platform_agent")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
