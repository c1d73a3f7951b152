"""A consultation's time as each participant sees it: in their own zone and in KST, side by side.

Pure, like `calendar`: slots are stored in UTC and the meeting keeps its own zone; this module says what
a viewer in another zone reads, whether the calendar date differs from Seoul's, and for which
participants' zones a slot falls outside working hours (08:00–20:00), so the organiser is warned before
proposing a 03:00 call to New York.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

KST = "Asia/Seoul"
WORKING_DAY = (time(8, 0), time(20, 0))


@dataclass(frozen=True)
class ZonedSpan:
    zone: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class SlotTimes:
    """One slot for one viewer: their zone, KST, and the zones in which it falls outside working hours."""

    viewer: ZonedSpan
    kst: ZonedSpan
    outside_hours: tuple[str, ...]

    @property
    def same_zone(self) -> bool:
        return self.viewer.zone == self.kst.zone or self.viewer.start.utcoffset() == self.kst.start.utcoffset()

    @property
    def dates_differ(self) -> bool:
        """The viewer's calendar date is not Seoul's: both dates (and weekdays) must then be shown."""
        return self.viewer.start.date() != self.kst.start.date()


def is_known_zone(name: str) -> bool:
    return name in _zones()


def span(start: datetime, duration: timedelta, zone: str) -> ZonedSpan:
    tz = ZoneInfo(zone)
    return ZonedSpan(zone, start.astimezone(tz), (start + duration).astimezone(tz))


def outside_working_hours(start: datetime, duration: timedelta, zone: str) -> bool:
    """True when any part of the meeting falls before 08:00 or after 20:00 in `zone`."""
    local = span(start, duration, zone)
    opens, closes = WORKING_DAY
    if local.end.date() != local.start.date() and local.end.time() != time(0):
        return True
    last = local.end.time() if local.end.time() != time(0) else time(23, 59, 59)
    return local.start.time() < opens or last > closes


def slot_times(start: datetime, duration: timedelta, viewer_zone: str,
               participant_zones: tuple[str, ...] | list[str] = ()) -> SlotTimes:
    if start.tzinfo is None:
        raise ValueError("A slot needs an aware start time.")
    zones = dict.fromkeys([KST, viewer_zone, *participant_zones])  # ordered, no repeats
    return SlotTimes(
        viewer=span(start, duration, viewer_zone),
        kst=span(start, duration, KST),
        outside_hours=tuple(z for z in zones if outside_working_hours(start, duration, z)),
    )


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES
