"""The measures of how platforms answer requests, defined here once and computed from the data.

Every figure the portal shows or publishes (scorecard page, API, transparency CSV and PDF, the lists of
requests behind a figure) comes from these definitions; none is kept as a counter on the side, so a late
correction (an outcome recorded afterwards, an extension granted) changes the figures of the period the
request belongs to the next time they are read.

- A request belongs to the period in which it was **issued**; periods are half-open `[from, to)` of KST
  calendar days (`from` 00:00 KST included, `to` 00:00 KST excluded).
- **Withdrawn** requests are excluded from every measure and counted apart.
- **Time to acknowledge**: `acknowledged_at − issued_at`.
- **Acted**: every item has a final outcome (removed, blocked in Korea, restricted, not found, declined);
  "needs information" does not settle an item. **Time to act**: from issue to the last item's outcome.
- **Deadline in force**: the request's deadline as it stands (the policy's, or the one an extension granted
  set, or the one a reopening started).
- **Within deadline**: acted strictly before the deadline in force (the deadline itself is already late, as
  on the request pages). **Decided**: acted, or the deadline has passed; the share within deadline is
  within / decided, so requests whose deadline still runs do not count against the platform.
- **Overdue now** / **very overdue now**: still owed an answer and past the deadline / past twice the
  allowed time (`very_overdue_from`), at the moment of reading.
- Cells of fewer than `MIN_CELL` requests show counts but no shares.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, exists, false, func, not_, or_, select, type_coerce

from portal.accounts.models import Organisation
from portal.core import clock
from portal.core.bilingual import bilingual
from portal.core.database import UTCDateTime
from portal.extensions import db
from portal.requests.models import (
    FINAL_OUTCOMES,
    OPEN,
    OUTCOMES,
    TYPES,
    WITHDRAWN,
    ExtensionRequest,
    Request,
    RequestItem,
)

MIN_CELL = 5
# The time-to-act distribution's bins, by their lower edges in hours: under 6 h, 6-24 h, 1-3 days, 3-7 days,
# 7 days or more. The edges are the deadlines' own scale (urgent 24 h, standard 72 h, a working week).
ACT_BINS = (0, 6, 24, 72, 168)
Z95 = 1.959963984540054  # the two-sided 95 % quantile of the normal distribution


# --- Pure statistics -------------------------------------------------------------------------------------

def quantile(values, q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between order statistics (Hyndman-Fan type 7, the
    default of R and NumPy). None for no values."""
    data = sorted(values)
    if not data:
        return None
    if not 0 <= q <= 1:
        raise ValueError("q must lie in [0, 1]")
    position = (len(data) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


def binned(values, edges=ACT_BINS) -> list[int]:
    """How many values fall in each bin `[edges[i], edges[i + 1])`, the last one open above."""
    counts = [0] * len(edges)
    for value in values:
        counts[max(bisect.bisect_right(edges, value) - 1, 0)] += 1
    return counts


def median(values) -> float | None:
    return quantile(values, 0.5)


def p90(values) -> float | None:
    return quantile(values, 0.9)


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a binomial share (95 % by default). None for no trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError("successes must lie in [0, trials]")
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def share(count: int, of: int, cell: int) -> float | None:
    """count / of, or None when the cell (the requests it rests on) is smaller than MIN_CELL."""
    if of <= 0 or cell < MIN_CELL:
        return None
    return count / of


# --- Periods ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """KST calendar days `[start, end)`: `end` is the first day not included."""

    start: date
    end: date

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time(0), clock.KST).astimezone(clock.UTC)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.end, time(0), clock.KST).astimezone(clock.UTC)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def months_of(period: Period) -> list[Period]:
    """The calendar months (KST) the period touches, each clipped to the period."""
    months, day = [], period.start.replace(day=1)
    while day < period.end:
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        months.append(Period(max(day, period.start), min(following, period.end)))
        day = following
    return months


# --- The measures as SQL --------------------------------------------------------------------------------

