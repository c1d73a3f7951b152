"""API v1: consultations (issue 11's Stable API), over the same services as the pages.

The rules are the pages' rules: organisers (the secretariat, an agency's officer or supervisor) create,
schedule, reschedule and cancel their own organisation's consultations; an invited platform chooses times
or proposes another; every participant answers. Another organisation's consultation answers 404 with the
same body as a missing one (services.get). Bodies are declared complete (bounds, `additionalProperties:
false`) and validated against the published schemas before the view runs (portal.api.validation).
"""
from __future__ import annotations

from flask import Response, jsonify
from flask_babel import gettext as _
from flask_login import current_user

from portal.api import answers, bp
from portal.api.schemas import ID_INPUT, MAX_REASON, TIME_INPUT, text_input
from portal.api.spec import operation, query
from portal.consultations import invitations, services
from portal.consultations.models import (
    FORMATS,
    KINDS,
    RSVP_RESPONSES,
    RSVP_STATUSES,
    SCHEDULED,
    STATUSES,
    Consultation,
)
from portal.core import input as reader
from portal.core import policy
from portal.core.exceptions import NotFound
from portal.extensions import db
from portal.i18n import current_language

READ, WRITE, TAKE_PART = ("requests:read",), ("requests:write",), ("requests:write", "requests:respond")
ID = "<int(max=2147483647):consultation_id>"
TAG = "consultations"
MAX_PAGE = 200
MAX_INVITEES = 50
MAX_CODE = 40
MAX_NOTE = 2000

# --- Schemas ----------------------------------------------------------------------------------------------

_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_CODE = text_input(MAX_CODE, minLength=1)
_TITLE = text_input(300, minLength=1)

SLOT = {
    "type": "object",
    "required": ["id", "start", "counter"],
    "properties": {
        "id": {"type": "integer"}, "start": _TIME, "counter": {"type": "boolean"},
        "counter_status": {"type": ["string", "null"], "enum": ["open", "accepted", "declined", None]},
        "proposed_by": {"type": ["string", "null"]}, "note": {"type": "string"},
        "chosen_by": {"type": "array", "items": {"type": "string"}},
    },
}
PERSON = {
    "type": "object",
    "required": ["user", "name", "rsvp"],
    "properties": {"user": {"type": "integer"}, "name": {"type": "string"},
                   "rsvp": {"type": "string", "enum": list(RSVP_STATUSES)}, "note": {"type": "string"},
                   "answered_at": _NULLABLE_TIME},
}
INVITEE = {
    "type": "object",
    "required": ["organisation", "rsvp"],
    "properties": {"organisation": {"type": "string"}, "kind": {"type": "string"},
                   "rsvp": {"type": "string", "enum": list(RSVP_STATUSES)},
                   "people": {"type": "array", "items": PERSON}},
}
AGENDA_ITEM = {
    "type": "object",
    "required": ["id", "position", "title_ko", "title_en", "request_id"],
    "properties": {"id": {"type": "integer"}, "position": {"type": "integer"}, "title_ko": {"type": "string"},
                   "title_en": {"type": "string"}, "request_id": {"type": ["integer", "null"]},
                   "automatic": {"type": "boolean"}},
}
CONSULTATION = {
    "type": "object",
    "required": ["id", "uid", "status", "sequence", "kind", "title_ko", "title_en", "format", "timezone",
                 "duration_minutes", "slots", "invitees", "agenda"],
    "properties": {
        "id": {"type": "integer"}, "uid": {"type": "string"}, "status": {"type": "string", "enum": list(STATUSES)},
        "sequence": {"type": "integer"}, "kind": {"type": "string", "enum": list(KINDS)},
        "title_ko": {"type": "string"}, "title_en": {"type": "string"}, "purpose_ko": {"type": "string"},
        "purpose_en": {"type": "string"}, "format": {"type": "string", "enum": list(FORMATS)},
        "location": {"type": "string"}, "room": {"type": "string"}, "video_url": {"type": "string"},
        "timezone": {"type": "string"}, "duration_minutes": {"type": "integer"},
        "organiser": {"type": "string"}, "starts_at": _NULLABLE_TIME, "ends_at": _NULLABLE_TIME,
        "reminders_minutes": {"type": "array", "items": {"type": "integer"}},
        "agenda_freeze_hours": {"type": "integer"},
        "reschedule_reason": {"type": "string"}, "cancel_reason": {"type": "string"},
        "slots": {"type": "array", "items": SLOT},
        "invitees": {"type": "array", "items": INVITEE},
        "agenda": {"type": "array", "items": AGENDA_ITEM},
    },
}
DOCUMENT = {
    "type": "object",
    "required": ["id", "kind", "reference", "sha256"],
    "properties": {"id": {"type": "integer"}, "kind": {"type": "string"}, "reference": {"type": "string"},
                   "language": {"type": "string"}, "issued_at": _TIME, "sha256": {"type": "string"},
                   "download": {"type": "string"}},
}
ANSWER = {"type": "object", "required": ["consultation"],
          "properties": {"consultation": CONSULTATION, "documents": {"type": "array", "items": DOCUMENT}}}
