"""Consultations: finding a time across zones, scheduling, the iTIP messages as received over SMTP,
RSVPs, reminders once, the agenda's freeze, and who may see and do what."""
from datetime import timedelta

import pytest
import time_machine
from icalendar import Calendar
from sqlalchemy import func, select

from portal.consultations.models import Consultation, Participant
from portal.core import jobs, outbox
from portal.core.audit import AuditEvent
from portal.extensions import db
from tests.consultations_support import consultation, future
from tests.smtp import SMTPServer


@pytest.fixture
def smtp(app):
    with SMTPServer() as server:
        app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=server.port)
        yield server


def login(auth, user):
    auth.logout()
    auth.login(user)


def _send(app):
    with app.app_context():
        return outbox.send_pending()


def _calendar_parts(mails):
    """(method in the MIME part, parsed calendar, recipient) of every calendar part received."""
    found = []
    for mail in mails:
        for part in mail.walk():
            if part.get_content_type() == "text/calendar":
                found.append((part.get_param("method"), Calendar.from_ical(part.get_content()), mail["To"]))
    return found


def _event(cal):
    (event,) = cal.walk("VEVENT")
    return event


def _consultation(app, consultation_id) -> Consultation:
    with app.app_context():
        c = db.session.get(Consultation, consultation_id)
        db.session.expunge(c)
        return c


# --- Finding a time -------------------------------------------------------------------------------------

def test_organiser_creates_proposes_and_platform_chooses(app, client, make, auth):
    parties = make.parties()
    login(auth, parties.officer)
    with app.app_context():
        from portal.accounts.models import Organisation
        code = db.session.get(Organisation, parties.platform).code
    response = client.post("/consultations/new", data={
        "kind": "bilateral", "title_ko": "양자 협의", "title_en": "Bilateral consultation", "format": "video",
        "video_url": "https://meet.example.org/x", "timezone": "Asia/Seoul", "duration_minutes": "60",
        "platforms": [code]})
    assert response.status_code == 303
    consultation_id = int(response.location.rstrip("/").split("/")[-1])
    start = future().astimezone(tz=None)
    from zoneinfo import ZoneInfo
    local = future().astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%dT%H:%M")
    assert client.post(f"/consultations/{consultation_id}/slots", data={"slot-start": local}).status_code == 303

    # A draft is the organiser's alone.
    login(auth, parties.agent)
    assert client.get(f"/consultations/{consultation_id}").status_code == 404

    login(auth, parties.officer)
    assert client.post(f"/consultations/{consultation_id}/propose").status_code == 303

    login(auth, parties.agent)
    page = client.get(f"/consultations/{consultation_id}")
    assert page.status_code == 200
    assert b"America/Los_Angeles" in page.data and b"KST" in page.data  # the agent's zone beside KST
    slot_id = _consultation(app, consultation_id)
    with app.app_context():
        slot_id = db.session.get(Consultation, consultation_id).slots[0].id
    assert client.post(f"/consultations/{consultation_id}/choose", data={"choose-slots": [str(slot_id)]}).status_code == 303
    with app.app_context():
        c = db.session.get(Consultation, consultation_id)
        assert [choice.organisation_id for choice in c.slots[0].choices] == [parties.platform]
        assert c.slots[0].starts_at == start.astimezone(c.slots[0].starts_at.tzinfo)


def test_counter_proposal_is_decided_by_the_organiser(app, client, make, auth):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="proposed")
    login(auth, parties.agent)
    # The agent types a time in its own zone (Los Angeles).
    response = client.post(f"/consultations/{meeting.id}/counter",
                           data={"counter-start": (future(25)).strftime("%Y-%m-%dT%H:%M"), "counter-note": "Later, please"})
    assert response.status_code == 303
    with app.app_context():
        counter = [s for s in db.session.get(Consultation, meeting.id).slots if s.is_counter][0]
        counter_id = counter.id
        assert counter.counter_status == "open"
        assert counter.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("America/Los_Angeles")).hour == future(25).hour
    # Only the organiser decides.
    assert client.post(f"/consultations/{meeting.id}/slots/{counter_id}/accept").status_code == 403
    login(auth, parties.officer)
    assert client.post(f"/consultations/{meeting.id}/slots/{counter_id}/accept").status_code == 303
    assert client.post(f"/consultations/{meeting.id}/slots/{counter_id}/schedule").status_code == 303
    with app.app_context():
        c = db.session.get(Consultation, meeting.id)
        assert c.status == "scheduled" and c.starts_at == counter.starts_at


