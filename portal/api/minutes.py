"""API v1: minutes of consultations and action items, over the same services as the pages.

`GET /minutes/{id}` answers an `ETag` naming the revision; a section's `PATCH` must send it back in
`If-Match` (428 without). A stale `If-Match` still merges when only other sections changed since, and
answers 409 with the current and the sent texts when this very section changed since (nothing is lost).

Reads need `requests:read`; the secretariat's writes `requests:write`; a participant's comment or an
owner's status `requests:write` or `requests:respond`. Bodies are declared complete (bounds,
`additionalProperties: false`) and an unknown field answers 422 naming it.
"""
from __future__ import annotations

import re
from datetime import date

from flask import abort, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.api import answers, bp
from portal.api.schemas import MAX_INT, NULLABLE_TIME
from portal.api.spec import english, header, operation, query
from portal.api.validation import BadBody
from portal.consultations import services as consultations
from portal.core import policy
from portal.core.exceptions import ValidationError
from portal.minutes import actions, pdf, services
from portal.minutes.models import ACTION_STATUSES, ATTENDANCE, MAX_TEXT, STATUSES, ActionItem, Minutes

READ, WRITE, TAKE_PART = ("requests:read",), ("requests:write",), ("requests:write", "requests:respond")
ID = "<int(max=2147483647):minutes_id>"
SECTION = "<int(max=2147483647):section_id>"
TAG = "minutes"

# --- Schemas ----------------------------------------------------------------------------------------------

_ID = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
_NULLABLE_ID = {"type": ["integer", "null"]}
_TEXT = {"type": "string", "maxLength": MAX_TEXT}
_BILINGUAL = {"text_ko": {"type": "string"}, "text_en": {"type": "string"}}

ACTION_ITEM = {
    "type": "object",
    "required": ["id", "minutes", "section", "text_ko", "text_en", "owner", "due", "status", "requests"],
    "properties": {
        "id": {"type": "integer"}, "minutes": {"type": "integer"}, "section": {"type": "integer"}, **_BILINGUAL,
        "owner": {"type": "string"}, "owner_user": _NULLABLE_ID, "due": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": list(ACTION_STATUSES)}, "status_changed_at": NULLABLE_TIME,
        "status_changed_by": _NULLABLE_ID, "requests": {"type": "array", "items": {"type": "integer"}},
        "carried_to_agenda_item": _NULLABLE_ID,
    },
}

SECTION_SCHEMA = {
    "type": "object",
    "required": ["id", "position", "title_ko", "title_en", "text_ko", "text_en", "decisions", "action_items"],
    "properties": {
        "id": {"type": "integer"}, "position": {"type": "integer"}, "agenda_item": _NULLABLE_ID,
        "title_ko": {"type": "string"}, "title_en": {"type": "string"}, **_BILINGUAL,
        "ko_needs_update": {"type": "boolean"}, "en_needs_update": {"type": "boolean"},
        "revision": {"type": "integer"},
        "decisions": {"type": "array", "items": {"type": "object", "required": ["id", "text_ko", "text_en"],
                                                 "properties": {"id": {"type": "integer"}, **_BILINGUAL}}},
        "action_items": {"type": "array", "items": ACTION_ITEM},
    },
}

ATTENDANCE_SCHEMA = {
    "type": "object",
    "required": ["id", "organisation", "status", "present_for"],
    "properties": {
        "id": {"type": "integer"}, "organisation": {"type": "string"}, "user": _NULLABLE_ID,
        "name": {"type": "string"}, "status": {"type": "string", "enum": list(ATTENDANCE)},
        "arrived_section": _NULLABLE_ID, "left_section": _NULLABLE_ID,
        "recused_sections": {"type": "array", "items": {"type": "integer"}},
        "present_for": {"type": "array", "items": {"type": "integer"}},
    },
}

