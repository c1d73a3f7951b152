"""Who sees which figures, and the figures a page or export asks for.

Agencies and the secretariat see every platform; a platform sees only its own figures (another platform's
code answers 404 as if it did not exist). Figures are read-only: nothing here writes.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.core import clock, policy
from portal.core.exceptions import NotFound, ValidationError
from portal.extensions import db
from portal.reports import measures
from portal.reports.measures import Period
from portal.requests.models import OUTCOMES

MAX_DAYS = 3 * 366 + 1
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 1, 1)
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_BEHIND = 500


def _day(value: str | None, name: str) -> date | None:
    if value in (None, ""):
        return None
    if not ISO_DAY.fullmatch(value):
        raise ValidationError(name, _("Give a date as YYYY-MM-DD."))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationError(name, _("Give a date as YYYY-MM-DD.")) from None
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(name, _("Give a date between 2000 and 2100."))
    return day


def default_period(now: datetime | None = None) -> Period:
    """The current KST month up to today included."""
    today = (now or clock.now()).astimezone(clock.KST).date()
    return Period(today.replace(day=1), today + timedelta(days=1))


def period_from(start: str | None, end: str | None) -> Period:
    """The period `[start, end)` of two ISO dates (KST days); missing ones default to this month so far."""
    default = default_period()
    first, after = _day(start, "from") or default.start, _day(end, "to")
    if after is None:
        after = max(default.end, first + timedelta(days=1))
    if after <= first:
        raise ValidationError("to", _("The end of the period must come after its start."))
    if (after - first).days > MAX_DAYS:
        raise ValidationError("to", _("A period covers at most three years."))
    return Period(first, after)


def visible_platform_ids(user) -> list[int] | None:
    """The platforms whose figures `user` may see: its own for a platform, None (all) otherwise."""
    policy.require(user, "report.view")
    if user.organisation.kind == "platform":
        return [user.organisation_id]
    return None


def platform_by_code(user, code: str | None) -> Organisation | None:
    """The platform named by `code` if `user` may see its figures; None for no code; else NotFound."""
    if not code:
        return None
    platform = db.session.scalar(select(Organisation).where(Organisation.code == code,
                                                            Organisation.kind == "platform"))
    visible = visible_platform_ids(user)
    if platform is None or (visible is not None and platform.id not in visible):
        raise NotFound(_("No such platform."))
    return platform


def platform_choices(user) -> list[Organisation]:
    visible = visible_platform_ids(user)
    query = select(Organisation).where(Organisation.kind == "platform").order_by(Organisation.code)
    if visible is not None:
        query = query.where(Organisation.id.in_(visible))
    return list(db.session.scalars(query))


def scorecard(user, period: Period, platform_code: str | None = None) -> list[measures.PlatformFigures]:
    """The figures of each platform `user` may see (or of the one named) for `period`."""
    platform = platform_by_code(user, platform_code)
    ids = [platform.id] if platform is not None else visible_platform_ids(user)
    return measures.scorecard(period, ids)


def requests_behind(user, period: Period, platform_code: str | None, measure: str, outcome: str | None = None):
    """The requests (at most MAX_BEHIND, by issue) a scorecard figure counts, and whether there are more."""
    if measure not in measures.MEASURES and measure != "outcome":
        raise NotFound(_("No such measure."))
    if measure == "outcome" and outcome not in OUTCOMES:
        raise NotFound(_("No such measure."))
    platform = platform_by_code(user, platform_code)
    if platform is None:
        visible = visible_platform_ids(user)
        if visible is not None:  # a platform always looks at its own requests only
            platform = db.session.get(Organisation, visible[0])
    query = measures.request_ids_behind(period, platform.id if platform else None, measure, outcome=outcome)
    rows = list(db.session.scalars(query.limit(MAX_BEHIND + 1)))
    return platform, rows[:MAX_BEHIND], len(rows) > MAX_BEHIND


def acted_at(request_ids: list[int]) -> dict[int, datetime]:
    """When each of these requests was acted on (every item answered), for those that were."""
    from portal.requests.models import Request

    if not request_ids:
        return {}
    rows = db.session.execute(select(Request.id, measures.acted_at_column()).where(Request.id.in_(request_ids)))
    return {rid: at for rid, at in rows if at is not None}


def moment_from(value: str | None) -> datetime:
    """The moment a report is read as at: `value` (ISO 8601 with offset, not in the future), else now;
    whole seconds, so that the CSV and its checksum file name the same moment."""
    now = clock.now().replace(microsecond=0)
    if not value:
        return now
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("at", _("Give a date and time in ISO 8601 with its offset.")) from None
    if moment.tzinfo is None:
        raise ValidationError("at", _("Give a date and time in ISO 8601 with its offset."))
    moment = moment.astimezone(clock.UTC).replace(microsecond=0)
    if moment > now or moment.date() < EARLIEST:
        raise ValidationError("at", _("Give a moment in the past."))
    return moment
