"""Languages through redirects and e-mails: ?lang= is kept in the session, and every link in an e-mail
carries its recipient's language."""
import re

import pytest
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.core import outbox
from portal.core.outbox import OutboxMessage
from portal.extensions import db


@pytest.mark.parametrize("language, other", [("en", "ko"), ("ko", "en")])
def test_a_language_asked_with_lang_holds_through_the_redirect_to_login(client, language, other):
    response = client.get(f"/?lang={language}", headers={"Accept-Language": other}, follow_redirects=True)
    assert response.request.path == "/login"
    assert f'<html lang="{language}">' in response.data.decode()


def test_a_language_asked_with_lang_holds_on_the_pages_after(client):
    client.get("/password/forgot?lang=en", headers={"Accept-Language": "ko"})
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "ko"}).data.decode()


def test_lang_on_a_page_does_not_change_a_logged_in_users_setting(app, client, auth, make):
    from portal.accounts.models import User

    user = auth.as_role("platform_agent")
    assert '<html lang="ko">' in client.get("/home?lang=ko").data.decode()
    with app.app_context():
        assert db.session.get(User, user.id).language == "en"


def test_the_api_sets_no_session_cookie_for_lang(client):
    response = client.get("/api/v1/openapi.json?lang=en")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_reset_link_carries_the_recipients_language(app, make, language):
    user = make.user("platform_agent", language=language)
    with app.test_request_context():
        accounts.request_password_reset(user.email)
        db.session.commit()
        body = db.session.scalar(select(OutboxMessage.body_text).where(OutboxMessage.recipient == user.email))
    links = re.findall(r"http://portal\.test\S*", body)
    assert links and all(link.endswith(f"?lang={language}") for link in links), links


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_link_in_a_request_email_carries_the_recipients_language(app, make, language):
    parties = make.parties(language=language)
    make.request(parties, "issued")
    with app.app_context():
        bodies = db.session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.channel == "email")).all()
    links = [link for body in bodies for link in re.findall(r"http://portal\.test\S*", body)]
    assert links
    assert all(re.search(rf"[?&]lang={language}(#|$)", link) for link in links), links


def test_links_keep_their_query_and_fragment_and_lose_trailing_punctuation(app):
    text = ("See http://portal.test/requests/5?tab=items#messages. Or (http://portal.test/home?lang=en), "
            "not http://portal.test.evil.example/x nor https://example.com/a.")
    with app.app_context():
        assert outbox.links_in_language(text, "ko") == (
            "See http://portal.test/requests/5?tab=items&lang=ko#messages. Or (http://portal.test/home?lang=ko), "
            "not http://portal.test.evil.example/x nor https://example.com/a.")