MINUTES = {
    "type": "object",
    "required": ["id", "consultation", "status", "version", "revision", "sections", "attendance"],
    "properties": {
        "id": {"type": "integer"}, "consultation": {"type": "integer"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "version": {"type": "integer"}, "amends": _NULLABLE_ID, "revision": {"type": "integer"},
        "etag": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
        "circulated_at": NULLABLE_TIME, "comments_until": NULLABLE_TIME, "approved_at": NULLABLE_TIME,
        "approved_by": _NULLABLE_ID, "published_at": NULLABLE_TIME, "superseded_at": NULLABLE_TIME,
        "sections": {"type": "array", "items": SECTION_SCHEMA},
        "attendance": {"type": "array", "items": ATTENDANCE_SCHEMA},
    },
}

MINUTES_ANSWER = {"type": "object", "required": ["minutes", "documents"],
                  "properties": {"minutes": MINUTES, "documents": {"type": "array", "items": {"type": "object"}}}}

SECTION_CONFLICT = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"}, "message": {"type": "string"}, "section": {"type": "integer"},
        "etag": {"type": "string"},
        "current": {"type": "object", "properties": _BILINGUAL},
        "mine": {"type": "object", "properties": _BILINGUAL},
    },
}

SECTION_BODY = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {"text_ko": _TEXT, "text_en": _TEXT},
}
CIRCULATE_BODY = {
    "type": "object", "additionalProperties": False,
    "properties": {"comment_days": {"type": "integer", "minimum": 0, "maximum": services.MAX_COMMENT_DAYS}},
}
EMPTY_BODY = {"type": "object", "additionalProperties": False, "properties": {}}
COMMENT_BODY = {
    "type": "object", "additionalProperties": False, "required": ["section", "text"],
    "properties": {"section": _ID, "text": {"type": "string", "minLength": 1, "maxLength": services.MAX_COMMENT}},
}
COMMENT = {
    "type": "object", "required": ["id", "section", "version", "text"],
    "properties": {"id": {"type": "integer"}, "section": {"type": "integer"}, "version": {"type": "integer"},
                   "revision": {"type": "integer"}, "author": {"type": "integer"},
                   "organisation": {"type": "string"}, "text": {"type": "string"},
                   "created_at": {"type": "string", "format": "date-time"}},
}
ACTION_ITEM_BODY = {
    "type": "object", "additionalProperties": False, "required": ["text_ko", "text_en", "owner", "due"],
    "properties": {
        "text_ko": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
        "text_en": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
        "owner": {"type": "string", "minLength": 1, "maxLength": 32},
        "owner_user": _ID,
        "due": {"type": "string", "format": "date"},
        "requests": {"type": "array", "maxItems": actions.MAX_REQUESTS, "uniqueItems": True, "items": _ID},
    },
}
ACTION_STATUS_BODY = {
    "type": "object", "additionalProperties": False, "required": ["status"],
    "properties": {"status": {"type": "string", "enum": list(ACTION_STATUSES)}},
}
IF_MATCH = header("If-Match", {"type": "string", "maxLength": 100},
                  english("The ETag of the minutes as last read (428 without it)."), required=True)


# --- Representations ---------------------------------------------------------------------------------------

def represent_item(item: ActionItem) -> dict:
    return {"id": item.id, "minutes": item.minutes_id, "section": item.section_id, "text_ko": item.text_ko,
            "text_en": item.text_en, "owner": item.owner_organisation.code, "owner_user": item.owner_user_id,
            "due": item.due_on.isoformat(), "status": item.status, "status_changed_at": answers.iso(item.status_changed_at),
            "status_changed_by": item.status_changed_by_id, "requests": [r.id for r in item.requests],
            "carried_to_agenda_item": item.carried_to_id}


