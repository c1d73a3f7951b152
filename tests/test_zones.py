"""The time-zone picker (portal.core.zones): canonical zones only, grouped by region, each with its offset
now and its city in the viewer's language; the value stays the IANA name and nothing else is accepted."""
import re
from datetime import datetime, timezone

import pytest
from babel.core import get_global

from portal.accounts import services
from portal.accounts.models import User
from portal.core import zones
from portal.core.exceptions import ValidationError
from portal.extensions import db

WINTER = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
SUMMER = datetime(2026, 7, 3, 12, 0, tzinfo=timezone.utc)


def _options(language: str, at=WINTER) -> dict[str, str]:
    return {zone: text for options in zones.grouped(language, at).values() for zone, text in options}


def _offset_minutes(text: str) -> int:
    sign, hours, minutes = re.match(r"UTC([+-])(\d\d):(\d\d) ", text).groups()
    return (1 if sign == "+" else -1) * (int(hours) * 60 + int(minutes))


def test_the_list_offers_no_old_aliases():
    offered = zones.offered()
    aliases = set(get_global("zone_aliases")) - {"UTC"}
    assert not offered & aliases
    for old in ("US/Pacific", "Asia/Calcutta", "Europe/Kiev", "ROK", "GMT", "Etc/GMT+3", "posix/Asia/Seoul"):
        assert old not in offered
    assert {"Asia/Seoul", "Asia/Kolkata", "Europe/Kyiv", "America/Los_Angeles", "UTC"} <= offered
    assert 300 < len(offered) < 450


@pytest.mark.parametrize("language,region,expected", [
    ("ko", "아시아", "UTC+09:00 서울 (대한민국)"), ("en", "Asia", "UTC+09:00 Seoul (South Korea)")])
def test_seoul_is_named_in_the_viewers_language_with_its_offset(app, language, region, expected):
    with app.test_request_context():
        assert ("Asia/Seoul", expected) in zones.grouped(language, WINTER)[region]


def test_cities_renamed_in_cldr_are_still_named():
    korean, english = _options("ko"), _options("en")
    assert korean["Asia/Kolkata"] == "UTC+05:30 콜카타 (인도)"
    assert english["America/Argentina/Buenos_Aires"] == "UTC-03:00 Buenos Aires (Argentina)"
    assert english["Asia/Singapore"] == "UTC+08:00 Singapore" and english["Europe/Jersey"] == "UTC+00:00 Jersey"
    assert not any("/" in text or "_" in text for text in [*korean.values(), *english.values()])


def test_zones_are_grouped_by_region_and_sorted_by_offset_then_name(app):
    with app.test_request_context():
        groups = zones.grouped("en", WINTER)
    assert list(groups)[:3] == ["Asia", "Europe", "Americas"] and list(groups)[-1] == "Coordinated Universal Time"
    regions = {str(name): key for key, name in zones.REGIONS.items()}
    for group, options in groups.items():
        assert all(zone.split("/")[0] == regions[group] for zone, _text in options)
        keys = [(_offset_minutes(text), text) for _zone, text in options]
        assert keys == sorted(keys)
    assert sum(len(options) for options in groups.values()) == len(zones.offered())


def test_the_offset_is_the_current_one():
    assert _options("en", WINTER)["Europe/London"].startswith("UTC+00:00 London")
    assert _options("en", SUMMER)["Europe/London"].startswith("UTC+01:00 London")
    assert _options("en", SUMMER)["America/Los_Angeles"].startswith("UTC-07:00 Los Angeles")


def test_an_old_alias_stands_for_its_zone():
    assert zones.canonical("US/Pacific") == "America/Los_Angeles"
    assert zones.canonical("Asia/Seoul") == "Asia/Seoul" and zones.canonical("Mars/Olympus") is None


def test_the_account_page_groups_the_zones_and_keeps_the_iana_name(client, auth):
    auth.as_role("platform_agent")
    page = client.get("/account?lang=ko").get_data(as_text=True)
    assert '<optgroup label="아시아">' in page and '<optgroup label="유럽">' in page
    assert re.search(r'<option (selected )?value="Asia/Seoul">UTC\+09:00 서울 \(대한민국\)</option>', page)
    assert "data-zone-picker" in page and 'data-search-label="도시, 국가 또는 UTC 시차로 시간대 찾기"' in page
    assert "zone-picker.js" in page and "US/Pacific" not in page


def test_a_stored_alias_is_shown_as_the_zone_it_stands_for(client, auth, make):
    user = make.user("platform_agent", timezone="US/Pacific")
    auth.login(user)
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert re.search(r'<option selected value="America/Los_Angeles">|<option value="America/Los_Angeles" selected>',
                     page)


def test_a_zone_from_the_list_is_saved(client, auth, app):
    user = auth.as_role("platform_agent")
    assert client.post("/account", data={"language": "en", "timezone": "Asia/Kolkata"}).status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).timezone == "Asia/Kolkata"


def test_a_zone_not_on_the_list_is_refused_in_korean(client, auth):
    auth.as_role("platform_agent")
    response = client.post("/account?lang=ko", data={"language": "ko", "timezone": "US/Pacific"})
    assert response.status_code == 200 and "목록에서 시간대를 선택하십시오" in response.get_data(as_text=True)


def test_the_service_refuses_an_alias_too(app, make):
    made = make.user("platform_agent")
    with app.test_request_context():
        user = db.session.get(User, made.id)
        with pytest.raises(ValidationError) as refused:
            services.update_preferences(user, "en", "Asia/Calcutta")
    assert refused.value.field == "timezone"