def _unsettled_item():
    return exists().where(RequestItem.request_id == Request.id,
                          or_(RequestItem.outcome.is_(None), RequestItem.outcome.notin_(FINAL_OUTCOMES)))


def acted_at_column():
    """When every item had a final outcome (the last outcome's time), else NULL."""
    last = (select(func.max(RequestItem.outcome_at)).where(RequestItem.request_id == Request.id)
            .correlate(Request).scalar_subquery())
    return type_coerce(case((and_(Request.item_count > 0, not_(_unsettled_item())), last), else_=None),
                       UTCDateTime)


def _has_extension(status: str | None):
    clause = ExtensionRequest.request_id == Request.id
    if status is not None:
        clause = and_(clause, ExtensionRequest.status == status)
    return exists().where(clause)


# The measures that count requests, as SQL conditions on a request row (`now`: the moment of reading).
# The aggregate and the list of requests behind each figure use the same condition, so they agree.
def conditions(now: datetime) -> dict[str, object]:
    acted = acted_at_column()
    counted = Request.status != WITHDRAWN
    is_open = Request.status.in_(OPEN)
    late_now = and_(Request.deadline.is_not(None), Request.deadline <= now)
    return {
        "received": counted,
        "acknowledged": and_(counted, Request.acknowledged_at.is_not(None)),
        "acted": and_(counted, acted.is_not(None)),
        "within_deadline": and_(counted, acted.is_not(None), Request.deadline.is_not(None),
                                acted < Request.deadline),
        "decided": and_(counted, or_(acted.is_not(None), late_now)),
        "overdue_now": and_(counted, is_open, late_now),
        "very_overdue_now": and_(counted, is_open, Request.very_overdue_from.is_not(None),
                                 Request.very_overdue_from <= now),
        "extension_asked": and_(counted, _has_extension(None)),
        "extension_granted": and_(counted, _has_extension("granted")),
        "withdrawn": Request.status == WITHDRAWN,
    }


MEASURES = ("received", "acknowledged", "acted", "within_deadline", "decided", "overdue_now",
            "very_overdue_now", "extension_asked", "extension_granted", "withdrawn")


def in_period(period: Period):
    return and_(Request.issued_at.is_not(None), Request.issued_at >= period.starts_at,
                Request.issued_at < period.ends_at)


def request_ids_behind(period: Period, platform_id: int | None, measure: str, now: datetime | None = None,
                       outcome: str | None = None):
    """A select() of the requests (ordered by issue) a figure counts; `measure` is one of MEASURES, or
    "outcome" with `outcome` (requests with at least one item of that outcome)."""
    now = now or clock.now()
    query = select(Request).where(in_period(period))
    if platform_id is not None:
        query = query.where(Request.platform_id == platform_id)
    if measure == "outcome":
        if outcome not in OUTCOMES:
            raise KeyError(outcome)
        query = query.where(Request.status != WITHDRAWN, exists().where(
            RequestItem.request_id == Request.id, RequestItem.outcome == outcome))
    else:
        query = query.where(conditions(now)[measure])
    return query.order_by(Request.issued_at, Request.id)


# --- Figures ---------------------------------------------------------------------------------------------

