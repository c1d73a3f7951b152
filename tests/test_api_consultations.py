"""API v1 of consultations (issue 11's Stable API): create and propose, choose or counter-propose, schedule,
reschedule, cancel, RSVP, the PUBLISH file, 404 across organisations and the role rules."""
import pytest

from portal.accounts.models import Organisation
from portal.extensions import db
from tests.api_support import api_as
from tests.consultations_support import consultation, future


def _code(app, organisation_id):
    with app.app_context():
        return db.session.get(Organisation, organisation_id).code


def _new(app, parties, **extra):
    body = {"kind": "bilateral", "title_ko": "정기 협의", "title_en": "Regular consultation", "format": "video",
            "video_url": "https://meet.example.org/abc", "timezone": "Asia/Seoul", "duration_minutes": 60,
            "platforms": [_code(app, parties.platform)],
            "slots": [{"start": future().isoformat()}, {"start": future(21).isoformat()}],
            "agenda": [{"title_ko": "안건", "title_en": "Item"}]}
    body.update(extra)
    return body


def test_create_with_slots_proposes_and_answers_ids(app, client, make):
    parties = make.parties()
    response = api_as(app, client, parties.officer).post("/consultations", json=_new(app, parties))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()["consultation"]
    assert body["status"] == "proposed" and body["sequence"] == 0 and body["uid"].startswith("consultation-")
    assert len(body["slots"]) == 2 and all(isinstance(s["id"], int) for s in body["slots"])
    assert [a["title_en"] for a in body["agenda"]] == ["Item"]
    (invitee,) = body["invitees"]
    assert invitee["organisation"] == _code(app, parties.platform) and invitee["rsvp"] == "needs_action"


def test_create_without_slots_stays_draft(app, client, make):
    parties = make.parties()
    response = api_as(app, client, parties.supervisor).post("/consultations", json=_new(app, parties, slots=[]))
    assert response.status_code == 201 and response.get_json()["consultation"]["status"] == "draft"


@pytest.mark.parametrize("role", ["agent", "platform_admin"])
def test_platforms_cannot_create(app, client, make, role):
    parties = make.parties()
    response = api_as(app, client, getattr(parties, role)).post("/consultations", json=_new(app, parties))
    assert response.status_code == 403


def test_unknown_field_and_bounds_are_refused(app, client, make):
    parties = make.parties()
    api = api_as(app, client, parties.officer)
    response = api.post("/consultations", json=_new(app, parties, colour="red"))
    assert response.status_code == 422 and response.get_json()["field"] == "colour"
    assert api.post("/consultations", json=_new(app, parties, duration_minutes=5)).status_code == 422
    assert api.post("/consultations", json=_new(app, parties, kind="party")).status_code == 422


def test_platform_chooses_then_organiser_schedules(app, client, make):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="proposed")
    agent = api_as(app, client, parties.agent)
    chosen = agent.post(f"/consultations/{meeting.id}/choose", json={"slots": [meeting.slot_ids[1]]})
    assert chosen.status_code == 200, chosen.get_json()
    slots = {s["id"]: s for s in chosen.get_json()["consultation"]["slots"]}
    assert slots[meeting.slot_ids[1]]["chosen_by"] == [_code(app, parties.platform)]
    # Only the organiser fixes the time.
    assert agent.post(f"/consultations/{meeting.id}/schedule", json={"slot": meeting.slot_ids[1]}).status_code == 403
    officer = api_as(app, client, parties.officer)
    both = officer.post(f"/consultations/{meeting.id}/schedule",
                        json={"slot": meeting.slot_ids[1], "start": future().isoformat()})
    assert both.status_code == 422
    done = officer.post(f"/consultations/{meeting.id}/schedule", json={"slot": meeting.slot_ids[1]})
    assert done.status_code == 200
    body = done.get_json()["consultation"]
    assert body["status"] == "scheduled" and body["sequence"] == 0
    assert body["starts_at"] == slots[meeting.slot_ids[1]]["start"]


