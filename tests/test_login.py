"""Login: password then a TOTP code, replay refused, lockout per account, one message for every refusal."""
import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.models import RecoveryCode, User, UserSession
from portal.core.audit import AuditEvent
from portal.extensions import db
from tests.factories import current_code

T0 = datetime(2026, 11, 25, 5, 0, 7, tzinfo=timezone.utc)


def _user(app, user_id) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def _codes_on(page: bytes) -> list[str]:
    return re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", page.decode())


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_password_alone_gives_no_session(client, make):
    user = make.user()
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 302 and response.location.endswith("/login/code")
    assert client.get("/home").status_code == 302  # still sent to the login page
    with client.application.app_context():
        assert db.session.scalar(select(UserSession).where(UserSession.user_id == user.id)) is None


def test_login_with_code_opens_a_server_side_session(client, make, app):
    user = make.user()
    client.post("/login", data={"email": user.email, "password": user.password})
    response = client.post("/login/code", data={"code": current_code(user.totp_secret)})
    assert response.status_code == 302 and response.location.endswith("/home")
    assert client.get("/home").status_code == 200
    with app.app_context():
        sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
        assert len(sessions) == 1 and sessions[0].revoked_at is None
    assert {"login.password_ok", "2fa.success", "login.success"} <= set(_actions(app))


def test_email_is_case_insensitive(client, make):
    user = make.user(email="Someone@Example.test".lower())
    response = client.post("/login", data={"email": "SOMEONE@example.TEST", "password": user.password})
    assert response.location.endswith("/login/code")


def test_totp_code_cannot_be_used_twice(app, make):
    user = make.user()
    with time_machine.travel(T0, tick=False):
        code = pyotp.TOTP(user.totp_secret).now()
        first, second = app.test_client(), app.test_client()
        for c in (first, second):
            c.post("/login", data={"email": user.email, "password": user.password})
        assert first.post("/login/code", data={"code": code}).location.endswith("/home")
        response = second.post("/login/code", data={"code": code})
    assert response.status_code == 200
    assert b"This code is not valid" in response.data
    assert second.get("/home").status_code == 302
    assert "2fa.replay_refused" in _actions(app)


def test_code_from_the_previous_step_is_accepted_once(client, make):
    user = make.user()
    with time_machine.travel(T0, tick=False):
        previous = pyotp.TOTP(user.totp_secret).at(T0 - timedelta(seconds=30))
        client.post("/login", data={"email": user.email, "password": user.password})
        assert client.post("/login/code", data={"code": previous}).location.endswith("/home")


def test_code_two_steps_old_is_refused(client, make):
    user = make.user()
    with time_machine.travel(T0, tick=False):
        old = pyotp.TOTP(user.totp_secret).at(T0 - timedelta(seconds=90))
        client.post("/login", data={"email": user.email, "password": user.password})
        assert client.post("/login/code", data={"code": old}).status_code == 200


@pytest.mark.parametrize("case", ["unknown", "wrong_password", "locked"])
def test_same_message_for_unknown_wrong_and_locked(client, make, app, case):
    user = make.user()
    if case == "locked":
        with app.app_context():
            db.session.get(User, user.id).locked_until = datetime.now(timezone.utc) + timedelta(minutes=10)
            db.session.commit()
    email = "nobody@example.test" if case == "unknown" else user.email
    password = user.password if case == "locked" else "wrong password of some length"
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 200
    assert b"The e-mail address or password is incorrect, or the account is temporarily locked." in response.data


def test_five_failures_lock_the_account_for_fifteen_minutes(client, make, app):
    user = make.user()
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            client.post("/login", data={"email": user.email, "password": "not the password at all"})
        locked = client.post("/login", data={"email": user.email, "password": user.password})
        assert locked.status_code == 200  # the right password is refused while locked
    assert "account.locked" in _actions(app)
    with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
        response = client.post("/login", data={"email": user.email, "password": user.password})
        assert response.location.endswith("/login/code")


def test_lockout_does_not_affect_other_accounts(client, make, app):
    victim, other = make.user(), make.user()
    for _ in range(6):
        client.post("/login", data={"email": victim.email, "password": "not the password at all"})
    response = client.post("/login", data={"email": other.email, "password": other.password})
    assert response.location.endswith("/login/code")