@dataclass
class PlatformFigures:
    platform_id: int
    code: str
    name_ko: str
    name_en: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEASURES, 0))
    hours_to_acknowledge: list[float] = field(default_factory=list)
    hours_to_act: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    types: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))  # requests received by type

    name = bilingual("name")

    @property
    def requests(self) -> int:
        return self.counts["received"]

    @property
    def small(self) -> bool:
        return self.requests < MIN_CELL

    @property
    def median_hours_to_acknowledge(self):
        return _rounded(median(self.hours_to_acknowledge))

    @property
    def p90_hours_to_acknowledge(self):
        return _rounded(p90(self.hours_to_acknowledge))

    @property
    def median_hours_to_act(self):
        return _rounded(median(self.hours_to_act))

    @property
    def p90_hours_to_act(self):
        return _rounded(p90(self.hours_to_act))

    @property
    def hours_to_act_binned(self) -> list[int]:
        """The time-to-act distribution: requests acted on per bin of `ACT_BINS`."""
        return binned(self.hours_to_act)

    @property
    def within_deadline(self) -> dict:
        count, of = self.counts["within_deadline"], self.counts["decided"]
        value = share(count, of, of)
        interval = wilson_interval(count, of) if value is not None else None
        return {"count": count, "of": of, "share": value,
                "ci95": [round(interval[0], 4), round(interval[1], 4)] if interval else None}

    @property
    def items(self) -> int:
        return sum(self.outcomes.values())

    def outcome_share(self, outcome: str) -> float | None:
        return share(self.outcomes[outcome], self.items, self.requests)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def scorecard(period: Period, platform_ids: list[int] | None = None, now: datetime | None = None
              ) -> list[PlatformFigures]:
    """The figures of each platform for requests issued in `period` (`platform_ids`: only these; None:
    every platform, those without requests included), ordered by platform code."""
    now = now or clock.now()
    platforms = select(Organisation).where(Organisation.kind == "platform").order_by(Organisation.code)
    if platform_ids is not None:
        if not platform_ids:
            return []
        platforms = platforms.where(Organisation.id.in_(platform_ids))
    figures = {o.id: PlatformFigures(o.id, o.code, o.name_ko, o.name_en) for o in db.session.scalars(platforms)}
    if not figures:
        return []
    scope = and_(in_period(period), Request.platform_id.in_(list(figures)))
    named = conditions(now)

    # Counts: one aggregate query, one SUM(CASE) per measure.
    columns = [func.coalesce(func.sum(case((named[m], 1), else_=0)), 0).label(m) for m in MEASURES]
    columns += [func.coalesce(func.sum(case((and_(named["received"], Request.request_type == t), 1), else_=0)),
                              0).label(f"type_{t}") for t in TYPES]
    for row in db.session.execute(select(Request.platform_id, *columns).where(scope)
                                  .group_by(Request.platform_id)).mappings():
        figures[row["platform_id"]].counts.update({m: int(row[m]) for m in MEASURES})
        figures[row["platform_id"]].types.update({t: int(row[f"type_{t}"]) for t in TYPES})

    # Durations: the distribution needs the values themselves (medians are not portable SQL aggregates).
    acted = acted_at_column().label("acted_at")
    for platform_id, issued, acknowledged, acted_at in db.session.execute(
            select(Request.platform_id, Request.issued_at, Request.acknowledged_at, acted)
            .where(scope, Request.status != WITHDRAWN)):
        if acknowledged is not None:
            figures[platform_id].hours_to_acknowledge.append(_hours(issued, acknowledged))
        if acted_at is not None:
            figures[platform_id].hours_to_act.append(_hours(issued, acted_at))

    # Outcome mix of items.
    for platform_id, outcome, count in db.session.execute(
            select(Request.platform_id, RequestItem.outcome, func.count())
            .join(RequestItem, RequestItem.request_id == Request.id)
            .where(scope, Request.status != WITHDRAWN, RequestItem.outcome.is_not(None))
            .group_by(Request.platform_id, RequestItem.outcome)):
        figures[platform_id].outcomes[outcome] = int(count)
    return list(figures.values())


def requests_per_month_by_type(period: Period, platform_ids: list[int] | None = None) -> list[dict]:
    """Requests issued (withdrawn excluded) per KST month of the period and type."""
    result = []
    for month in months_of(period):
        query = (select(Request.request_type, func.count()).where(in_period(month), Request.status != WITHDRAWN)
                 .group_by(Request.request_type))
        if platform_ids is not None:
            query = query.where(Request.platform_id.in_(platform_ids) if platform_ids else false())
        counts = dict.fromkeys(TYPES, 0)
        counts.update({t: int(n) for t, n in db.session.execute(query)})
        result.append({"month": month.start.strftime("%Y-%m"), "counts": counts})
    return result
