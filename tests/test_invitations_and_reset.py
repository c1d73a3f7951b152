"""Invitations (single use, 72 h) and password reset by e-mail (single use, 1 h, never skips the code)."""
import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import Organisation, User
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from tests.factories import current_code

T0 = datetime(2026, 11, 25, 3, 0, 0, tzinfo=timezone.utc)
NEW_PASSWORD = "a long and fresh passphrase"


def _invite(app, make, *, language="ko") -> tuple[str, str]:
    admin = make.user("system_admin")
    platform = make.organisation("platform")
    with app.test_request_context():
        invitation = services.invite(db.session.get(User, admin.id), email="New.Person@Example.test",
                                     name="New Person", organisation=db.session.get(Organisation, platform),
                                     role="platform_agent", language=language)
        db.session.commit()
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == invitation.email))
        link = re.search(r"http://portal\.test(/invitation/\S+)", message.body_text).group(1)
        return link, message.subject


def test_invitation_email_is_in_the_invitees_language_and_has_no_token_in_subject(app, make):
    link, subject = _invite(app, make, language="en")
    assert subject == "Invitation to the Platform Cooperation Portal"
    token = link.rsplit("/", 1)[1]
    assert token not in subject


def test_invitation_creates_the_account_then_enrolment(app, make, client):
    link, _ = _invite(app, make)
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "timezone": "Asia/Seoul"})
    assert response.status_code == 302 and response.location.endswith("/login/enrol")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.person@example.test"))
        assert user.role == "platform_agent" and user.totp_confirmed_at is None
    assert client.get("/home").status_code == 302  # no session before the second factor is set up


def test_invitation_link_works_once(app, make):
    link, _ = _invite(app, make)
    app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "timezone": "Asia/Seoul"})
    again = app.test_client().get(link)
    assert again.status_code == 404


def test_invitation_expires_after_72_hours(app, make):
    with time_machine.travel(T0, tick=False):
        link, _ = _invite(app, make)
    with time_machine.travel(T0 + timedelta(hours=72, minutes=1), tick=False):
        assert app.test_client().get(link).status_code == 404


def test_invitation_with_a_weak_password_creates_nothing(app, make, client):
    link, _ = _invite(app, make)
    response = client.post(link, data={"password": "password1234", "confirm": "password1234", "timezone": "Asia/Seoul"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "new.person@example.test")) is None


def _reset_link(app, client, email) -> str:
    client.post("/password/forgot", data={"email": email})
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "password_reset")
                                    .order_by(OutboxMessage.id.desc()))
        return re.search(r"http://portal\.test(/password/reset/\S+)", message.body_text).group(1)


def test_forgot_password_says_the_same_for_unknown_addresses(client, make, app):
    user = make.user()
    known = client.post("/password/forgot", data={"email": user.email}, follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.test"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert b"If an account uses this address" in known.data and b"If an account uses this address" in unknown.data
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "nobody@example.test")) is None


def test_password_reset_sets_the_password_and_still_asks_for_the_code(client, make, app):
    user = make.user()
    link = _reset_link(app, client, user.email)
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/login")
    response = client.post("/login", data={"email": user.email, "password": NEW_PASSWORD})
    assert response.location.endswith("/login/code")
    assert client.get("/home").status_code == 302
    assert client.post("/login/code", data={"code": current_code(user.totp_secret)}).location.endswith("/home")


def test_password_reset_link_is_single_use(client, make, app):
    user = make.user()
    link = _reset_link(app, client, user.email)
    client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.get(link).status_code == 404


def test_password_reset_link_expires_after_an_hour(client, make, app):
    user = make.user()
    with time_machine.travel(T0, tick=False):
        link = _reset_link(app, client, user.email)
    with time_machine.travel(T0 + timedelta(minutes=61), tick=False):
        assert client.get(link).status_code == 404


def test_password_reset_ends_every_session(app, make):
    from tests.factories import Auth

    user = make.user()
    logged_in = app.test_client()
    Auth(logged_in, make).login(user)
    other = app.test_client()
    link = _reset_link(app, other, user.email)
    other.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert logged_in.get("/home").status_code == 302


def test_recovery_codes_can_be_renewed_with_the_password(client, auth, app):
    user = auth.as_role("platform_agent")
    refused = client.post("/account/recovery-codes", data={"current_password": "not it, but long"})
    assert refused.status_code == 200 and b"incorrect" in refused.data
    page = client.post("/account/recovery-codes", data={"current_password": user.password})
    assert len(re.findall(r"<code>[0-9a-f]{5}-[0-9a-f]{5}</code>", page.data.decode())) == 10


def test_preferences_change_language_and_zone(client, auth, app):
    user = auth.as_role("platform_agent")
    response = client.post("/account", data={"language": "ko", "timezone": "Europe/Dublin"})
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.get(User, user.id)
        assert (saved.language, saved.timezone) == ("ko", "Europe/Dublin")
    assert '<html lang="ko">' in client.get("/home").data.decode()


@pytest.mark.parametrize("zone", ["Mars/Olympus", "US/Pacific", "Etc/GMT+3"])
def test_preferences_refuse_a_zone_the_list_does_not_offer(client, auth, zone):
    auth.as_role("platform_agent")
    response = client.post("/account", data={"language": "en", "timezone": zone})
    assert response.status_code == 200 and b"Choose a time zone from the list." in response.data
    _ = pyotp