LIST = {"type": "object", "required": ["consultations"],
        "properties": {"consultations": {"type": "array", "items": CONSULTATION}}}

NEW = {
    "type": "object", "additionalProperties": False,
    "required": ["kind", "title_ko", "title_en", "format", "duration_minutes", "platforms"],
    "properties": {
        "kind": {"type": "string", "enum": list(KINDS)},
        "title_ko": _TITLE, "title_en": _TITLE,
        "purpose_ko": text_input(MAX_NOTE, long=True), "purpose_en": text_input(MAX_NOTE, long=True),
        "format": {"type": "string", "enum": list(FORMATS)},
        "location": text_input(300), "room": text_input(120), "video_url": text_input(500),
        "timezone": text_input(64, minLength=1),
        "duration_minutes": {"type": "integer", "minimum": 15, "maximum": 24 * 60},
        "reminders_minutes": {"type": "array", "maxItems": services.MAX_REMINDERS, "uniqueItems": True,
                              "items": {"type": "integer", "minimum": 5, "maximum": services.MAX_REMINDER_MINUTES}},
        "agenda_freeze_hours": {"type": "integer", "minimum": 0, "maximum": services.MAX_FREEZE_HOURS},
        "platforms": {"type": "array", "minItems": 1, "maxItems": MAX_INVITEES, "uniqueItems": True,
                      "items": _CODE},
        "agencies": {"type": "array", "maxItems": MAX_INVITEES, "uniqueItems": True, "items": _CODE},
        "slots": {"type": "array", "maxItems": services.MAX_SLOTS, "items": {
            "type": "object", "additionalProperties": False, "required": ["start"],
            "properties": {"start": TIME_INPUT}}},
        "agenda": {"type": "array", "maxItems": services.MAX_AGENDA_ITEMS, "items": {
            "type": "object", "additionalProperties": False, "required": ["title_ko", "title_en"],
            "properties": {"title_ko": _TITLE, "title_en": _TITLE, "request_id": ID_INPUT}}},
    },
}
CHOOSE = {
    "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
    "properties": {
        "slots": {"type": "array", "maxItems": services.MAX_SLOTS, "uniqueItems": True, "items": ID_INPUT},
        "counter": {"type": "object", "additionalProperties": False, "required": ["start"],
                    "properties": {"start": TIME_INPUT, "note": text_input(MAX_NOTE, long=True)}},
    },
}
SCHEDULE = {
    "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
    "properties": {"slot": ID_INPUT, "start": TIME_INPUT},
}
RESCHEDULE = {
    "type": "object", "additionalProperties": False, "required": ["start", "reason"],
    "properties": {"start": TIME_INPUT, "reason": text_input(MAX_REASON, long=True, minLength=1)},
}
CANCEL = {
    "type": "object", "additionalProperties": False, "required": ["reason"],
    "properties": {"reason": text_input(MAX_REASON, long=True, minLength=1)},
}
RSVP = {
    "type": "object", "additionalProperties": False, "required": ["response"],
    "properties": {"response": {"type": "string", "enum": list(RSVP_RESPONSES)},
                   "note": text_input(MAX_NOTE, long=True)},
}


# --- Representations ---------------------------------------------------------------------------------------

def _organisation_answer(people) -> str:
    """One organisation's answer: accepted if anyone comes, else tentative, else declined once all said so."""
    answers = {p.rsvp for p in people}
    for answer in ("accepted", "tentative"):
        if answer in answers:
            return answer
    return "declined" if answers == {"declined"} else "needs_action"


