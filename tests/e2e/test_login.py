"""In a real browser: log in with password and TOTP in Korean and in English, and enrol a first-time user."""
import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def at(path: str):
    return re.compile(re.escape(path) + r"(\?.*)?$")


def submit(page):
    page.locator("main form [type=submit]").click()


def enter_password(page, user):
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)
    submit(page)


def enter_code(page, secret: str):
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    submit(page)


def choose_language(page, name: str):
    page.locator("form.portal-language").get_by_role("button", name=name).click()


def assert_styled(page):
    """The design system's stylesheet and the PretendardGOV web font come from /static/krds/ and apply."""
    page.evaluate("document.fonts.ready")
    krds_rules = page.evaluate("""() => [...document.styleSheets]
        .filter((s) => s.href && new URL(s.href).pathname.startsWith('/static/krds/'))
        .reduce((n, s) => n + s.cssRules.length, 0)""")
    assert krds_rules > 100, "the KRDS stylesheet did not load"
    fonts = page.evaluate("""() => [...document.fonts]
        .filter((f) => f.family.replace(/"/g, '') === 'Pretendard GOV' && f.status === 'loaded').length""")
    assert fonts >= 1, "the PretendardGOV web font did not load"
    assert "Pretendard GOV" in page.evaluate("getComputedStyle(document.body).fontFamily")


def test_login_with_totp_in_korean_reaches_home(page, make):
    user = make.user("regulator_officer", language="ko")

    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("h1")).to_have_text("로그인")
    enter_password(page, user)
    expect(page).to_have_url(at("/login/code"))
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    enter_code(page, user.totp_secret)

    expect(page).to_have_url(at("/home"))
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("h1")).to_contain_text("환영합니다")
    assert_styled(page)
    screenshot(page, "home-ko")


def test_login_with_totp_in_english_chosen_with_the_switcher(page, make):
    user = make.user("platform_agent", language="ko")

    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    choose_language(page, "English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Log in")
    enter_password(page, user)
    expect(page).to_have_url(at("/login/code"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Enter your verification code")
    enter_code(page, user.totp_secret)
    expect(page).to_have_url(at("/home"))

    # The user's own setting (Korean) wins over the session after login; the switcher changes it.
    choose_language(page, "English")
    expect(page).to_have_url(at("/home"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Welcome")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_styled(page)
    screenshot(page, "home-en")


@pytest.mark.parametrize("browser_language", ["en-US"])
def test_first_login_enrols_two_factor_and_shows_ten_recovery_codes(page, make):
    user = make.user("platform_admin", enrolled=False, language="en")

    page.goto("/login")
    enter_password(page, user)
    expect(page).to_have_url(at("/login/enrol"))
    expect(page.locator("main img[src^='data:image/svg+xml']")).to_be_visible()
    secret = page.locator("code.portal-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret.replace(" ", ""))
    enter_code(page, secret.replace(" ", ""))

    expect(page.locator("h1")).to_have_text("Your recovery codes")
    expect(page.locator("ul.portal-codes li")).to_have_count(10)
    screenshot(page, "recovery-codes-en")
    page.get_by_role("link", name="I have saved my codes, continue").click()
    expect(page).to_have_url(at("/home"))
    expect(page.locator("h1")).to_contain_text("Welcome")