def test_slot_outside_working_hours_is_flagged_for_the_participants_zone(app, client, make, auth):
    parties = make.parties()  # the platform's people live in Los Angeles
    # 10:00 KST is 17:00 or 18:00 the day before in Los Angeles: inside; 03:00 KST is 10:00/11:00: inside;
    # 16:00 KST is 23:00/00:00 in Los Angeles: outside.
    meeting = consultation(make, parties.officer, [parties.platform], status="proposed",
                           slots=[future(hour_kst=16)])
    login(auth, parties.officer)
    page = client.get(f"/consultations/{meeting.id}").get_data(as_text=True)
    assert "⚠ America/Los_Angeles" in page


# --- Invitations and calendars, as sent ------------------------------------------------------------------

def test_invitation_reschedule_and_cancel_follow_itip(app, client, make, auth, smtp):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    _send(app)
    invitations = _calendar_parts(smtp.inbox.messages)
    people = {parties.officer.email, parties.agent.email, parties.platform_admin.email}
    assert {to for _, _, to in invitations} == people
    for method, cal, _ in invitations:
        assert method == "REQUEST" == cal["METHOD"]
        event = _event(cal)
        assert str(event["UID"]) == meeting.uid
        assert event["SEQUENCE"] == 0
        attendees = event["ATTENDEE"] if isinstance(event["ATTENDEE"], list) else [event["ATTENDEE"]]
        assert {str(a).removeprefix("mailto:") for a in attendees} == people
        assert all(a.params["RSVP"] == "TRUE" for a in attendees)
        assert str(event["ORGANIZER"]) == f"mailto:{parties.officer.email}"
        assert cal.to_ical().index(b"BEGIN:VTIMEZONE") < cal.to_ical().index(b"BEGIN:VEVENT")
    smtp.inbox.messages.clear()

    login(auth, parties.officer)
    new_start = future(30).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%dT%H:%M")
    assert client.post(f"/consultations/{meeting.id}/reschedule",
                       data={"reschedule-start": new_start, "reschedule-reason": "Room taken"}).status_code == 303
    _send(app)
    moved = _calendar_parts(smtp.inbox.messages)
    assert len(moved) == 3
    for method, cal, _ in moved:
        event = _event(cal)
        assert method == "REQUEST" and str(event["UID"]) == meeting.uid and event["SEQUENCE"] == 1
        assert event.decoded("DTSTART") == future(30)
    smtp.inbox.messages.clear()

    assert client.post(f"/consultations/{meeting.id}/cancel", data={"cancel-reason": "No longer needed"}).status_code == 303
    _send(app)
    cancelled = _calendar_parts(smtp.inbox.messages)
    assert len(cancelled) == 3
    for method, cal, _ in cancelled:
        event = _event(cal)
        assert method == "CANCEL" == cal["METHOD"]
        assert str(event["UID"]) == meeting.uid and event["SEQUENCE"] == 2 and event["STATUS"] == "CANCELLED"


def test_invitation_is_in_each_recipients_language_and_zone(app, make, smtp):
    parties = make.parties()
    with app.app_context():
        from portal.accounts.models import User
        db.session.get(User, parties.agent.id).language = "ko"
        db.session.commit()
    consultation(make, parties.officer, [parties.platform], status="scheduled")
    _send(app)
    mails = {m["To"]: m for m in smtp.inbox.messages if "calendar" in str(m.get_body(("plain",)))
             or any(p.get_content_type() == "text/calendar" for p in m.walk())}
    korean = mails[parties.agent.email]
    english = mails[parties.platform_admin.email]
    assert korean["Subject"] == "초대: 정기 협의" and english["Subject"] == "Invitation: Regular consultation"
    assert korean["Content-Language"] == "ko" and english["Content-Language"] == "en"
    body = english.get_body(("plain",)).get_content()
    assert "KST" in body and "America/Los_Angeles" in body and "https://meet.example.org/abc" in body