def test_counter_proposal_is_an_open_slot(app, client, make):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="proposed")
    response = api_as(app, client, parties.agent).post(
        f"/consultations/{meeting.id}/choose", json={"counter": {"start": future(25).isoformat(), "note": "오후"}})
    assert response.status_code == 200
    counters = [s for s in response.get_json()["consultation"]["slots"] if s["counter"]]
    assert len(counters) == 1 and counters[0]["counter_status"] == "open" and counters[0]["note"] == "오후"
    both = api_as(app, client, parties.agent).post(
        f"/consultations/{meeting.id}/choose", json={"slots": [], "counter": {"start": future(26).isoformat()}})
    assert both.status_code == 422


def test_reschedule_raises_sequence_and_cancel_answers(app, client, make):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform])
    officer = api_as(app, client, parties.officer)
    assert officer.post(f"/consultations/{meeting.id}/reschedule",
                        json={"start": future(30).isoformat()}).status_code == 422
    moved = officer.post(f"/consultations/{meeting.id}/reschedule",
                         json={"start": future(30).isoformat(), "reason": "Room taken"})
    assert moved.status_code == 200
    body = moved.get_json()["consultation"]
    assert body["sequence"] == 1 and body["uid"] == meeting.uid and body["reschedule_reason"] == "Room taken"
    cancelled = officer.post(f"/consultations/{meeting.id}/cancel", json={"reason": "No longer needed"})
    assert cancelled.status_code == 200
    assert cancelled.get_json()["consultation"]["status"] == "cancelled"
    assert cancelled.get_json()["consultation"]["sequence"] == 2
    again = officer.post(f"/consultations/{meeting.id}/cancel", json={"reason": "Again"})
    assert again.status_code == 409


def test_rsvp_keeps_sequence_and_shows_per_organisation(app, client, make):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform])
    agent = api_as(app, client, parties.agent)
    response = agent.post(f"/consultations/{meeting.id}/rsvp", json={"response": "accepted", "note": "Two of us"})
    assert response.status_code == 200
    body = response.get_json()["consultation"]
    assert body["sequence"] == 0
    (invitee,) = body["invitees"]
    assert invitee["rsvp"] == "accepted"
    mine = [p for p in invitee["people"] if p["user"] == parties.agent.id]
    assert mine[0]["rsvp"] == "accepted" and mine[0]["note"] == "Two of us"
    assert agent.post(f"/consultations/{meeting.id}/rsvp", json={"response": "maybe"}).status_code == 422


def test_another_organisations_consultation_is_404_like_a_missing_one(app, client, make):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform])
    others = make.parties()
    for user in (others.agent, others.officer):
        api = api_as(app, client, user)
        mine = api.get(f"/consultations/{meeting.id}")
        missing = api.get("/consultations/2147483647")
        assert mine.status_code == missing.status_code == 404
        assert mine.get_data() == missing.get_data()
        assert api.post(f"/consultations/{meeting.id}/rsvp", json={"response": "accepted"}).status_code == 404
        assert api.get(f"/consultations/{meeting.id}/calendar.ics").status_code == 404
        listed = api.get("/consultations").get_json()["consultations"]
        assert meeting.id not in [c["id"] for c in listed]
    # Another agency's officer may organise, but not this one.
    response = api_as(app, client, others.officer).post(f"/consultations/{meeting.id}/cancel", json={"reason": "x"})
    assert response.status_code == 404


def test_list_and_get_for_the_invited_platform(app, client, make):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform])
    api = api_as(app, client, parties.agent)
    listed = api.get("/consultations?status=scheduled").get_json()["consultations"]
    assert [c["id"] for c in listed] == [meeting.id]
    assert api.get("/consultations?status=held").get_json()["consultations"] == []
    assert api.get(f"/consultations/{meeting.id}").get_json()["consultation"]["uid"] == meeting.uid


def test_calendar_file_is_publish_without_rsvp(app, client, make):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform])
    response = api_as(app, client, parties.agent).get(f"/consultations/{meeting.id}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar; method=PUBLISH")
    text = response.get_data(as_text=True)
    assert "METHOD:PUBLISH" in text and meeting.uid in text and "RSVP=TRUE" not in text
    draft = consultation(make, parties.officer, [parties.platform], status="draft")
    assert api_as(app, client, parties.officer).get(f"/consultations/{draft.id}/calendar.ics").status_code == 404
