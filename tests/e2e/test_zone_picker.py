"""In a real browser: the time-zone picker's search box (zone-picker.js) narrows the grouped list as one
types, in the page's language, and the zone picked is saved as its IANA name."""
import pytest
from playwright.sync_api import expect

from portal.accounts.models import User
from portal.core import zones
from portal.extensions import db
from tests.e2e.conftest import screenshot
from tests.e2e.test_request_flow import log_in, settled

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_language():
    return "en-US"


def test_typing_a_city_narrows_the_list_and_the_zone_picked_is_saved(app, make, page):
    user = make.user("platform_agent", language="en", timezone="Asia/Seoul")
    log_in(page, user)
    page.goto("/account")
    search = page.get_by_label("Find a time zone by city, country or UTC offset")
    zone = page.locator("select#timezone")
    expect(zone.locator("option")).to_have_count(len(zones.offered()))

    search.fill("dublin")
    expect(zone.locator("option")).to_have_count(1)
    expect(zone.locator("optgroup")).to_have_attribute("label", "Europe")
    expect(zone).to_have_value("Europe/Dublin")  # the only match is picked
    search.press("Enter")  # picks, does not send the form
    expect(page).to_have_url(f"{page.url.split('/account')[0]}/account")

    search.fill("UTC-08")  # by offset: several zones, in more than one region
    assert zone.locator("optgroup").count() >= 2
    zone.select_option("America/Los_Angeles")
    page.get_by_role("button", name="Save", exact=True).click()
    settled(page)
    with app.app_context():
        assert db.session.get(User, user.id).timezone == "America/Los_Angeles"
    expect(page.locator("select#timezone")).to_have_value("America/Los_Angeles")


def test_the_korean_page_searches_korean_names_and_says_when_nothing_matches(make, page):
    log_in(page, make.user("platform_agent", language="en", timezone="Europe/London"))
    page.goto("/account?lang=ko")
    search = page.get_by_label("도시, 국가 또는 UTC 시차로 시간대 찾기")
    zone = page.locator("select#timezone")

    search.fill("서울")
    expect(zone.locator("option")).to_have_text(["UTC+09:00 서울 (대한민국)"])
    expect(zone).to_have_value("Asia/Seoul")

    search.fill("화성 올림푸스")
    expect(page.get_by_text("일치하는 시간대가 없어 전체 목록을 표시합니다.")).to_be_visible()
    expect(zone.locator("option")).to_have_count(len(zones.offered()))
    expect(zone).to_have_value("Asia/Seoul")  # the zone picked before stays picked

    search.fill("")
    expect(page.get_by_text("일치하는 시간대가 없어 전체 목록을 표시합니다.")).to_have_count(0)
    expect(zone.locator("optgroup").first).to_have_attribute("label", "아시아")


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_picker_fits_a_phone(make, page, language):
    log_in(page, make.user("platform_agent", language="en", timezone="America/Argentina/Buenos_Aires"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/account?lang={language}")
    settled(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"zone-picker-390-{language}")
