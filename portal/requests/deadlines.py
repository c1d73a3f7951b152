"""Deadlines of requests, computed here and nowhere else.

A deadline is either a number of hours after the clock starts (absolute time) or a number of Korean
working days: the same KST time of day on the n-th day after the start that is neither a weekend nor a
Korean public holiday (the `holidays` package knows them, substitute holidays included).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.core import clock
from portal.core.exceptions import ValidationError
from portal.core.memo import Memo
from portal.extensions import db
from portal.i18n import ngettext

# The furthest a deadline may be set or asked for, from now: beyond it a date means a typo, not a deadline.
MAX_AHEAD = timedelta(days=180)

# Built-in defaults; a DeadlinePolicy row for a type and priority takes precedence.
DEFAULT_HOURS = {"urgent": 24, "standard": 72}
DEFAULT_WORKING_DAYS = {("information", "standard"): 7}

# Share of the allowed time left when the reminder goes out.
REMINDER_SHARE = 0.25

REASONS = {
    # Translators: what started a request's deadline clock; followed by a date and time.
    "issued": _l("issued"),
    "reopened": _l("reopened"),
    "extended": _l("extension granted"),
}


@dataclass(frozen=True)
class Allowance:
    hours: int | None = None
    working_days: int | None = None


@lru_cache(maxsize=32)
def _korean_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("KR", years=year).keys())


def is_korean_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _korean_holidays(day.year)


def allowance_for(request_type: str, priority: str) -> Allowance:
    """The time allowed for a type and priority: the admins' policy, or the built-in default."""
    from portal.requests.models import DeadlinePolicy

    row = db.session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.request_type == request_type,
                                                         DeadlinePolicy.priority == priority))
    if row is not None:
        return Allowance(row.hours, row.working_days)
    if (request_type, priority) in DEFAULT_WORKING_DAYS:
        return Allowance(working_days=DEFAULT_WORKING_DAYS[(request_type, priority)])
    return Allowance(hours=DEFAULT_HOURS[priority])


def deadline_after(start: datetime, allowance: Allowance) -> datetime:
    """The deadline for a clock started at `start` (aware) with `allowance`. Returns aware UTC."""
    if allowance.hours is not None:
        return (start + timedelta(hours=allowance.hours)).astimezone(clock.UTC)
    local = start.astimezone(clock.KST)
    day, counted = local.date(), 0
    while counted < allowance.working_days:
        day += timedelta(days=1)
        if is_korean_working_day(day):
            counted += 1
    # KST has no daylight saving time: the same wall-clock time exists on every day.
    return datetime.combine(day, local.timetz()).astimezone(clock.UTC)


def start_clock(req, start: datetime, reason: str) -> None:
    """Set `req`'s deadline from the policy for its type and priority, starting at `start`."""
    allowance = allowance_for(req.request_type, req.priority)
    req.deadline_start, req.deadline_reason = start, reason
    req.deadline_hours, req.deadline_working_days = allowance.hours, allowance.working_days
    req.deadline = deadline_after(start, allowance)
    _reset_marks(req)


def extend(req, new_deadline: datetime, at: datetime) -> None:
    """Move the deadline to `new_deadline` (an extension granted at `at`)."""
    req.deadline_start, req.deadline_reason = at, "extended"
    req.deadline_hours = req.deadline_working_days = None
    req.deadline = new_deadline.astimezone(clock.UTC)
    _reset_marks(req)


def check_new_deadline(field: str, when: datetime | None, now: datetime, *, after: datetime | None = None,
                       required: bool = True) -> datetime | None:
    """A deadline someone sets or asks for (an extension), checked against what a deadline can mean.

    It needs a zone, lies in the future and at most `MAX_AHEAD` from `now`, and after `after` (the
    current deadline) when given. The one place these bounds live: web forms and the API both come here.
    """
    if when is None or when.tzinfo is None:
        if not required and when is None:
            return None
        raise ValidationError(field, _l("Give the new deadline."))
    if when <= now:
        raise ValidationError(field, _l("The deadline must be in the future."))
    if after is not None and when <= after:
        raise ValidationError(field, _l("Choose a time after the current deadline."))
    if when > now + MAX_AHEAD:
        raise ValidationError(field, _l("A deadline can be at most %(days)d days from now.",
                                        days=MAX_AHEAD.days))
    return when


