"""Korean and English everywhere: complete catalogues, a fresh template, the language chosen in order."""
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "portal" / "translations"


def _catalog(path: Path, locale=None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(catalog) -> set:
    return {message.id for message in catalog if message.id}


@pytest.mark.parametrize("language", ["ko", "en"])
def test_catalogue_is_complete(language):
    catalog = _catalog(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", language)
    untranslated = [m.id for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


@pytest.mark.parametrize("language", ["ko", "en"])
def test_catalogue_matches_the_template(language):
    template = _ids(_catalog(TRANSLATIONS / "messages.pot"))
    catalog = _ids(_catalog(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", language))
    assert template - catalog == set(), "run `make translations`"
    assert catalog - template == set(), "obsolete entries: run `make translations`"


def test_template_catalogue_is_not_stale(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "--no-wrap", "-F", "babel.cfg", "--ignore-dirs", ".* __pycache__",
         "-k", "_l", "-k", "lazy_gettext", "-k", "ngettext:1,2", "-k", "operation:1", "-k", "english",  # as the Makefile
         "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    committed, extracted = _ids(_catalog(TRANSLATIONS / "messages.pot")), _ids(_catalog(fresh))
    assert extracted - committed == set(), "strings missing from messages.pot: run `make translations`"
    assert committed - extracted == set(), "messages.pot has strings no longer used: run `make translations`"


@pytest.mark.parametrize("language", ["ko", "en"])
def test_korean_placeholders_match(language):
    """A translation that drops or renames a %(name)s placeholder would break at run time."""
    import re

    catalog = _catalog(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", language)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\((\w+)\)[sd]", " ".join(ids)))
        for string in strings:
            assert set(re.findall(r"%\((\w+)\)[sd]", string)) == wanted, message.id


@pytest.mark.parametrize("language, heading", [("ko", "로그인"), ("en", "Log in")])
def test_login_page_in_both_languages(client, language, heading):
    body = client.get(f"/login?lang={language}").data.decode()
    assert f'<html lang="{language}">' in body and f"<h1>{heading}</h1>" in body


@pytest.mark.parametrize("language, text", [("ko", "환영합니다"), ("en", "Welcome")])
def test_home_page_in_both_languages(client, auth, language, text):
    auth.as_role("regulator_officer")
    assert text in client.get(f"/home?lang={language}").data.decode()


def test_korean_is_the_default(client):
    assert '<html lang="ko">' in client.get("/login", headers={"Accept-Language": ""}).data.decode()


def test_accept_language_is_used_when_nothing_else_says(client):
    body = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).data.decode()
    assert '<html lang="en">' in body


def test_switcher_keeps_the_choice_in_the_session(client):
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.status_code == 302 and response.location == "/login"
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "ko"}).data.decode()
    assert '<html lang="ko">' in client.get("/login?lang=ko").data.decode()


def test_switcher_refuses_an_offsite_next(client):
    response = client.post("/language", data={"language": "en", "next": "//evil.example/"})
    assert "evil" not in response.location


def test_user_setting_beats_session_and_query_beats_user(client, auth, app):
    auth.as_role("platform_agent")  # factory users read English
    assert '<html lang="en">' in client.get("/home", headers={"Accept-Language": "ko"}).data.decode()
    assert '<html lang="ko">' in client.get("/home?lang=ko").data.decode()


def test_switcher_saves_a_logged_in_users_language(client, auth, app):
    from portal.accounts.models import User
    from portal.extensions import db

    user = auth.as_role("platform_agent")
    client.post("/language", data={"language": "ko", "next": "/home"})
    with app.app_context():
        assert db.session.get(User, user.id).language == "ko"


def test_times_are_shown_in_kst_and_the_viewers_zone(app):
    from datetime import datetime, timezone

    from flask_babel import force_locale

    from portal.core.clock import format_moment

    moment = datetime(2026, 11, 25, 5, 3, tzinfo=timezone.utc)
    with app.test_request_context(), force_locale("en"):
        text = format_moment(moment, "Europe/Dublin")
    assert text == "25 November 2026, 14:03 KST (25 November 2026, 05:03 Europe/Dublin)"
    with app.test_request_context(), force_locale("ko"):
        korean = format_moment(moment, "Europe/Dublin")
    assert korean == "2026년 11월 25일 14:03 KST (2026년 11월 25일 05:03 Europe/Dublin)"