def represent(consultation: Consultation) -> dict:
    """The consultation as `current_user` may see it (the page's rules: services.page_of)."""
    view = services.page_of(current_user, consultation)
    mine = current_user.organisation.code

    def chosen_by(slot):
        codes = sorted(c.organisation.code for c in slot.choices)
        return codes if view.is_organiser else [c for c in codes if c == mine]

    slots = [{"id": s.id, "start": answers.iso(s.starts_at), "counter": s.is_counter, "counter_status": s.counter_status,
              "proposed_by": s.proposed_by_organisation.code if s.proposed_by_organisation else None,
              "note": s.note, "chosen_by": chosen_by(s)}
             for s in sorted([*view.candidates, *view.counters], key=lambda s: (s.starts_at, s.id))]
    visible = {p.id for p in view.participants}
    invitees = []
    for invitee in consultation.invitees:
        people = [p for p in consultation.participants if p.organisation_id == invitee.organisation_id]
        invitees.append({
            "organisation": invitee.organisation.code, "kind": invitee.organisation.kind,
            "rsvp": _organisation_answer(people),
            "people": [{"user": p.user_id, "name": p.user.name, "rsvp": p.rsvp, "note": p.rsvp_note,
                        "answered_at": answers.iso(p.rsvp_at)} for p in people if p.id in visible]})
    return {
        "id": consultation.id, "uid": consultation.uid, "status": consultation.status,
        "sequence": consultation.sequence, "kind": consultation.kind, "title_ko": consultation.title_ko,
        "title_en": consultation.title_en, "purpose_ko": consultation.purpose_ko,
        "purpose_en": consultation.purpose_en, "format": consultation.format, "location": consultation.location,
        "room": consultation.room, "video_url": consultation.video_url, "timezone": consultation.timezone,
        "duration_minutes": consultation.duration_minutes, "organiser": consultation.organiser.code,
        "starts_at": answers.iso(consultation.starts_at), "ends_at": answers.iso(consultation.ends_at),
        "reminders_minutes": list(consultation.reminders), "agenda_freeze_hours": consultation.agenda_freeze_hours,
        "reschedule_reason": consultation.reschedule_reason, "cancel_reason": consultation.cancel_reason,
        "slots": slots, "invitees": invitees,
        "agenda": [{"id": a.id, "position": a.position, "title_ko": a.title_ko, "title_en": a.title_en,
                    "request_id": a.request_id, "automatic": a.added_automatically} for a in consultation.agenda],
    }


def _documents(consultation: Consultation) -> list[dict]:
    from portal.consultations import documents

    return [{"id": d.id, "kind": d.kind, "reference": d.reference, "language": d.language,
             "issued_at": answers.iso(d.issued_at), "sha256": d.sha256, "download": f"/api/v1/documents/{d.id}"}
            for d in documents.documents_of(current_user, consultation)]


def _answer(consultation: Consultation, status: int = 200):
    db.session.flush()
    return jsonify({"consultation": represent(consultation), "documents": _documents(consultation)}), status


def _load(consultation_id: int) -> Consultation:
    return services.get(current_user, consultation_id)


def _start(value: str, field: str):
    return reader.moment(value, field=field)


# --- Routes ------------------------------------------------------------------------------------------------

@bp.post("/consultations")
@policy.access("consultation.organise")
@operation("Create a consultation (the secretariat, an agency's officer or supervisor); with slots it is "
           "proposed to the invited organisations at once", scopes=WRITE, body=NEW, responses={201: ANSWER},
           errors=(403,), tag=TAG)
def create_consultation():
    data = answers.body()
    slots = [_start(s["start"], f"slots.{n}.start") for n, s in enumerate(data.get("slots", []))]
    agenda = [services.AgendaEntry(a["title_ko"], a["title_en"], a.get("request_id"))
              for a in data.get("agenda", [])]
    consultation = services.create(
        current_user, kind=data["kind"], title_ko=data["title_ko"], title_en=data["title_en"],
        purpose_ko=data.get("purpose_ko", ""), purpose_en=data.get("purpose_en", ""), format=data["format"],
        location=data.get("location", ""), room=data.get("room", ""), video_url=data.get("video_url", ""),
        timezone=data.get("timezone", "Asia/Seoul"), duration_minutes=data["duration_minutes"],
        platform_codes=data["platforms"], agency_codes=data.get("agencies", []), slots=slots, agenda=agenda,
        reminders_minutes=data.get("reminders_minutes"), agenda_freeze_hours=data.get("agenda_freeze_hours"))
    if slots:
        services.propose(current_user, consultation)
    return _answer(consultation, 201)