def _reset_marks(req) -> None:
    # A new deadline earns its own reminder and escalations.
    req.remind_at = reminder_due_at(req)
    req.very_overdue_from = very_overdue_after(req)
    req.reminded_at = req.overdue_at = req.very_overdue_at = None


def allowed_time(req) -> timedelta:
    return req.deadline - req.deadline_start


def reminder_due_at(req) -> datetime:
    """When a quarter of the allowed time is left."""
    return req.deadline - allowed_time(req) * REMINDER_SHARE


def very_overdue_after(req) -> datetime:
    """Past twice the allowed time: the deadline plus the allowed time once more."""
    return req.deadline + allowed_time(req)


def explanation(req) -> str:
    """The sentence that says how the deadline was computed, in the current language, in KST (the
    legal reference; the deadline itself is shown in the viewer's zone too).

    E.g. "issued 25 November 2026, 14:03 KST + 24 hours".
    """
    if req.deadline is None or req.deadline_start is None:
        return ""
    start = clock.format_moment(req.deadline_start)
    reason = str(REASONS.get(req.deadline_reason, req.deadline_reason))
    if req.deadline_hours is not None:
        allowance = ngettext("%(num)s hour", "%(num)s hours", req.deadline_hours)
    elif req.deadline_working_days is not None:
        allowance = ngettext("%(num)s Korean working day (weekends and Korean public holidays skipped)",
                             "%(num)s Korean working days (weekends and Korean public holidays skipped)",
                             req.deadline_working_days)
    else:
        # Translators: an extension sets a new deadline chosen by the supervisor, not a computed one.
        return _("%(reason)s %(start)s: new deadline set by the agency's supervisor", reason=reason, start=start)
    # Translators: e.g. "issued 25 November 2026, 14:03 KST + 24 hours".
    return _("%(reason)s %(start)s + %(allowance)s", reason=reason, start=start, allowance=allowance)


def remaining(req, now: datetime | None = None) -> timedelta | None:
    if req.deadline is None:
        return None
    return req.deadline - (now or clock.now())


def countdown(req, now: datetime | None = None, translations=None) -> str:
    """Time left (or past) as people read it: "2 days 3 h left", "overdue by 5 h 10 min". A list passes
    the page's catalogue (`translations`), looked up once for all its rows."""
    left = remaining(req, now)
    if left is None:
        return ""
    return words(translations or get_translations()).countdown(left)


class _Words:
    """A catalogue's words for countdowns, looked up once: a list writes fifty countdowns a page, and
    each looked up and formatted four messages."""

    def __init__(self, translations):
        self.translations = translations
        self.left = translations.ugettext("%(span)s left")
        self.overdue = translations.ugettext("overdue by %(span)s")
        self.hours = translations.ugettext("%(hours)d h")
        self.hours_minutes = translations.ugettext("%(hours)d h %(minutes)d min")
        self.days: dict[int, str] = {}

    def countdown(self, left: timedelta) -> str:
        seconds = left.total_seconds()
        days, rest = divmod(int(abs(seconds) // 60), 24 * 60)
        hours, minutes = divmod(rest, 60)
        if days:
            named = self.days.get(days)
            if named is None:  # a plural form per number, kept: a few thousand numbers at most
                named = self.days[days] = self.translations.ungettext("%(num)s day", "%(num)s days", days) % {
                    "num": days}
            span = f"{named} {self.hours % {'hours': hours}}"
        else:
            span = self.hours_minutes % {"hours": hours, "minutes": minutes}
        return (self.left if seconds >= 0 else self.overdue) % {"span": span}


_WORDS: Memo[_Words] = Memo(16)  # per catalogue (one per language and application)


def words(translations) -> _Words:
    """The countdown words of a catalogue (`_Words.countdown(left)`), made once."""
    return _WORDS.get(translations, lambda: _Words(translations))
