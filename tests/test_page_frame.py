"""The frame of every page (portal/site/frame.py): kept per language, user and address, it always shows the
user who asks, as they are now, the page they are on, and a form token of their own session that the
portal accepts."""
import re

import pytest
from flask_wtf.csrf import generate_csrf

from portal.accounts.models import Organisation, User
from portal.extensions import db
from portal.site import frame


def _banner(response) -> str:
    page = response.data.decode()
    return page[page.index("<header"):page.index("</header>")]


def _token(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', _banner(response)).group(1)


def test_each_user_sees_their_own_name_and_organisation(app, make, auth):
    first_org = make.organisation("platform", name_en="First Platform Inc.")
    second_org = make.organisation("platform", name_en="Second Platform Ltd.")
    first = make.user("platform_agent", first_org, name="Ada Agent")
    second = make.user("platform_agent", second_org, name="Bo Agent")
    first_client, second_client = app.test_client(), app.test_client()
    auth.login(first, first_client)
    auth.login(second, second_client)
    for _ in range(2):  # the second round reads kept frames
        mine, theirs = _banner(first_client.get("/requests/")), _banner(second_client.get("/requests/"))
        assert "Ada Agent · First Platform Inc." in mine and "Bo Agent" not in mine and "Second" not in mine
        assert "Bo Agent · Second Platform Ltd." in theirs and "Ada Agent" not in theirs and "First" not in theirs


def test_a_renamed_user_or_organisation_shows_at_once(app, client, make, auth):
    organisation = make.organisation("platform", name_en="Old Name Inc.")
    user = make.user("platform_agent", organisation, name="Old User")
    auth.login(user)
    assert "Old User · Old Name Inc." in _banner(client.get("/requests/"))
    with app.app_context():
        db.session.get(User, user.id).name = "New User"
        db.session.get(Organisation, organisation).name_en = "New Name Inc."
        db.session.commit()
    assert "New User · New Name Inc." in _banner(client.get("/requests/"))


def test_the_menu_follows_the_role_and_marks_the_page(app, client, make, auth):
    user = auth.as_role("regulator_officer")
    banner = _banner(client.get("/requests/"))
    assert 'href="/requests/" aria-current="page"' in banner and "New request" in banner
    assert "Audit log" not in banner
    with app.app_context():
        db.session.get(User, user.id).role = "regulator_supervisor"
        db.session.commit()
    banner = _banner(client.get("/home"))
    assert 'href="/requests/" aria-current' not in banner and 'href="/home" aria-current="page"' in banner


def test_the_language_form_comes_back_to_this_page_in_the_other_language(client, auth):
    auth.as_role("platform_agent")
    english = _banner(client.get("/requests/?status=all&sort=-issued"))
    assert 'name="next" value="/requests/?status=all&amp;sort=-issued"' in english
    korean = _banner(client.get("/requests/?status=all&sort=-issued&lang=ko"))
    assert "로그아웃" in korean and "Log out" not in korean
    assert "Log out" in _banner(client.get("/requests/?lang=en"))


def test_a_page_without_a_user_has_no_menu(client):
    banner = _banner(client.get("/login"))
    assert "portal-nav" not in banner and "portal-user" not in banner and 'name="next" value="/login"' in banner


def _choose(client, token: str, language: str = "ko"):
    return client.post("/language", data={"csrf_token": token, "language": language, "next": "/login"})


def test_the_frames_form_token_is_the_sessions_own_and_accepted(csrf_app):
    first, second = csrf_app.test_client(), csrf_app.test_client()
    first_token, second_token = _token(first.get("/login")), _token(second.get("/login"))
    assert first_token != second_token
    assert _choose(second, first_token).status_code == 400  # another session's token is refused
    assert _choose(first, first_token).status_code == 302
    assert _choose(second, second_token).status_code == 302


def test_the_form_token_is_signed_again_each_minute_and_each_stays_valid(csrf_app, monkeypatch):
    client = csrf_app.test_client()
    client.get("/registry")  # the session's token is made (a page whose view builds no form)
    period, signed = [10**9], []
    monkeypatch.setattr(frame, "_period", lambda: period[0])
    monkeypatch.setattr(frame, "generate_csrf", lambda: signed.append(1) or generate_csrf())
    first = _token(client.get("/registry"))
    assert _token(client.get("/registry")) == first and len(signed) == 1  # kept within the minute
    period[0] += 1
    second = _token(client.get("/registry"))
    assert len(signed) == 2
    assert _choose(client, first).status_code == 302 and _choose(client, second).status_code == 302


def test_the_pages_forms_carry_the_frames_token(csrf_app):
    page = csrf_app.test_client().get("/login")
    main = page.data.decode()[page.data.decode().index("<main"):]
    form_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', main)
    assert form_token and form_token.group(1) == _token(page)


def test_a_name_that_looks_like_markup_is_shown_as_text_and_the_token_stays_the_sessions(client, make, auth):
    user = make.user("platform_agent", name="<b>[form-token]</b>")
    auth.login(user)
    banner = _banner(client.get("/requests/"))
    assert "&lt;b&gt;[form-token]&lt;/b&gt;" in banner and "<b>" not in banner
