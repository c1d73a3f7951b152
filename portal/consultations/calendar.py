"""Calendar files (iCalendar, RFC 5545) and their iTIP methods (RFC 5546) for consultations.

Pure: it turns a plain `CalendarEvent` into bytes and knows nothing of Flask or the database, so the rules
calendar clients depend on are tested here once:
- one `UID` per consultation, from its first invitation to its cancellation;
- `SEQUENCE` grows by one with each invitation, reschedule or cancellation sent (the caller keeps it);
- `METHOD` in the file equals `method=` in the MIME part's Content-Type (`content_type()` gives both);
- every `TZID` used has its `VTIMEZONE`, placed before the `VEVENT`, so Outlook places the meeting right;
- `DTSTAMP` and `LAST-MODIFIED` are fresh UTC times of the sending, never the meeting's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

PRODID = "-//Platform Cooperation Portal//Consultations//KO"
REQUEST, CANCEL, PUBLISH = "REQUEST", "CANCEL", "PUBLISH"


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str
    organisation: str = ""


@dataclass(frozen=True)
class CalendarEvent:
    """What a calendar needs to know of a consultation, as plain data."""

    uid: str
    sequence: int
    start: datetime            # aware
    duration: timedelta
    timezone: str              # the meeting's own zone, e.g. "Asia/Seoul"
    summary: str
    description: str
    organizer_email: str
    organizer_name: str
    location: str = ""
    url: str = ""
    attendees: tuple[Attendee, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.start.tzinfo is None:
            raise ValueError("A calendar event needs an aware start time.")
        ZoneInfo(self.timezone)  # an unknown zone fails here, not in a client


def content_type(method: str) -> str:
    """The MIME type of the calendar part: its `method=` must equal the file's METHOD."""
    return f"text/calendar; method={method}; charset=UTF-8"


def invitation(event: CalendarEvent, *, now: datetime) -> bytes:
    """METHOD:REQUEST, for the first invitation and every reschedule (with a higher sequence)."""
    return _calendar(event, REQUEST, now=now, status="CONFIRMED", rsvp=True)


def cancellation(event: CalendarEvent, *, now: datetime) -> bytes:
    """METHOD:CANCEL with STATUS:CANCELLED; the caller gives the sequence one above the last one sent."""
    return _calendar(event, CANCEL, now=now, status="CANCELLED", rsvp=False)


def publication(event: CalendarEvent, *, now: datetime) -> bytes:
    """METHOD:PUBLISH, the "add to my calendar" download: no attendees asked to answer."""
    return _calendar(event, PUBLISH, now=now, status="CONFIRMED", rsvp=None)


def _calendar(event: CalendarEvent, method: str, *, now: datetime, status: str, rsvp: bool | None) -> bytes:
    stamp = now.astimezone(timezone.utc).replace(microsecond=0)
    zone = ZoneInfo(event.timezone)
    # Through UTC: adding to a zoned time is wall-clock arithmetic and goes wrong across a DST change.
    start = _local(event.start, zone)
    end = _local(event.start.astimezone(timezone.utc) + event.duration, zone)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    # The zone's rules around the meeting only: enough for every client, and a small file.
    cal.add_component(Timezone.from_tzid(event.timezone, first_date=start.date() - timedelta(days=366),
                                         last_date=end.date() + timedelta(days=366)))

    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", stamp)
    vevent.add("last-modified", stamp)
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if event.url:
        vevent.add("url", event.url)
    vevent.add("status", status)
    vevent.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{event.organizer_email}")
    organizer.params["cn"] = vText(event.organizer_name)
    vevent.add("organizer", organizer)
    if rsvp is not None:
        for person in event.attendees:
            attendee = vCalAddress(f"mailto:{person.email}")
            attendee.params["cn"] = vText(person.name)
            attendee.params["role"] = vText("REQ-PARTICIPANT")
            attendee.params["partstat"] = vText("NEEDS-ACTION")
            attendee.params["cutype"] = vText("INDIVIDUAL")
            if rsvp:
                attendee.params["rsvp"] = vText("TRUE")
            vevent.add("attendee", attendee, encode=0)
    cal.add_component(vevent)
    return cal.to_ical()


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """The time in the meeting's zone, or in UTC when the local time is ambiguous (the hour repeated when
    clocks go back): RFC 5545 reads an ambiguous local time as its first occurrence."""
    local = moment.astimezone(zone)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return moment.astimezone(timezone.utc)
    return local
