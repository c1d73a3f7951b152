"""Issue 10, points 3 and 4: reset links and API tokens end with the credentials they came with; an
invitation does not reveal accounts outside the inviter's reach."""
import re

from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import Invitation, Organisation, User
from portal.core.audit import AuditEvent
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from tests.api_support import bearer, token_for
from tests.factories import Auth

NEW_PASSWORD = "a long and fresh passphrase"
OTHER_PASSWORD = "another long fresh passphrase"


def _reset_link(app, client, email) -> str:
    client.post("/password/forgot", data={"email": email})
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "password_reset")
                                    .order_by(OutboxMessage.id.desc()))
        return re.search(r"http://portal\.test(/password/reset/\S+)", message.body_text).group(1)


def _api_works(app, text) -> bool:
    return app.test_client().get("/api/v1/requests", headers=bearer(text)).status_code == 200


def _admin_act(app, make, user, action):
    admin = make.user("system_admin")
    client = app.test_client()
    Auth(client, make).login(admin)
    response = client.post(f"/admin/users/{user.id}/{action}")
    assert response.status_code == 302, response.data


# --- Point 3: reset links ---------------------------------------------------------------------------------

def test_using_a_second_reset_link_ends_the_first(app, make, client):
    user = make.user()
    first = _reset_link(app, client, user.email)
    second = _reset_link(app, client, user.email)
    assert first != second
    assert client.post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert client.get(first).status_code == 404
    response = client.post(first, data={"password": OTHER_PASSWORD, "confirm": OTHER_PASSWORD})
    assert response.status_code == 404
    with app.app_context():
        assert services.authenticate(user.email, NEW_PASSWORD).id == user.id


def test_changing_the_password_ends_open_reset_links(app, make, client):
    user = make.user()
    link = _reset_link(app, app.test_client(), user.email)
    Auth(client, make).login(user)
    response = client.post("/account/password", data={"current_password": user.password,
                                                      "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert app.test_client().get(link).status_code == 404


def test_deactivation_ends_open_reset_links_even_after_reactivation(app, make):
    user = make.user()
    link = _reset_link(app, app.test_client(), user.email)
    _admin_act(app, make, user, "deactivate")
    _admin_act(app, make, user, "reactivate")
    assert app.test_client().get(link).status_code == 404


# --- Point 3: invitations -----------------------------------------------------------------------------------

def _invite(app, by_id, email, organisation_id):
    with app.test_request_context():
        by = db.session.get(User, by_id)
        services.invite(by, email=email, name="Someone", organisation=db.session.get(Organisation, organisation_id),
                        role="platform_agent", language="en")
        db.session.commit()


def test_a_platform_admin_cannot_tell_an_account_of_another_organisation_exists(app, make):
    own = make.organisation("platform")
    other = make.organisation("platform")
    admin = make.user("platform_admin", own)
    elsewhere = make.user("platform_agent", other, email="taken@example.test")
    client = app.test_client()
    Auth(client, make).login(admin)
    answers = []
    for email in ("taken@example.test", "free@example.test"):
        response = client.post("/admin/users/invite", data={"email": email, "name": "Someone", "role": "platform_agent",
                                                            "language": "en", "organisation": own})
        page = client.get(response.location).data.decode()
        flashed = re.findall(r'<div class="portal-alert[^"]*"[^>]*>.*?</div>', page, re.S)
        answers.append((response.status_code, response.location, [f.replace(email, "ADDRESS") for f in flashed]))
        assert "already exists" not in page
    assert answers[0] == answers[1] and answers[0][0] == 302 and answers[0][2]
    with app.app_context():
        invited = db.session.scalars(select(Invitation.email).where(Invitation.organisation_id == own)).all()
        assert sorted(invited) == ["free@example.test", "taken@example.test"]
        # No link reaches the existing account's owner, whose account is untouched.
        assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "taken@example.test")) is None
        account = db.session.get(User, elsewhere.id)
        assert account.active and account.organisation_id == other
        assert services.authenticate("taken@example.test", elsewhere.password).id == elsewhere.id
        # The attempt is on the record of the account's organisation, not the inviter's.
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invitation.existing_account"))
        assert row.organisation_id == other


def test_an_invitation_does_not_withdraw_another_organisations_invitation(app, make):
    first = make.organisation("platform")
    second = make.organisation("platform")
    admin_one = make.user("platform_admin", first)
    admin_two = make.user("platform_admin", second)
    _invite(app, admin_one.id, "wanted@example.test", first)
    _invite(app, admin_two.id, "wanted@example.test", second)
    with app.app_context():
        rows = db.session.scalars(select(Invitation).where(Invitation.email == "wanted@example.test")
                                  .order_by(Invitation.id)).all()
        assert [row.revoked_at for row in rows] == [None, None]


def test_an_admin_within_reach_is_still_told_the_account_exists(app, make):
    own = make.organisation("platform")
    admin = make.user("platform_admin", own)
    make.user("platform_agent", own, email="colleague@example.test")
    client = app.test_client()
    Auth(client, make).login(admin)
    response = client.post("/admin/users/invite", data={"email": "colleague@example.test", "name": "Someone",
                                                        "role": "platform_agent", "language": "en",
                                                        "organisation": own}, follow_redirects=True)
    assert b"already exists" in response.data


# --- Point 4: API tokens --------------------------------------------------------------------------------------

def test_reset_by_email_revokes_api_tokens(app, make, client):
    user = make.user()
    text = token_for(app, user)
    assert _api_works(app, text)
    link = _reset_link(app, client, user.email)
    client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert not _api_works(app, text)


def test_two_factor_reset_revokes_api_tokens(app, make):
    user = make.user()
    text = token_for(app, user)
    _admin_act(app, make, user, "reset-2fa")
    assert not _api_works(app, text)


def test_deactivation_revokes_api_tokens_for_good(app, make):
    user = make.user()
    text = token_for(app, user)
    _admin_act(app, make, user, "deactivate")
    _admin_act(app, make, user, "reactivate")
    assert not _api_works(app, text)


def test_password_change_offers_to_revoke_tokens_checked_by_default(app, make, client):
    user = make.user()
    Auth(client, make).login(user)
    page = client.get("/account/password").data.decode()
    box = re.search(r'<input[^>]*name="revoke_tokens"[^>]*>', page).group(0)
    assert "checked" in box


def test_password_change_revokes_tokens_when_chosen(app, make, client):
    user = make.user()
    text = token_for(app, user)
    Auth(client, make).login(user)
    response = client.post("/account/password", data={"current_password": user.password, "new_password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD, "revoke_tokens": "y"})
    assert response.status_code == 302
    assert not _api_works(app, text)


def test_password_change_keeps_tokens_when_unchecked(app, make, client):
    user = make.user()
    text = token_for(app, user)
    Auth(client, make).login(user)
    response = client.post("/account/password", data={"current_password": user.password, "new_password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert _api_works(app, text)
