"""The measures of portal/reports/measures.py on hand-made data with known answers."""
from datetime import date, timedelta

import pytest
import time_machine

from portal.extensions import db
from portal.reports import measures
from portal.reports.measures import Period
from tests.reports_support import kst, record_outcome, shaped

NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1))
NOW = kst(2026, 12, 15, 12, 0)


# --- Pure statistics ---------------------------------------------------------------------------------------

def test_median_of_odd_and_even_counts():
    assert measures.median([3, 1, 2]) == 2
    assert measures.median([4, 1, 3, 2]) == 2.5
    assert measures.median([]) is None


def test_90th_percentile_interpolates_between_order_statistics():
    # Type 7: position (n - 1) * 0.9 = 8.1 over 1..10 -> 9 + 0.1 * (10 - 9).
    assert measures.p90(range(1, 11)) == pytest.approx(9.1)
    assert measures.p90([5]) == 5
    assert measures.quantile([0, 10], 0.25) == 2.5


@pytest.mark.parametrize(("successes", "trials", "low", "high"), [
    (8, 10, 0.4901625, 0.9433178),  # a textbook case (Newcombe 1998)
    (0, 10, 0.0, 0.2775328),
    (10, 10, 0.7224672, 1.0),
    (50, 100, 0.4038315, 0.5961685),
])
def test_wilson_interval_matches_known_values(successes, trials, low, high):
    lo, hi = measures.wilson_interval(successes, trials)
    assert lo == pytest.approx(low, abs=1e-6) and hi == pytest.approx(high, abs=1e-6)


def test_wilson_interval_of_no_trials_is_none():
    assert measures.wilson_interval(0, 0) is None


def test_share_is_withheld_below_five_requests():
    assert measures.share(3, 4, 4) is None
    assert measures.share(4, 5, 5) == 0.8


def test_period_is_half_open_in_kst():
    period = Period(date(2026, 11, 1), date(2026, 12, 1))
    assert period.starts_at == kst(2026, 11, 1, 0, 0)
    assert period.ends_at == kst(2026, 12, 1, 0, 0)
    assert [m.start for m in measures.months_of(Period(date(2026, 11, 15), date(2027, 1, 10)))] == [
        date(2026, 11, 15), date(2026, 12, 1), date(2027, 1, 1)]


def test_time_to_act_bins_count_by_lower_edge():
    # Bins [0, 6), [6, 24), [24, 72), [72, 168), [168, ...): an edge belongs to the bin it opens.
    assert measures.binned([0, 5.99, 6, 23.9, 24, 72, 167.9, 168, 500]) == [2, 2, 1, 2, 2]
    assert measures.binned([]) == [0, 0, 0, 0, 0]


# --- Measures over data -------------------------------------------------------------------------------------

def _card(app, period=NOVEMBER, now=NOW, platform=None):
    with app.test_request_context():
        cards = measures.scorecard(period, [platform] if platform else None, now=now)
        db.session.expunge_all()
        return {c.platform_id: c for c in cards}


