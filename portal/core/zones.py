"""The time zones people choose from: canonical IANA zones, grouped by region, each named in the viewer's
language with its offset now ("UTC+09:00 서울 (대한민국)"), sorted by offset, then name.

The list is tzdata's `zone.tab` -- the current canonical zone of each inhabited region, by country -- and
UTC. Old aliases (`US/Pacific`, `Asia/Calcutta`) and `Etc/GMT+3` (whose sign reads backwards) are not
offered; a stored alias is shown as the zone it stands for. The stored value stays the IANA name.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources

from babel import Locale
from babel.core import get_global
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.core import clock

# Regions in the order the picker lists them: Asia first, where the portal's users mostly are.
REGIONS = {
    "Asia": _l("Asia"), "Europe": _l("Europe"), "America": _l("Americas"), "Africa": _l("Africa"),
    "Australia": _l("Australia"), "Pacific": _l("Pacific Ocean"), "Indian": _l("Indian Ocean"),
    "Atlantic": _l("Atlantic Ocean"), "Antarctica": _l("Antarctica"), "Arctic": _l("Arctic"),
    "UTC": _l("Coordinated Universal Time"),
}


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """Zone -> ISO 3166 country code, from tzdata's zone.tab; UTC has none."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    zones = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone, *_comment = line.split("\t")
            zones[zone] = country
    zones["UTC"] = ""
    return zones


def offered() -> frozenset[str]:
    return frozenset(_countries())


def is_offered(name: str | None) -> bool:
    return bool(name) and name in _countries()


@lru_cache(maxsize=1)
def _cldr_names() -> dict[str, str]:
    # CLDR names some zones by their old IANA name (Asia/Calcutta for Asia/Kolkata); its city names live there.
    return {iana: cldr for cldr, iana in get_global("zone_aliases").items() if cldr in get_global("meta_zones")}


def canonical(name: str | None) -> str | None:
    """The offered zone a stored name stands for: itself, or the zone an old alias points to."""
    if is_offered(name):
        return name
    target = get_global("zone_aliases").get(name or "")
    return target if is_offered(target) else None


def city(zone: str, language: str) -> str:
    """The zone's city in `language`: "서울" / "Seoul"."""
    if zone == "UTC":
        return "UTC"
    # CLDR gives a city where it differs from the zone's own last part ("Seoul" has none in English).
    # Babel's get_timezone_location looks it up under the IANA name and misses the renamed ones.
    name = _cldr_names().get(zone, zone)
    found = Locale.parse(language).time_zones.get(name, {}).get("city")
    return found or name.rsplit("/", 1)[-1].replace("_", " ")


def offset_text(offset: timedelta) -> str:
    """"UTC+09:00", "UTC-03:30" (ASCII minus: every font draws it)."""
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def label(zone: str, language: str, at: datetime) -> str:
    """"UTC+09:00 서울 (대한민국)": the offset at `at`, the city and its country in `language`."""
    return f"{offset_text(clock.as_zone(zone).utcoffset(at))} {_places(language)[zone]}"


@lru_cache(maxsize=2)
def _places(language: str) -> dict[str, str]:
    """Zone -> "서울 (대한민국)": what does not change with the time of year, worked out once per language."""
    territories = Locale.parse(language).territories
    places = {}
    for zone, country in _countries().items():
        name, land = city(zone, language), territories.get(country, "")
        # "Singapore", not "Singapore (Singapore)"; "홍콩(중국 특별행정구)", not "홍콩 (홍콩(중국 특별행정구))".
        places[zone] = land if land.startswith(name) else f"{name} ({land})" if land else name
    return places


def grouped(language: str | None = None, at: datetime | None = None) -> dict[str, list[tuple[str, str]]]:
    """The picker's choices, as WTForms reads optgroups: {region name: [(zone, label), ...]}, each region
    sorted by the offset at `at` (default: now), then by label."""
    at, language = at or clock.now(), clock.language_of(language)
    # Offsets change on the hour or half-hour: one list per quarter hour serves every page in between.
    quarter = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
    with force_locale(language):
        return {str(REGIONS[region]): list(options) for region, options in _grouped(language, quarter)}


@lru_cache(maxsize=8)
def _grouped(language: str, at: datetime) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    regions: dict[str, list[tuple[timedelta, str, str]]] = {region: [] for region in REGIONS}
    for zone in _countries():
        offset = clock.as_zone(zone).utcoffset(at)
        regions[zone.split("/", 1)[0]].append((offset, label(zone, language, at), zone))
    return tuple((region, tuple((zone, text) for _offset, text, zone in sorted(options)))
                 for region, options in regions.items() if options)
