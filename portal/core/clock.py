"""One place for time: the portal stores aware UTC datetimes and shows KST beside the viewer's zone."""
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import format_datetime, get_locale

UTC = timezone.utc
KST = ZoneInfo("Asia/Seoul")


def now() -> datetime:
    """The current time, aware, in UTC. Tests move it with time-machine."""
    return datetime.now(UTC)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_zone(name: str | None) -> bool:
    return bool(name) and name in _zones()


@lru_cache(maxsize=1)
def zone_choices() -> tuple[str, ...]:
    """IANA zones people pick from (Area/City), sorted."""
    skip = ("Etc/", "SystemV/", "posix/", "right/")
    return tuple(sorted(z for z in _zones() if "/" in z and not z.startswith(skip)))


def in_zone(moment: datetime, zone: str | ZoneInfo) -> datetime:
    return moment.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))


def format_moment(moment: datetime | None, zone: str | None = None, fmt: str = "medium") -> str:
    """Format an aware datetime in KST and, when its offset differs, in `zone` too (the viewer's)."""
    if moment is None:
        return ""
    kst = _fmt(moment, KST, fmt)
    if not zone or ZoneInfo(zone).utcoffset(moment) == KST.utcoffset(moment):
        return f"{kst} KST"
    return f"{kst} KST ({_fmt(moment, ZoneInfo(zone), fmt)} {zone})"


# Korean official documents write the 24-hour clock ("2026. 11. 25. 16:49"); CLDR's medium form says "PM".
KOREAN_PATTERNS = {"medium": "yyyy. M. d. HH:mm", "short": "yy. M. d. HH:mm", "long": "yyyy년 M월 d일 HH:mm"}


def _fmt(moment: datetime, tz: ZoneInfo, fmt: str) -> str:
    # Babel formats the wall-clock time it is given; the zone is named by the caller.
    locale = get_locale()
    if locale is not None and locale.language == "ko":
        fmt = KOREAN_PATTERNS.get(fmt, fmt)
    return format_datetime(moment.astimezone(tz).replace(tzinfo=None), fmt, rebase=False)