def test_times_to_acknowledge_and_act_in_hours(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    for hours_ack, hours_act in ((1, 10), (2, 20), (3, 30), (4, 40), (5, 50)):
        shaped(make, parties, issued=issued, status="responded_fully", acknowledged=issued + timedelta(hours=hours_ack),
               outcomes=[("removed", issued + timedelta(hours=hours_act / 2)),
                         ("not_found", issued + timedelta(hours=hours_act))])
    card = _card(app)[parties.platform]
    assert card.counts["received"] == 5 and card.counts["acknowledged"] == 5 and card.counts["acted"] == 5
    assert card.median_hours_to_acknowledge == 3
    assert card.p90_hours_to_acknowledge == pytest.approx(4.6)
    assert card.median_hours_to_act == 30
    assert card.p90_hours_to_act == pytest.approx(46)
    assert card.outcomes["removed"] == 5 and card.outcomes["not_found"] == 5
    assert card.outcome_share("removed") == 0.5


def test_needs_information_does_not_count_as_acted(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    shaped(make, parties, issued=issued, status="responded_partly", acknowledged=issued,
           outcomes=[("removed", issued + timedelta(hours=1)), ("needs_information", issued + timedelta(hours=2))])
    card = _card(app)[parties.platform]
    assert card.counts["acted"] == 0 and card.hours_to_act == []
    assert card.outcomes["needs_information"] == 1


@pytest.mark.parametrize(("acted", "within"), [
    (kst(2026, 11, 12, 23, 59, 59), True),   # one second before a deadline at 00:00 KST
    (kst(2026, 11, 13, 0, 0), False),        # at the deadline: already late
])
def test_within_deadline_at_the_boundary(app, make, acted, within):
    parties = make.parties()
    shaped(make, parties, issued=kst(2026, 11, 10, 0, 0), status="responded_fully",
           deadline=kst(2026, 11, 13, 0, 0), outcomes=[("removed", acted)])
    card = _card(app)[parties.platform]
    assert card.counts["within_deadline"] == (1 if within else 0)
    assert card.counts["decided"] == 1


def test_extension_granted_moves_the_deadline_in_force(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    # Acted at 100 h, after the policy's 72 h, but before the 120 h an extension granted.
    shaped(make, parties, issued=issued, status="responded_fully", deadline=issued + timedelta(hours=120),
           outcomes=[("removed", issued + timedelta(hours=100))], extension="granted")
    shaped(make, parties, issued=issued, status="issued", extension="refused")
    card = _card(app)[parties.platform]
    assert card.counts["within_deadline"] == 1
    assert card.counts["extension_asked"] == 2 and card.counts["extension_granted"] == 1


def test_open_requests_before_their_deadline_are_not_decided(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 30, 9, 0)
    shaped(make, parties, issued=issued, deadline=kst(2026, 12, 20, 0, 0))
    card = _card(app)[parties.platform]
    assert card.counts["received"] == 1 and card.counts["decided"] == 0
    assert card.within_deadline == {"count": 0, "of": 0, "share": None, "ci95": None}


def test_overdue_and_very_overdue_now(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 1, 9, 0)
    shaped(make, parties, issued=issued, deadline=kst(2026, 12, 10, 0, 0), very_overdue_from=kst(2026, 12, 20, 0, 0))
    shaped(make, parties, issued=issued, deadline=kst(2026, 11, 4, 0, 0), very_overdue_from=kst(2026, 11, 7, 0, 0))
    shaped(make, parties, issued=issued, deadline=kst(2026, 12, 30, 0, 0))
    card = _card(app)[parties.platform]
    assert card.counts["overdue_now"] == 2 and card.counts["very_overdue_now"] == 1
    assert card.counts["decided"] == 2 and card.counts["within_deadline"] == 0


def test_withdrawn_requests_are_excluded_and_counted_apart(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    shaped(make, parties, issued=issued, status="withdrawn", acknowledged=issued + timedelta(hours=1),
           deadline=kst(2026, 11, 11, 0, 0))
    shaped(make, parties, issued=issued, status="acknowledged", acknowledged=issued + timedelta(hours=5))
    card = _card(app)[parties.platform]
    assert card.counts["withdrawn"] == 1
    assert card.counts["received"] == 1 and card.counts["acknowledged"] == 1
    assert card.hours_to_acknowledge == [5]
    assert card.counts["overdue_now"] == 1  # only the acknowledged one; its 72 h passed long ago


@pytest.mark.parametrize(("issued", "in_november"), [
    (kst(2026, 11, 30, 23, 59, 59), True),
    (kst(2026, 12, 1, 0, 0), False),
    (kst(2026, 11, 1, 0, 0), True),
    (kst(2026, 10, 31, 23, 59, 59), False),
])
def test_period_edges_in_kst(app, make, issued, in_november):
    parties = make.parties()
    shaped(make, parties, issued=issued)
    assert _card(app)[parties.platform].counts["received"] == (1 if in_november else 0)


def test_small_cells_show_counts_but_no_share(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    for _ in range(4):
        shaped(make, parties, issued=issued, status="responded_fully", outcomes=[("removed", issued + timedelta(hours=1))])
    card = _card(app)[parties.platform]
    assert card.small
    assert card.within_deadline == {"count": 4, "of": 4, "share": None, "ci95": None}
    assert card.outcomes["removed"] == 4 and card.outcome_share("removed") is None


def test_share_within_deadline_with_wilson_interval(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    for hours in (1, 2, 3, 4, 5, 6, 7, 8, 100, 200):
        shaped(make, parties, issued=issued, status="responded_fully", outcomes=[("removed", issued + timedelta(hours=hours))])
    within = _card(app)[parties.platform].within_deadline
    assert within["count"] == 8 and within["of"] == 10 and within["share"] == 0.8
    assert within["ci95"] == [pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4)]


def test_a_back_dated_outcome_changes_its_own_period(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    request_id = shaped(make, parties, issued=issued, status="acknowledged", acknowledged=issued)
    december = Period(date(2026, 12, 1), date(2027, 1, 1))
    assert _card(app)[parties.platform].counts["acted"] == 0
    # Recorded in December, dated within November's deadline: November's figures change, December's do not.
    record_outcome(app, request_id, "removed", issued + timedelta(hours=10))
    november = _card(app)[parties.platform]
    assert november.counts["acted"] == 1 and november.counts["within_deadline"] == 1
    assert november.hours_to_act == [10]
    assert _card(app, december)[parties.platform].counts["received"] == 0


def test_figures_behind_a_count_are_the_requests_it_counts(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    late = shaped(make, parties, issued=issued, deadline=kst(2026, 11, 11, 0, 0))
    shaped(make, parties, issued=issued, deadline=kst(2026, 12, 31, 0, 0))
    with app.test_request_context():
        ids = [r.id for r in db.session.scalars(
            measures.request_ids_behind(NOVEMBER, parties.platform, "overdue_now", now=NOW))]
    assert ids == [late]


def test_scorecard_follows_the_clock_when_now_is_not_given(app, make):
    parties = make.parties()
    shaped(make, parties, issued=kst(2026, 11, 10, 9, 0), deadline=kst(2026, 11, 20, 0, 0))
    with time_machine.travel(kst(2026, 11, 19, 0, 0), tick=False):
        with app.test_request_context():
            assert measures.scorecard(NOVEMBER, [parties.platform])[0].counts["overdue_now"] == 0
    with time_machine.travel(kst(2026, 11, 21, 0, 0), tick=False):
        with app.test_request_context():
            assert measures.scorecard(NOVEMBER, [parties.platform])[0].counts["overdue_now"] == 1


def test_requests_per_month_by_type_in_kst_months(app, make):
    parties, other = make.parties(), make.parties()
    shaped(make, parties, issued=kst(2026, 10, 31, 23, 59, 59), request_type="blocking")    # before the period
    shaped(make, parties, issued=kst(2026, 11, 1, 0, 0), request_type="blocking")
    shaped(make, parties, issued=kst(2026, 11, 30, 23, 59, 59), request_type="removal")
    shaped(make, other, issued=kst(2026, 11, 15, 9, 0), request_type="removal")
    shaped(make, parties, issued=kst(2026, 11, 15, 9, 0), request_type="information", status="withdrawn")
    shaped(make, parties, issued=kst(2026, 12, 1, 0, 0), request_type="preservation")      # December in KST
    shaped(make, parties, issued=kst(2026, 12, 31, 23, 59, 59), request_type="information")
    period = Period(date(2026, 11, 1), date(2027, 1, 1))
    with app.test_request_context():
        months = measures.requests_per_month_by_type(period)
        only = measures.requests_per_month_by_type(period, [other.platform])
    assert months == [
        {"month": "2026-11", "counts": {"removal": 2, "blocking": 1, "preservation": 0, "information": 0}},
        {"month": "2026-12", "counts": {"removal": 0, "blocking": 0, "preservation": 1, "information": 1}}]
    assert [m["counts"]["removal"] for m in only] == [1, 0]
    card = _card(app, period)[parties.platform]
    assert card.types == {"removal": 1, "blocking": 1, "preservation": 1, "information": 1}


def test_time_to_act_distribution_of_a_platform(app, make):
    parties = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    for hours in (1, 6, 30, 100, 200, 300):
        shaped(make, parties, issued=issued, status="responded_fully", outcomes=[("removed", issued + timedelta(hours=hours))])
    shaped(make, parties, issued=issued, status="acknowledged", acknowledged=issued)  # not acted: not counted
    assert _card(app)[parties.platform].hours_to_act_binned == [1, 1, 1, 1, 2]
