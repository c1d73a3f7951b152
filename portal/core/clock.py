"""One place for time: the portal stores aware UTC datetimes and shows KST beside the viewer's zone."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import format_datetime

UTC = timezone.utc
KST = ZoneInfo("Asia/Seoul")


def now() -> datetime:
    """The current time, aware, in UTC. Tests move it with time-machine."""
    return datetime.now(UTC)


def is_valid_zone(name: str) -> bool:
    return name in _zones()


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def zone_choices() -> list[str]:
    return sorted(z for z in _zones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))


def in_zone(moment: datetime, zone: str | ZoneInfo) -> datetime:
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return moment.astimezone(tz)


def format_moment(moment: datetime | None, zone: str | None = None, fmt: str = "medium") -> str:
    """Format an aware datetime in KST and, when it differs, in `zone` as well (the viewer's)."""
    if moment is None:
        return ""
    kst = _fmt(moment, KST, fmt)
    if not zone or ZoneInfo(zone).utcoffset(moment) == KST.utcoffset(moment):
        return f"{kst} KST"
    return f"{kst} KST ({_fmt(moment, ZoneInfo(zone), fmt)} {zone})"


def _fmt(moment: datetime, tz: ZoneInfo, fmt: str) -> str:
    return format_datetime(moment.astimezone(tz).replace(tzinfo=None), fmt, rebase=False)