@bp.get("/consultations")
@policy.access("consultation.view")
@operation("The consultations the caller's organisation organises or is invited to, soonest first",
           scopes=READ, parameters=[query("status", {"type": "string", "enum": list(STATUSES)}),
                                    query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE})],
           responses={200: LIST}, errors=(422,), tag=TAG)
def list_consultations():

    query_ = services.visible(current_user)
    status = answers.choice_arg("status", STATUSES)
    if status:
        query_ = query_.where(Consultation.status == status)
    found = db.session.scalars(query_.limit(answers.int_arg("limit", MAX_PAGE, 1, MAX_PAGE))).all()
    return jsonify({"consultations": [represent(c) for c in found]})


@bp.get(f"/consultations/{ID}")
@policy.access("consultation.view")
@operation("A consultation with its times, invitees (each with its answer) and agenda", scopes=READ,
           responses={200: ANSWER}, tag=TAG)
def get_consultation(consultation_id: int):
    return _answer(_load(consultation_id))


@bp.post(f"/consultations/{ID}/choose")
@policy.access("consultation.respond")
@operation("An invited platform picks the proposed times that suit it ({slots}) or proposes another "
           "({counter: {start, note}})", scopes=TAKE_PART, body=CHOOSE, responses={200: ANSWER},
           errors=(403, 409), tag=TAG)
def choose(consultation_id: int):
    consultation = _load(consultation_id)
    data = answers.body()
    if "counter" in data:
        counter = data["counter"]
        services.counter_propose(current_user, consultation, _start(counter["start"], "counter.start"),
                                 counter.get("note", ""))
    else:
        services.choose(current_user, consultation, data["slots"])
    return _answer(consultation)


@bp.post(f"/consultations/{ID}/schedule")
@policy.access("consultation.organise")
@operation("The organiser fixes the time ({slot} or {start}); the invitations are sent", scopes=WRITE,
           body=SCHEDULE, responses={200: ANSWER}, errors=(403, 409), tag=TAG)
def schedule(consultation_id: int):
    consultation = _load(consultation_id)
    data = answers.body()
    start = _start(data["start"], "start") if "start" in data else None
    services.schedule(current_user, consultation, slot_id=data.get("slot"), start=start)
    return _answer(consultation)


@bp.post(f"/consultations/{ID}/reschedule")
@policy.access("consultation.organise")
@operation("Move a scheduled consultation: the same UID, SEQUENCE one higher, everyone invited again",
           scopes=WRITE, body=RESCHEDULE, responses={200: ANSWER}, errors=(403, 409), tag=TAG)
def reschedule(consultation_id: int):
    consultation = _load(consultation_id)
    data = answers.body()
    services.reschedule(current_user, consultation, _start(data["start"], "start"), data["reason"])
    return _answer(consultation)


@bp.post(f"/consultations/{ID}/cancel")
@policy.access("consultation.organise")
@operation("Cancel a consultation; once invited, everyone is sent a METHOD:CANCEL", scopes=WRITE, body=CANCEL,
           responses={200: ANSWER}, errors=(403, 409), tag=TAG)
def cancel(consultation_id: int):
    consultation = _load(consultation_id)
    services.cancel(current_user, consultation, answers.body()["reason"])
    return _answer(consultation)


@bp.post(f"/consultations/{ID}/rsvp")
@policy.access("consultation.view")
@operation("A participant's answer to the invitation (never changes SEQUENCE)", scopes=TAKE_PART, body=RSVP,
           responses={200: ANSWER}, errors=(409,), tag=TAG)
def rsvp(consultation_id: int):
    consultation = _load(consultation_id)
    data = answers.body()
    services.rsvp(current_user, consultation, data["response"], data.get("note", ""))
    return _answer(consultation)


@bp.get(f"/consultations/{ID}/calendar.ics")
@policy.access("consultation.view")
@operation("The scheduled consultation as a calendar file to add (METHOD:PUBLISH, no RSVP)", scopes=READ,
           content_type="text/calendar", responses={200: {"type": "string"}}, tag=TAG)
def calendar_file(consultation_id: int):
    consultation = _load(consultation_id)
    if consultation.starts_at is None or consultation.status != SCHEDULED:
        raise NotFound(_("Consultation not found."))
    data = invitations.publication(consultation, current_language())
    return Response(data, content_type="text/calendar; method=PUBLISH; charset=UTF-8", headers={
        "Content-Disposition": f'attachment; filename="consultation-{consultation.id}.ics"'})