def test_wrong_codes_count_towards_the_lockout(client, make, app):
    user = make.user()
    client.post("/login", data={"email": user.email, "password": user.password})
    for _ in range(4):
        assert client.post("/login/code", data={"code": "000000"}).status_code in (200, 302)
    response = client.post("/login/code", data={"code": "000000"})
    assert response.status_code == 302 and response.location.endswith("/login")
    assert _user(app, user.id).locked_until is not None


def test_deactivated_user_cannot_log_in(client, make, app):
    user = make.user(active=False)
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 200 and b"temporarily locked" in response.data


def test_pending_login_expires(client, make):
    user = make.user()
    with time_machine.travel(T0, tick=False):
        client.post("/login", data={"email": user.email, "password": user.password})
    with time_machine.travel(T0 + timedelta(minutes=6), tick=False):
        response = client.post("/login/code", data={"code": pyotp.TOTP(user.totp_secret).now()})
    assert response.status_code == 302 and response.location.endswith("/login")


def test_first_login_enrols_with_qr_and_secret_then_shows_ten_recovery_codes(client, make, app):
    user = make.user(enrolled=False)
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.location.endswith("/login/enrol")
    page = client.get("/login/enrol")
    assert b"data:image/svg+xml" in page.data
    secret = _user(app, user.id).totp_secret
    assert secret.encode() in page.data
    done = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    with app.app_context():
        codes = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
        assert len(codes) == 10
        # Stored hashed: no code shown on the page is in the database.
        shown = _codes_on(done.data)
        assert len(shown) == 10
        assert not any(code.code_hash == s or s in code.code_hash for code in codes for s in shown)
    assert client.get("/home").status_code == 200
    assert "2fa.enrolled" in _actions(app)


def test_enrolment_with_wrong_code_is_refused(client, make, app):
    user = make.user(enrolled=False)
    client.post("/login", data={"email": user.email, "password": user.password})
    client.get("/login/enrol")
    response = client.post("/login/enrol", data={"code": "123456"})
    assert response.status_code == 200 and b"This code is not valid" in response.data
    assert _user(app, user.id).totp_confirmed_at is None
    assert client.get("/home").status_code == 302


def test_enrolled_user_cannot_reach_enrolment(client, make):
    user = make.user()
    client.post("/login", data={"email": user.email, "password": user.password})
    assert client.get("/login/enrol").location.endswith("/login/code")


def _enrol(client, app, user) -> list[str]:
    client.post("/login", data={"email": user.email, "password": user.password})
    client.get("/login/enrol")
    secret = _user(app, user.id).totp_secret
    return _codes_on(client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()}).data)


def test_recovery_code_logs_in_once(app, make):
    user = make.user(enrolled=False)
    codes = _enrol(app.test_client(), app, user)
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": user.password})
    assert client.post("/login/code", data={"code": codes[0].upper()}).location.endswith("/home")
    again = app.test_client()
    again.post("/login", data={"email": user.email, "password": user.password})
    assert again.post("/login/code", data={"code": codes[0]}).status_code == 200
    assert "2fa.recovery_code_used" in _actions(app)


def test_login_page_redirects_back_to_the_page_asked_for(client, make):
    user = make.user()
    assert "next=/account" in client.get("/account").location
    client.post("/login?next=/account", data={"email": user.email, "password": user.password})
    response = client.post("/login/code", data={"code": current_code(user.totp_secret)})
    assert response.location.endswith("/account")


def test_login_refuses_an_offsite_next(client, make):
    user = make.user()
    client.post("/login?next=https://evil.example/", data={"email": user.email, "password": user.password})
    response = client.post("/login/code", data={"code": current_code(user.totp_secret)})
    assert response.location.endswith("/home")


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}])
def test_login_is_rate_limited_per_ip(client):
    from portal.extensions import limiter

    with client.application.app_context():
        limiter.reset()
    statuses = [client.post("/login", data={"email": f"x{i}@example.test", "password": "whatever it is"}).status_code
                for i in range(4)]
    assert statuses == [200, 200, 200, 429]