def represent(minutes: Minutes) -> dict:
    sections = [{
        "id": s.id, "position": s.position, "agenda_item": s.agenda_item_id, "title_ko": s.title_ko,
        "title_en": s.title_en, "text_ko": s.text_ko, "text_en": s.text_en, "ko_needs_update": s.ko_needs_update,
        "en_needs_update": s.en_needs_update, "revision": s.revision,
        "decisions": [{"id": d.id, "text_ko": d.text_ko, "text_en": d.text_en} for d in s.decisions],
        "action_items": [represent_item(i) for i in actions.of_section(s)],
    } for s in minutes.sections]
    attendance = [{
        "id": a.id, "organisation": a.organisation.code, "user": a.user_id, "name": a.label, "status": a.status,
        "arrived_section": a.arrived_section_id, "left_section": a.left_section_id,
        "recused_sections": sorted(r.section_id for r in a.recusals),
        "present_for": [s.id for s in minutes.sections if services.present_for(minutes, a, s)],
    } for a in minutes.attendance]
    return {"id": minutes.id, "consultation": minutes.consultation_id, "status": minutes.status,
            "version": minutes.version, "amends": minutes.amends_id, "revision": minutes.revision,
            "etag": minutes.etag, "created_at": answers.iso(minutes.created_at), "circulated_at": answers.iso(minutes.circulated_at),
            "comments_until": answers.iso(minutes.comments_until), "approved_at": answers.iso(minutes.approved_at),
            "approved_by": minutes.approved_by_id, "published_at": answers.iso(minutes.published_at),
            "superseded_at": answers.iso(minutes.superseded_at), "sections": sections, "attendance": attendance}


def _answer(minutes: Minutes, status: int = 200):
    # The signed PDF of a published version (portal/minutes/pdf.py).
    # Every participant reads them, not only the issuer: each is downloaded through the minutes.
    found = [answers.document(d, url_for("api.minutes_document", minutes_id=minutes.id, document_id=d.id))
             for d in pdf.documents_of(minutes)]
    response = jsonify({"minutes": represent(minutes), "documents": found})
    response.status_code = status
    response.headers["ETag"] = minutes.etag
    return response


@bp.errorhandler(services.SectionConflict)
def _section_conflict(exc: services.SectionConflict):
    minutes_id = request.view_args.get("minutes_id")
    return answers.error(409, "edit_conflict", exc.message, section=exc.section_id, current=exc.current, mine=exc.mine,
                 etag=f'"minutes-{minutes_id}-r{exc.current_revision}"')


def _body(schema: dict) -> dict:
    """The JSON object sent, with no field the schema does not name (422 naming it)."""
    data = request.get_json(silent=True)
    if data is None and not request.get_data():
        data = {}
    if not isinstance(data, dict):
        return _bad_body()
    for name in data:
        if name not in schema["properties"]:
            raise ValidationError(name, _("Unknown field."))
    for name in schema.get("required", ()):
        if name not in data:
            raise ValidationError(name, _("This field is required."))
    return data


def _bad_body():
    raise BadBody()


