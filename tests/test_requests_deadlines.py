"""Deadlines: hours are absolute time; working days skip weekends and Korean public holidays; shown in KST
and the viewer's zone with the sentence that explains them. Time is frozen, never slept on."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from flask_babel import force_locale

from portal.core import clock
from portal.extensions import db
from portal.requests import deadlines
from portal.requests.deadlines import Allowance, deadline_after
from portal.requests.models import DeadlinePolicy, Request

KST = clock.KST


def kst(*args) -> datetime:
    return datetime(*args, tzinfo=KST)


@pytest.mark.parametrize("start,hours,expected", [
    (kst(2026, 11, 25, 14, 3), 24, kst(2026, 11, 26, 14, 3)),
    (kst(2026, 11, 27, 18, 0), 72, kst(2026, 11, 30, 18, 0)),  # hours run through the weekend
])
def test_hours_are_absolute_time(start, hours, expected):
    assert deadline_after(start, Allowance(hours=hours)) == expected
    assert deadline_after(start, Allowance(hours=hours)).tzinfo == timezone.utc


@pytest.mark.parametrize("start,expected", [
    # Wednesday -> the 7th working day is the next Friday.
    (kst(2026, 11, 25, 14, 3), kst(2026, 12, 4, 14, 3)),
    # Friday evening: the weekend does not count.
    (kst(2026, 11, 27, 19, 0), kst(2026, 12, 8, 19, 0)),
    # Saturday: counting starts on Monday.
    (kst(2026, 11, 28, 10, 0), kst(2026, 12, 8, 10, 0)),
    # Chuseok (24-26 Sep 2026) and National Foundation Day with its substitute (3 and 5 Oct) are skipped.
    (kst(2026, 9, 23, 10, 0), kst(2026, 10, 7, 10, 0)),
    # Christmas (Friday 25 Dec 2026) and New Year's Day (Friday 1 Jan 2027).
    (kst(2026, 12, 23, 9, 30), kst(2027, 1, 5, 9, 30)),
])
def test_working_days_skip_weekends_and_korean_holidays(start, expected):
    assert deadline_after(start, Allowance(working_days=7)) == expected


def test_working_days_count_in_korea_whatever_the_zone_of_the_start():
    # 23:30 UTC on Friday is already Saturday 08:30 in Seoul: the count starts on Monday in Korea.
    start = datetime(2026, 11, 27, 23, 30, tzinfo=timezone.utc)
    assert deadline_after(start, Allowance(working_days=1)) == kst(2026, 11, 30, 8, 30)


@pytest.mark.parametrize("request_type,priority,allowance", [
    ("removal", "urgent", Allowance(hours=24)),
    ("blocking", "standard", Allowance(hours=72)),
    ("information", "standard", Allowance(working_days=7)),
    ("information", "urgent", Allowance(hours=24)),
])
def test_default_policy(ctx, request_type, priority, allowance):
    assert deadlines.allowance_for(request_type, priority) == allowance


def test_admins_policy_takes_precedence(ctx):
    db.session.add(DeadlinePolicy(request_type="removal", priority="urgent", hours=12))
    db.session.flush()
    assert deadlines.allowance_for("removal", "urgent") == Allowance(hours=12)


def test_issue_sets_deadline_reminder_and_very_overdue_times(app, make):
    with time_machine.travel(kst(2026, 11, 25, 14, 3), tick=False):
        request_id = make.request(priority="urgent")
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert req.issued_at == kst(2026, 11, 25, 14, 3)
        assert req.deadline == kst(2026, 11, 26, 14, 3)
        assert req.remind_at == kst(2026, 11, 26, 8, 3)  # a quarter of 24 h left
        assert req.very_overdue_from == kst(2026, 11, 27, 14, 3)  # past twice the allowed time


def test_information_request_deadline_in_working_days(app, make):
    with time_machine.travel(kst(2026, 9, 23, 10, 0), tick=False):
        request_id = make.request(request_type="information")
    with app.app_context():
        assert db.session.get(Request, request_id).deadline == kst(2026, 10, 7, 10, 0)


def test_explanation_sentence(app, make):
    with time_machine.travel(kst(2026, 11, 25, 14, 3), tick=False):
        request_id = make.request(priority="urgent")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        with force_locale("en"):
            sentence = deadlines.explanation(req)
        assert sentence.startswith("issued ") and "KST" in sentence and sentence.endswith("+ 24 hours")
        assert sentence == "issued 25 November 2026, 14:03 KST + 24 hours"
        with force_locale("ko"):
            korean = deadlines.explanation(req)
        assert "2026년 11월 25일 14:03 KST" in korean


def test_deadline_shown_in_kst_and_the_viewers_zone(app, make, auth, client):
    parties = make.parties(platform_timezone="America/Los_Angeles")
    with time_machine.travel(kst(2026, 11, 25, 14, 3), tick=False):
        request_id = make.request(parties, priority="urgent")
    with time_machine.travel(kst(2026, 11, 25, 15, 0), tick=False):
        auth.login(parties.agent)  # the agent's zone is Los Angeles
        page = client.get(f"/requests/{request_id}?lang=en").get_data(as_text=True)
    assert "26 November 2026, 14:03 KST (25 November 2026, 21:03 America/Los_Angeles)" in page
    assert "23 h 3 min left" in page


def test_countdown_text(app):  # `app`: every model imported, so a Request can be made in any order of tests
    req = Request(deadline=kst(2026, 11, 26, 14, 3))
    from flask import Flask  # a bare app is enough for gettext outside a request
    from flask_babel import Babel

    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        assert deadlines.countdown(req, kst(2026, 11, 24, 12, 0)) == "2 days 2 h left"
        assert deadlines.countdown(req, kst(2026, 11, 26, 16, 13)) == "overdue by 2 h 10 min"


def test_extension_replaces_the_explanation(app, make):
    parties = make.parties()
    with time_machine.travel(kst(2026, 11, 25, 14, 3), tick=False):
        request_id = make.request(parties)
    from portal.accounts.models import User
    from portal.requests import services

    with time_machine.travel(kst(2026, 11, 26, 9, 0), tick=False), app.test_request_context():
        req = db.session.get(Request, request_id)
        extension = services.request_extension(db.session.get(User, parties.agent.id), req, "Need legal review")
        services.grant_extension(db.session.get(User, parties.supervisor.id), req, extension,
                                 kst(2026, 12, 2, 18, 0))
        with force_locale("en"):
            assert "new deadline set by the agency's supervisor" in deadlines.explanation(req)
        assert req.deadline == kst(2026, 12, 2, 18, 0)
        assert req.very_overdue_from - req.deadline == req.deadline - kst(2026, 11, 26, 9, 0)
        assert req.deadline - req.remind_at == timedelta(hours=(req.deadline - kst(2026, 11, 26, 9, 0)).total_seconds() / 3600 / 4)


@pytest.mark.parametrize("language, now, expected", [
    ("en", kst(2026, 11, 25, 14, 2), "1 day 0 h left"),
    ("en", kst(2026, 11, 24, 12, 0), "2 days 2 h left"),
    ("en", kst(2026, 11, 26, 14, 2, 30), "0 h 0 min left"),
    ("en", kst(2026, 11, 26, 14, 3), "0 h 0 min left"),
    ("en", kst(2026, 11, 26, 14, 4), "overdue by 0 h 1 min"),
    ("en", kst(2026, 11, 29, 15, 3), "overdue by 3 days 1 h"),
    ("ko", kst(2026, 11, 24, 12, 0), "2일 2시간 남음"),
    ("ko", kst(2026, 11, 26, 16, 13), "2시간 10분 초과"),
])
def test_countdown_words_in_each_language(app, language, now, expected):
    # The words are looked up once per catalogue (deadlines._Words): every number still gets its own plural.
    req = Request(deadline=kst(2026, 11, 26, 14, 3))
    with app.test_request_context(f"/?lang={language}"):
        app.preprocess_request()
        assert deadlines.countdown(req, now) == expected
