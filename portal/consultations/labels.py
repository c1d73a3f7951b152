"""How consultation times, kinds, formats and answers read in the current language.

Every time is shown in the viewer's zone and in KST, each with its weekday and date, so that a platform in
New York reading "Sunday 20:00" knows it is Monday morning in Seoul.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from portal.consultations.times import KST, ZonedSpan, slot_times
from portal.core import clock

KIND_NAMES = {"plenary": _l("Plenary meeting of the body"), "bilateral": _l("Bilateral consultation")}
FORMAT_NAMES = {"in_person": _l("In person"), "video": _l("Video call"), "hybrid": _l("Hybrid")}
STATUS_NAMES = {
    "draft": _l("Draft"), "proposed": _l("Finding a time"), "scheduled": _l("Scheduled"),
    "held": _l("Held"), "cancelled": _l("Cancelled"),
}
RSVP_NAMES = {
    "needs_action": _l("No answer yet"), "accepted": _l("Attends"), "declined": _l("Declined"),
    "tentative": _l("Maybe"),
}

def _span_text(span: ZonedSpan) -> str:
    # The meeting form of core.clock (with the weekday); the end alone when it falls on the same day.
    start = clock.format_local(span.start, kind="meeting")
    same_day = span.end.date() == span.start.date()
    end = clock.format_local(span.end, kind="clock" if same_day else "meeting")
    return f"{start}–{end}"


def format_span(start: datetime | None, duration: timedelta, zone: str | None) -> str:
    """"Mon 12 January 2026, 10:00–11:00 KST", and first the viewer's zone when it is not Seoul's."""
    if start is None:
        return ""
    times = slot_times(start, duration, zone or KST)
    kst = f"{_span_text(times.kst)} KST"
    if times.same_zone:
        return kst
    return f"{_span_text(times.viewer)} ({times.viewer.zone}) · {kst}"


def working_hours_warning(start: datetime, duration: timedelta, zones) -> list[str]:
    """The zones, among `zones`, in which the slot falls outside 08:00–20:00."""
    return list(slot_times(start, duration, KST, list(zones)).outside_hours)


TEMPLATE_HELPERS = {
    "consultation_kind_name": lambda kind: KIND_NAMES.get(kind, kind),
    "consultation_format_name": lambda fmt: FORMAT_NAMES.get(fmt, fmt),
    "consultation_status_name": lambda status: STATUS_NAMES.get(status, status),
    "rsvp_name": lambda answer: RSVP_NAMES.get(answer, answer),
    "format_span": format_span,
    "working_hours_warning": working_hours_warning,
}