def _int(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INT:
        raise ValidationError(name, _("Give a whole number."))
    return value


_ETAG = re.compile(r'^"minutes-(\d{1,10})-r(\d{1,10})"$')


def _based_on(minutes: Minutes) -> int:
    given = request.headers.get("If-Match")
    if not given:
        raise _PreconditionRequired()
    match = _ETAG.match(given.strip())
    if match is None or int(match.group(1)) != minutes.id:
        raise ValidationError("If-Match", _("Send back the ETag of these minutes as read."))
    return int(match.group(2))


class _PreconditionRequired(Exception):
    pass


@bp.errorhandler(_PreconditionRequired)
def _precondition_required(_exc):
    return answers.error(428, "precondition_required",
                 _("Send the ETag you read in If-Match, so that no edit is overwritten."))


def _load(minutes_id: int, permission: str = "minutes.view") -> Minutes:
    return services.get(current_user, minutes_id, permission=permission)


# --- Minutes ---------------------------------------------------------------------------------------------

@bp.post("/consultations/<int(max=2147483647):consultation_id>/minutes")
@policy.access("minutes.keep")
@operation("Draft the minutes of a consultation from its agenda (the secretariat); 409 if they exist",
           scopes=WRITE, body=EMPTY_BODY, responses={201: MINUTES_ANSWER}, errors=(409,), tag=TAG)
def create_minutes(consultation_id: int):
    _body(EMPTY_BODY)
    consultation = consultations.get(current_user, consultation_id)
    return _answer(services.create(current_user, consultation), 201)


@bp.get(f"/minutes/{ID}/documents/<int(max=2147483647):document_id>")
@policy.access("minutes.view")
@operation("The signed PDF of a published version, byte for byte, for every participant", scopes=READ,
           tag=TAG, content_type="application/pdf", responses={200: {"type": "string", "format": "binary"}})
def minutes_document(minutes_id: int, document_id: int):
    found = pdf.document_of(_load(minutes_id), document_id)
    if found is None:
        abort(404)
    return answers.pdf_answer(found)


@bp.get(f"/minutes/{ID}")
@policy.access("minutes.view")
@operation("Minutes with their sections, decisions, action items and attendance; ETag names the revision",
           scopes=READ, responses={200: MINUTES_ANSWER}, tag=TAG)
def get_minutes(minutes_id: int):
    return _answer(_load(minutes_id))


@bp.patch(f"/minutes/{ID}/sections/{SECTION}")
@policy.access("minutes.keep")
@operation("Save a section's texts based on the ETag read: merges with other sections' edits, 409 on the same "
           "section's, 428 without If-Match", scopes=WRITE, headers=[IF_MATCH], body=SECTION_BODY,
           responses={200: MINUTES_ANSWER, 409: SECTION_CONFLICT}, errors=(428,), tag=TAG)
def patch_section(minutes_id: int, section_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    data = _body(SECTION_BODY)
    based_on = _based_on(minutes)
    texts = {name: data.get(name) for name in ("text_ko", "text_en")}
    for name, value in texts.items():
        if value is not None and not isinstance(value, str):
            raise ValidationError(name, _("This field must be text."))
    services.save_section(current_user, minutes, section_id, based_on=based_on, **texts)
    return _answer(minutes)


@bp.post(f"/minutes/{ID}/circulate")
@policy.access("minutes.keep")
@operation("Circulate the draft to the participants for comments", scopes=WRITE, body=CIRCULATE_BODY,
           responses={200: MINUTES_ANSWER}, errors=(409,), tag=TAG)
def circulate_minutes(minutes_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    services.circulate(current_user, minutes, comment_days=_int(_body(CIRCULATE_BODY), "comment_days"))
    return _answer(minutes)


@bp.post(f"/minutes/{ID}/approve")
@policy.access("minutes.keep")
@operation("Approve circulated minutes after the comment period (who and when are kept)", scopes=WRITE,
           body=EMPTY_BODY, responses={200: MINUTES_ANSWER}, errors=(409,), tag=TAG)
def approve_minutes(minutes_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    _body(EMPTY_BODY)
    services.approve(current_user, minutes)
    return _answer(minutes)


@bp.post(f"/minutes/{ID}/publish")
@policy.access("minutes.keep")
@operation("Publish approved minutes: locked from then on (every write answers 409)", scopes=WRITE,
           body=EMPTY_BODY, responses={200: MINUTES_ANSWER}, errors=(409,), tag=TAG)
def publish_minutes(minutes_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    _body(EMPTY_BODY)
    services.publish(current_user, minutes)
    return _answer(minutes)


@bp.post(f"/minutes/{ID}/amend")
@policy.access("minutes.keep")
@operation("Amend published minutes: a new version, a draft pointing to this one, which stays readable",
           scopes=WRITE, body=EMPTY_BODY, responses={201: MINUTES_ANSWER}, errors=(409,), tag=TAG)
def amend_minutes(minutes_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    _body(EMPTY_BODY)
    return _answer(services.amend(current_user, minutes), 201)


@bp.post(f"/minutes/{ID}/comments")
@policy.access("minutes.comment")
@operation("Comment on a section of circulated minutes (the secretariat and the participants read it)",
           scopes=TAKE_PART, body=COMMENT_BODY, responses={201: {"type": "object", "required": ["comment"],
                                                                 "properties": {"comment": COMMENT}}},
           errors=(409,), tag=TAG)
def comment_minutes(minutes_id: int):
    minutes = _load(minutes_id, "minutes.comment")
    data = _body(COMMENT_BODY)
    section = _int(data, "section")
    if not isinstance(data.get("text"), str):
        raise ValidationError("text", _("This field must be text."))
    row = services.comment(current_user, minutes, section, data["text"])
    return jsonify({"comment": {"id": row.id, "section": row.section_id, "version": row.version,
                                "revision": row.revision, "author": row.author_id,
                                "organisation": current_user.organisation.code, "text": row.text,
                                "created_at": answers.iso(row.created_at)}}), 201


# --- Action items -----------------------------------------------------------------------------------------

@bp.post(f"/minutes/{ID}/sections/{SECTION}/action-items")
@policy.access("minutes.keep")
@operation("Record an action item in a section: owner organisation (code), optional person, due date, requests",
           scopes=WRITE, body=ACTION_ITEM_BODY,
           responses={201: {"type": "object", "required": ["action_item"], "properties": {"action_item": ACTION_ITEM}}},
           errors=(409,), tag=TAG)
def add_action_item(minutes_id: int, section_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    data = _body(ACTION_ITEM_BODY)
    for name in ("text_ko", "text_en", "owner", "due"):
        if not isinstance(data.get(name), str):
            raise ValidationError(name, _("This field must be text."))
    try:
        due = date.fromisoformat(data["due"])
    except ValueError:
        raise ValidationError("due", _("Give a date as YYYY-MM-DD.")) from None
    requests = data.get("requests", [])
    if not isinstance(requests, list) or len(requests) > actions.MAX_REQUESTS or not all(
            isinstance(r, int) and not isinstance(r, bool) and 0 < r <= MAX_INT for r in requests):
        raise ValidationError("requests", _("Give the ids of formal requests."))
    item = actions.add(current_user, minutes, section_id, text_ko=data["text_ko"], text_en=data["text_en"],
                       owner_code=data["owner"], due_on=due, owner_user_id=_int(data, "owner_user"),
                       request_ids=requests)
    return jsonify({"action_item": represent_item(item)}), 201


@bp.patch("/action-items/<int(max=2147483647):item_id>")
@policy.access("action_item.update")
@operation("Mark an action item open, done or dropped (its owner organisation or the secretariat)",
           scopes=TAKE_PART, body=ACTION_STATUS_BODY,
           responses={200: {"type": "object", "required": ["action_item"], "properties": {"action_item": ACTION_ITEM}}},
           errors=(409,), tag=TAG)
def set_action_item_status(item_id: int):
    item = actions.get(current_user, item_id)
    data = _body(ACTION_STATUS_BODY)
    if not isinstance(data.get("status"), str):
        raise ValidationError("status", _("This field must be text."))
    actions.set_status(current_user, item, data["status"])
    return jsonify({"action_item": represent_item(item)})


# Outside the `operation` call, where `make translations` finds the description.
ACTION_ITEM_FILTERS = [
    query("owner", {"type": "string", "enum": ["me"]}, english("me (the only value for now)")),
    query("status", {"type": "string", "enum": [*ACTION_STATUSES, "all"]}),
]


@bp.get("/action-items")
@policy.access("minutes.view")
@operation("The action items the caller's organisation owns (owner=me), open ones by default",
           scopes=READ, parameters=ACTION_ITEM_FILTERS,
           responses={200: {"type": "object", "required": ["action_items"],
                            "properties": {"action_items": {"type": "array", "items": ACTION_ITEM}}}},
           errors=(422,), tag=TAG)
def list_action_items():
    owner = request.args.get("owner", "me")
    if owner != "me":
        raise ValidationError("owner", _("This value is not one of the choices."))
    status = request.args.get("status", "open")
    if status not in (*ACTION_STATUSES, "all"):
        raise ValidationError("status", _("This value is not one of the choices."))
    items = actions.of_owner(current_user, None if status == "all" else status)
    return jsonify({"action_items": [represent_item(i) for i in items]})
