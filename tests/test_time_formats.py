"""One way to write a time per language (portal.core.clock), in pages, e-mails and documents alike:
"25 November 2026, 14:03" / "2026년 11월 25일 14:03", 24-hour, no seconds, and only spaces a font draws."""
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from flask import render_template_string
from flask_babel import force_locale

from portal.consultations.labels import format_span
from portal.core import clock, documents
from portal.core.documents import Document
from portal.extensions import db
from portal.requests.models import Request
from tests.documents_support import pdf_text

KST = clock.KST
MOMENT = datetime(2026, 11, 25, 5, 3, 27, tzinfo=timezone.utc)  # 14:03:27 KST, a Wednesday

EXPECTED = {
    "en": {"moment": "25 November 2026, 14:03", "day": "25 November 2026",
           "meeting": "Wed 25 November 2026, 14:03"},
    "ko": {"moment": "2026년 11월 25일 14:03", "day": "2026년 11월 25일",
           "meeting": "2026년 11월 25일(수) 14:03"},
}


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("kind", ["moment", "meeting"])
def test_a_time_reads_the_same_in_every_language_form(language, kind):
    assert clock.format_local(MOMENT, KST, kind, language) == EXPECTED[language][kind]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_day_of_a_date_and_of_a_time_in_kst(language):
    assert clock.format_day(date(2026, 11, 25), language) == EXPECTED[language]["day"]
    # 23:30 UTC on the 24th is already the 25th in Seoul.
    assert clock.format_day(datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc), language) == \
        EXPECTED[language]["day"]


def test_the_language_comes_from_the_current_locale(app):
    with app.test_request_context():
        for language in ("en", "ko"):
            with force_locale(language):
                assert clock.format_moment(MOMENT) == f"{EXPECTED[language]['moment']} KST"


def test_afternoon_times_use_the_24_hour_clock_without_seconds():
    afternoon = datetime(2026, 11, 25, 6, 44, 55, tzinfo=timezone.utc)  # 15:44:55 KST
    assert clock.format_in_zone(afternoon, KST, "en") == "25 November 2026, 15:44 KST"
    assert clock.format_in_zone(afternoon, KST, "ko") == "2026년 11월 25일 15:44 KST"


def test_no_formatted_time_holds_a_space_the_fonts_cannot_draw():
    zones = ("Asia/Seoul", "America/Los_Angeles", "Europe/Dublin", "Asia/Kolkata", "Pacific/Chatham")
    for hour in range(0, 24 * 7, 5):
        moment = MOMENT + timedelta(hours=hour, minutes=hour)
        for language in ("en", "ko"):
            written = [clock.format_day(moment, language)]
            for zone in zones:
                written += [clock.format_moment(moment, zone, language), clock.format_meeting(moment, zone, language)]
            for text in written:
                assert not set(text) & set(clock.UNDRAWABLE_SPACES), repr(text)
                assert not any(word in text for word in ("AM", "PM", "오전", "오후")), text


def test_drawable_replaces_every_space_babel_may_write():
    assert clock.drawable("3:44\u202fPM\u00a0KST\u2009–\u20071") == "3:44 PM KST – 1"


@pytest.mark.parametrize("language,expected", [
    ("en", "Wed 25 November 2026, 14:03–15:03 KST"), ("ko", "2026년 11월 25일(수) 14:03–15:03 KST")])
def test_a_meeting_span_names_its_weekday(app, language, expected):
    with app.test_request_context(), force_locale(language):
        assert format_span(MOMENT, timedelta(hours=1), "Asia/Seoul") == expected


@pytest.mark.parametrize("language", ["en", "ko"])
def test_template_filters_write_the_same_forms(app, language):
    template = "{{ at|moment_in('Europe/Dublin') }}|{{ on|day }}|{{ at|day }}"
    with app.test_request_context(), force_locale(language):
        text = render_template_string(template, at=MOMENT, on=date(2026, 11, 25))
    moment, day = EXPECTED[language]["moment"], EXPECTED[language]["day"]
    dublin = "25 November 2026, 05:03" if language == "en" else "2026년 11월 25일 05:03"
    assert text == f"{moment} KST ({dublin} Europe/Dublin)|{day}|{day}"


@pytest.mark.real_documents
def test_a_notices_computed_as_line_reads_as_everywhere_else(app, make):
    parties = make.parties(platform_timezone="America/Los_Angeles")
    with time_machine.travel(datetime(2026, 11, 25, 15, 44, 55, tzinfo=KST), tick=False):
        request_id = make.request(parties, "issued")  # standard: 72 hours
    with app.app_context():
        reference = db.session.get(Request, request_id).reference
        notice = db.session.scalars(db.select(Document).where(Document.reference == reference)).one()
        text = pdf_text(documents.documents_root() / notice.storage_path)
    lines = " ".join(text.split())
    assert "issued 25 November 2026, 15:44 KST + 72 hours" in lines
    assert "2026년 11월 25일 15:44 KST 발송 + 72시간" in lines
    assert "2026년 11월 28일 15:44 KST" in lines and "28 November 2026, 15:44 KST" in lines  # the deadline
    assert "27 November 2026, 22:44 America/Los_Angeles" in lines
    assert "15:44:55" not in text and "PM" not in text and "2026. 11." not in text
    assert "[U+" not in text and not set(text) & set(clock.UNDRAWABLE_SPACES)