def test_rsvp_never_changes_the_sequence(app, client, make, auth):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    login(auth, parties.agent)
    response = client.post(f"/consultations/{meeting.id}/rsvp", data={"rsvp-response": "tentative", "rsvp-note": "maybe"})
    assert response.status_code == 303
    with app.app_context():
        c = db.session.get(Consultation, meeting.id)
        mine = db.session.scalar(select(Participant).where(Participant.consultation_id == meeting.id,
                                                           Participant.user_id == parties.agent.id))
        assert mine.rsvp == "tentative" and mine.rsvp_note == "maybe"
        assert c.sequence == 0


def test_calendar_download_is_publish_without_rsvp(app, client, make, auth):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    login(auth, parties.agent)
    response = client.get(f"/consultations/{meeting.id}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar; method=PUBLISH")
    cal = Calendar.from_ical(response.data)
    assert cal["METHOD"] == "PUBLISH" and b"RSVP" not in response.data
    assert str(_event(cal)["UID"]) == meeting.uid


# --- Reminders and the agenda's freeze -------------------------------------------------------------------

def _round(app):
    with app.app_context():
        jobs.run_round()


def _reminders(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(outbox.OutboxMessage)
                                 .where(outbox.OutboxMessage.template == "consultation_reminder"))


def test_reminders_are_sent_once_each_and_move_with_a_reschedule(app, make):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    start = future()
    with time_machine.travel(start - timedelta(days=7) + timedelta(minutes=5), tick=False):
        _round(app)
        _round(app)
    assert _reminders(app) == 3  # officer, agent, admin, once
    with time_machine.travel(start - timedelta(days=1) + timedelta(minutes=5), tick=False):
        _round(app)
        _round(app)
    assert _reminders(app) == 6
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        _round(app)
    assert _reminders(app) == 6


def test_agenda_freeze_adds_very_overdue_requests_once(app, make):
    parties = make.parties()
    with time_machine.travel(future() - timedelta(days=60), tick=False):
        request_id = make.request(parties, "issued")
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    with time_machine.travel(future() - timedelta(hours=47), tick=False):
        _round(app)
        _round(app)
    with app.app_context():
        c = db.session.get(Consultation, meeting.id)
        assert c.agenda_frozen_at is not None
        assert [(item.request_id, item.added_automatically) for item in c.agenda] == [(request_id, True)]
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "consultation.agenda_frozen")) == 1


def test_agency_puts_a_request_on_a_coming_consultation(app, client, make, auth):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    meeting = consultation(make, parties.officer, [parties.platform], status="proposed")
    login(auth, parties.officer)
    response = client.post(f"/consultations/agenda/request/{request_id}", data={"consultation_id": str(meeting.id)})
    assert response.status_code == 303
    with app.app_context():
        assert [i.request_id for i in db.session.get(Consultation, meeting.id).agenda] == [request_id]
    again = client.post(f"/consultations/agenda/request/{request_id}", data={"consultation_id": str(meeting.id)})
    assert again.status_code == 303  # refused with a message, nothing added
    with app.app_context():
        assert len(db.session.get(Consultation, meeting.id).agenda) == 1


# --- Who sees and does what ------------------------------------------------------------------------------

def test_another_platform_sees_nothing(app, client, make, auth):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    outsider = make.parties()
    login(auth, outsider.agent)
    assert client.get(f"/consultations/{meeting.id}").status_code == 404
    assert client.get(f"/consultations/{meeting.id}/calendar.ics").status_code == 404
    assert client.post(f"/consultations/{meeting.id}/rsvp", data={"rsvp-response": "accepted"}).status_code == 404
    assert b"Regular consultation" not in client.get("/consultations/").data


def test_platform_cannot_organise(client, make, auth):
    parties = make.parties()
    login(auth, parties.agent)
    assert client.get("/consultations/new").status_code == 403


def test_secretariat_sees_every_consultation(app, client, make, auth):
    parties = make.parties()
    consultation(make, parties.officer, [parties.platform], status="scheduled")
    auth.as_role("secretariat")
    assert b"Regular consultation" in client.get("/consultations/").data


