"""The calendar rules of consultations, on the bytes a client receives: METHOD, UID, SEQUENCE,
VTIMEZONE before VEVENT, attendees and RSVP, and times that round-trip across DST changes."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from portal.consultations import calendar
from portal.consultations.calendar import Attendee, CalendarEvent
from portal.consultations.times import outside_working_hours, slot_times

NOW = datetime(2026, 2, 1, 3, 0, tzinfo=timezone.utc)


def _event(start, zone="Asia/Seoul", sequence=0):
    return CalendarEvent(
        uid="consultation-7@portal.test", sequence=sequence, start=start, duration=timedelta(minutes=90),
        timezone=zone, summary="정기 협의 / Regular consultation", description="1. 의제 / Agenda",
        organizer_email="secretariat@portal.test", organizer_name="사무국 Secretariat", location="Seoul",
        attendees=(Attendee("agent@globchat.test", "Ann Agent", "GLOBCHAT"),
                   Attendee("admin@globchat.test", "Bo Admin", "GLOBCHAT")))


def _parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def test_invitation_is_a_request_with_every_attendee_asked_to_answer():
    cal = _parse(calendar.invitation(_event(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)), now=NOW))
    assert cal["METHOD"] == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == "consultation-7@portal.test"
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    attendees = event["ATTENDEE"]
    assert [str(a) for a in attendees] == ["mailto:agent@globchat.test", "mailto:admin@globchat.test"]
    assert all(a.params["RSVP"] == "TRUE" for a in attendees)
    assert str(event["ORGANIZER"]) == "mailto:secretariat@portal.test"
    assert calendar.content_type("REQUEST") == "text/calendar; method=REQUEST; charset=UTF-8"


def test_stamps_are_the_sending_time_in_utc():
    cal = _parse(calendar.invitation(_event(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)), now=NOW))
    (event,) = cal.walk("VEVENT")
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("LAST-MODIFIED") == NOW
    assert b"DTSTAMP:20260201T030000Z" in calendar.invitation(
        _event(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)), now=NOW)


def test_cancellation_keeps_the_uid_and_says_cancelled():
    data = calendar.cancellation(_event(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc), sequence=3), now=NOW)
    cal = _parse(data)
    assert cal["METHOD"] == "CANCEL"
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == "consultation-7@portal.test"
    assert event["SEQUENCE"] == 3
    assert event["STATUS"] == "CANCELLED"


def test_publication_asks_nobody_to_answer():
    data = calendar.publication(_event(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)), now=NOW)
    cal = _parse(data)
    assert cal["METHOD"] == "PUBLISH"
    assert b"RSVP" not in data
    assert b"ATTENDEE" not in data


def test_timezone_comes_before_the_event():
    data = calendar.invitation(_event(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc), "Europe/London"), now=NOW)
    assert data.index(b"BEGIN:VTIMEZONE") < data.index(b"BEGIN:VEVENT")
    assert b"TZID:Europe/London" in data
    assert b"DTSTART;TZID=Europe/London:" in data


@pytest.mark.parametrize("zone, start", [
    ("Asia/Seoul", datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)),
    # London moves to summer time at 01:00 UTC on 29 March 2026: one meeting before, one after.
    ("Europe/London", datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)),
    ("Europe/London", datetime(2026, 3, 29, 9, 0, tzinfo=timezone.utc)),
    ("Europe/London", datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)),
    # New York: 8 March and 1 November 2026.
    ("America/New_York", datetime(2026, 3, 8, 6, 30, tzinfo=timezone.utc)),
    ("America/New_York", datetime(2026, 3, 8, 7, 30, tzinfo=timezone.utc)),
    ("America/New_York", datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc)),
    ("America/New_York", datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)),
])
def test_times_round_trip_through_the_files_own_timezone(zone, start):
    """A client that only knows the VTIMEZONE sent with the file puts the meeting at the same instant."""
    cal = _parse(calendar.invitation(_event(start, zone), now=NOW))
    (vtimezone,) = cal.walk("VTIMEZONE")
    (event,) = cal.walk("VEVENT")
    from_file = vtimezone.to_tz()

    def instant(name):
        value = event.decoded(name)
        if value.utcoffset() == timedelta(0) and "TZID" not in event[name].params:
            return value  # written in UTC: an ambiguous local time
        return value.replace(tzinfo=None).replace(tzinfo=from_file).astimezone(timezone.utc)

    assert instant("DTSTART") == start
    assert instant("DTEND") == start + timedelta(minutes=90)
    assert event.decoded("DTSTART") == start  # and a client with its own zone database agrees


def test_an_ambiguous_local_time_is_written_in_utc():
    # 01:30 happens twice in New York on 1 November 2026; the second one is 06:30 UTC.
    data = calendar.invitation(_event(datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc), "America/New_York"),
                               now=NOW)
    assert b"DTSTART:20261101T063000Z" in data


def test_rescheduled_across_dst_keeps_uid_and_raises_sequence():
    before = _parse(calendar.invitation(_event(datetime(2026, 3, 1, 14, 0, tzinfo=timezone.utc),
                                               "America/New_York", 0), now=NOW))
    after = _parse(calendar.invitation(_event(datetime(2026, 3, 15, 13, 0, tzinfo=timezone.utc),
                                              "America/New_York", 1), now=NOW))
    (first,), (second,) = before.walk("VEVENT"), after.walk("VEVENT")
    assert first["UID"] == second["UID"]
    assert second["SEQUENCE"] == first["SEQUENCE"] + 1
    # 09:00 in New York both times, before and after the change to summer time.
    assert first.decoded("DTSTART").astimezone(ZoneInfo("America/New_York")).hour == 9
    assert second.decoded("DTSTART").astimezone(ZoneInfo("America/New_York")).hour == 9


def test_naive_start_is_refused():
    with pytest.raises(ValueError):
        _event(datetime(2026, 3, 2, 10, 0))


def test_slot_shows_both_dates_when_they_differ():
    # 10:00 KST on Monday is 20:00 on Sunday in New York (EST).
    times = slot_times(datetime(2026, 1, 12, 1, 0, tzinfo=timezone.utc), timedelta(hours=1),
                       "America/New_York")
    assert times.kst.start.hour == 10 and times.kst.start.weekday() == 0
    assert times.viewer.start.hour == 20 and times.viewer.start.weekday() == 6
    assert times.dates_differ


def test_slot_outside_working_hours_names_the_zones():
    start = datetime(2026, 1, 12, 1, 0, tzinfo=timezone.utc)  # 10:00 KST, 01:00 London, 20:00 New York
    times = slot_times(start, timedelta(hours=1), "Asia/Seoul", ["Europe/London", "America/New_York"])
    assert times.outside_hours == ("Europe/London", "America/New_York")
    assert not times.dates_differ


@pytest.mark.parametrize("local_start, minutes, outside", [
    ((8, 0), 60, False), ((7, 59), 60, True), ((19, 0), 60, False), ((19, 30), 60, True), ((23, 30), 60, True),
])
def test_working_hours_are_eight_to_twenty(local_start, minutes, outside):
    seoul = ZoneInfo("Asia/Seoul")
    start = datetime(2026, 5, 4, *local_start, tzinfo=seoul)
    assert outside_working_hours(start, timedelta(minutes=minutes), "Asia/Seoul") is outside