def test_stale_action_is_a_conflict_not_a_second_change(app, client, make, auth):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    login(auth, parties.officer)
    assert client.post(f"/consultations/{meeting.id}/cancel", data={"cancel-reason": "x"}).status_code == 303
    client.post(f"/consultations/{meeting.id}/cancel", data={"cancel-reason": "again"})
    with app.app_context():
        c = db.session.get(Consultation, meeting.id)
        assert c.cancel_reason == "x" and c.sequence == 1


@pytest.mark.parametrize("language", ["ko", "en"])
def test_pages_exist_in_both_languages(app, client, make, auth, language):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    login(auth, parties.officer)
    for path in ("/consultations/", f"/consultations/{meeting.id}", "/consultations/new"):
        response = client.get(f"{path}?lang={language}")
        assert response.status_code == 200, path
        assert ("협의" if language == "ko" else "onsultation").encode() in response.data


def test_platform_webhooks_hear_of_the_schedule_without_people(app, make):
    import json

    from portal.webhooks import services as webhooks
    from portal.accounts.models import User
    parties = make.parties()
    with app.test_request_context():
        admin = db.session.get(User, parties.platform_admin.id)
        webhooks.register_endpoint(admin, "https://hooks.example.com/portal",
                                   ["consultation.scheduled", "consultation.cancelled"])
        db.session.commit()
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    with app.app_context():
        [delivery] = db.session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.channel == "webhook")).all()
        payload = json.loads(delivery.body_text)
        assert payload["event"] == "consultation.scheduled"
        assert payload["consultation"]["uid"] == meeting.uid and payload["consultation"]["sequence"] == 0
        assert delivery.body_text.count("@") == meeting.uid.count("@")  # no person's address
        assert parties.agent.email not in delivery.body_text and parties.officer.email not in delivery.body_text


def test_secretariat_puts_an_overdue_request_on_its_plenary_without_seeing_addresses(app, client, make, auth):
    parties = make.parties()
    with time_machine.travel(future() - timedelta(days=60), tick=False):
        request_id = make.request(parties, "issued", urls=("https://victim-site.example/private/alice-1",))
    secretariat = make.user("secretariat")
    meeting = consultation(make, secretariat, [parties.platform], status="proposed", kind="plenary")
    login(auth, secretariat)
    page = client.get(f"/consultations/{meeting.id}").get_data(as_text=True)
    assert "Requests you may put on the agenda" in page
    assert "victim-site.example" not in page
    response = client.post(f"/consultations/{meeting.id}/agenda/requests/{request_id}")
    assert response.status_code == 303
    with app.app_context():
        assert [i.request_id for i in db.session.get(Consultation, meeting.id).agenda] == [request_id]
    # Not a request of an invited platform: refused, nothing added.
    other = make.request(make.parties(), "issued")
    client.post(f"/consultations/{meeting.id}/agenda/requests/{other}")
    with app.app_context():
        assert len(db.session.get(Consultation, meeting.id).agenda) == 1


def test_reminders_and_agenda_freeze_are_set_per_consultation(app, make):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled",
                           reminders_minutes=[2 * 60], agenda_freeze_hours=3)
    start = future()
    with time_machine.travel(start - timedelta(days=1) + timedelta(minutes=5), tick=False):
        _round(app)
    assert _reminders(app) == 0  # no 1-day reminder for this one
    with app.app_context():
        c = db.session.get(Consultation, meeting.id)
        assert c.reminders == (120,) and c.agenda_frozen_at is None  # it freezes 3 hours before, not 48
    with time_machine.travel(start - timedelta(hours=2) + timedelta(minutes=5), tick=False):
        _round(app)
    assert _reminders(app) == 3
    with app.app_context():
        assert db.session.get(Consultation, meeting.id).agenda_frozen_at is not None


def test_reminder_offsets_out_of_bounds_are_refused(app, make):
    from portal.consultations import services
    from portal.core.exceptions import ValidationError
    parties = make.parties()
    for bad in ([0], [31 * 24 * 60], list(range(60, 60 * 7, 60))):
        with pytest.raises(ValidationError):
            consultation(make, parties.officer, [parties.platform], status="draft", reminders_minutes=bad)
    with pytest.raises(ValidationError):
        consultation(make, parties.officer, [parties.platform], status="draft", agenda_freeze_hours=10_000)
