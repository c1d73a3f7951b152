"""JSON Schemas of the API's bodies and answers, used by the OpenAPI document (portal.api.spec)."""
from portal.api.models import SCOPES  # noqa: F401
from portal.requests.models import CATEGORIES, OUTCOMES, PRIORITIES, STATUSES, TYPES
from portal.requests.urls import MAX_ITEMS, MAX_NOTE_LENGTH, MAX_URL_LENGTH

MAX_INT = 2147483647
MAX_TEXT = 10_000
MAX_REASON = 2_000
MAX_CODE = 40
# What a caller may send: an offset is required and the year lies between 2000 and 2100 (see core/input.py).
TIME_INPUT = {"type": "string", "format": "date-time", "maxLength": 40,
              "pattern": r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                         r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"}
ID_INPUT = {"type": "integer", "minimum": 1, "maximum": MAX_INT}


# Text a caller may send: no control characters (long text may hold tab, newline and carriage return).
LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$"
LONG_TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]*$"
LONG = {"legal_basis_text", "summary_ko", "summary_en", "reason", "body", "note", "decline_reason"}


def text_input(max_length: int, nullable: bool = False, long: bool = False, **extra) -> dict:
    return {"type": ["string", "null"] if nullable else "string", "maxLength": max_length,
            "pattern": LONG_TEXT_PATTERN if long else LINE_PATTERN, **extra}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_TEXT = {"type": ["string", "null"]}

ORGANISATION = {
    "type": "object",
    "required": ["code", "name_ko", "name_en"],
    "properties": {"code": {"type": "string"}, "name_ko": {"type": "string"}, "name_en": {"type": "string"}},
}

DEADLINE = {
    "type": ["object", "null"],
    "required": ["utc", "kst"],
    "properties": {
        "utc": TIME, "kst": TIME,
        "reason": NULLABLE_TEXT,
        "hours": {"type": ["integer", "null"]},
        "working_days": {"type": ["integer", "null"]},
        "overdue": {"type": "boolean"},
    },
}

ITEM = {
    "type": "object",
    "required": ["id", "position", "url"],
    "properties": {
        "id": {"type": "integer"}, "position": {"type": "integer"}, "url": {"type": "string"},
        "sha256": NULLABLE_TEXT, "md5": NULLABLE_TEXT, "pdq": NULLABLE_TEXT, "note": {"type": "string"},
        "outcome": {"type": ["string", "null"], "enum": [*OUTCOMES, None]},
        "decline_reason": NULLABLE_TEXT,
    },
}

DOCUMENT = {
    "type": "object",
    "required": ["id", "kind", "reference", "sha256"],
    "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string"}, "reference": {"type": "string"},
        "title": {"type": "string"}, "issued_at": TIME, "sha256": {"type": "string"}, "size": {"type": "integer"},
        "download": {"type": "string"},
    },
}

REQUEST = {
    "type": "object",
    "required": ["id", "reference", "status", "request_type", "category", "priority", "agency", "platform",
                 "item_count"],
    "properties": {
        "id": {"type": "integer"},
        "reference": NULLABLE_TEXT,
        "status": {"type": "string", "enum": list(STATUSES)},
        "request_type": {"type": "string", "enum": list(TYPES)},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "priority": {"type": "string", "enum": list(PRIORITIES)},
        "agency": ORGANISATION,
        "platform": ORGANISATION,
        "legal_basis": NULLABLE_TEXT,
        "legal_basis_text": {"type": "string"},
        "summary_ko": {"type": "string"},
        "summary_en": {"type": "string"},
        "item_count": {"type": "integer"},
        "deadline": DEADLINE,
        "created_at": TIME, "updated_at": TIME,
        "submitted_at": NULLABLE_TIME, "issued_at": NULLABLE_TIME, "acknowledged_at": NULLABLE_TIME,
        "responded_at": NULLABLE_TIME, "closed_at": NULLABLE_TIME, "withdrawn_at": NULLABLE_TIME,
    },
}

REQUEST_LIST = {
    "type": "object",
    "required": ["requests", "next_cursor"],
    "properties": {"requests": {"type": "array", "items": REQUEST}, "next_cursor": NULLABLE_TEXT},
}

REQUEST_DETAIL = {
    "type": "object",
    "required": ["request", "items", "next_items_cursor", "documents"],
    "properties": {
        "request": REQUEST,
        "items": {"type": "array", "items": ITEM},
        "next_items_cursor": {"type": ["integer", "null"]},
        "documents": {"type": "array", "items": DOCUMENT},
    },
}

NEW_ITEM = {
    "type": "object",
    "required": ["url"],
    "additionalProperties": False,
    "properties": {"url": text_input(MAX_URL_LENGTH), "sha256": text_input(64, True), "md5": text_input(32, True),
                   "pdq": text_input(64, True), "note": text_input(MAX_NOTE_LENGTH, True, long=True)},
}

NEW_REQUEST = {
    "type": "object",
    "required": ["platform", "request_type", "category", "priority", "summary_ko", "summary_en"],
    "additionalProperties": False,
    "properties": {
        "platform": text_input(MAX_CODE, description="The platform's organisation code."),
        "request_type": {"type": "string", "enum": list(TYPES)},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "priority": {"type": "string", "enum": list(PRIORITIES)},
        "legal_basis": text_input(MAX_CODE, True, description="A legal basis code (or describe it in legal_basis_text)."),
        "legal_basis_text": text_input(MAX_TEXT, True, long=True),
        "summary_ko": text_input(MAX_TEXT, long=True),
        "summary_en": text_input(MAX_TEXT, long=True),
        "items": {"type": "array", "maxItems": MAX_ITEMS, "items": NEW_ITEM},
    },
}

CREATED = {
    "type": "object",
    "required": ["request", "items_added", "duplicates_merged"],
    "properties": {"request": REQUEST, "items_added": {"type": "integer"}, "duplicates_merged": {"type": "integer"}},
}

REASON = {"type": "object", "required": ["reason"], "additionalProperties": False,
          "properties": {"reason": text_input(MAX_REASON, long=True)}}
EMPTY = {"type": "object", "additionalProperties": False, "maxProperties": 0}

OUTCOMES_BODY = {
    "type": "object",
    "required": ["outcomes"],
    "additionalProperties": False,
    "properties": {"outcomes": {"type": "array", "minItems": 1, "maxItems": MAX_ITEMS, "items": {
        "type": "object",
        "required": ["item", "outcome"],
        "additionalProperties": False,
        "properties": {"item": ID_INPUT, "outcome": {"type": "string", "enum": list(OUTCOMES)},
                       "decline_reason": text_input(MAX_REASON, True, long=True)},
    }}},
}

OUTCOMES_SET = {
    "type": "object",
    "required": ["updated", "request"],
    "properties": {"updated": {"type": "integer"}, "request": REQUEST},
}

EXTENSION_BODY = {
    "type": "object",
    "required": ["reason"],
    "additionalProperties": False,
    "properties": {"reason": text_input(MAX_REASON, long=True), "requested_until": {**TIME_INPUT, "type": ["string", "null"]}},
}

EXTENSION = {
    "type": "object",
    "required": ["id", "status", "reason"],
    "properties": {"id": {"type": "integer"}, "status": {"type": "string"}, "reason": {"type": "string"},
                   "requested_until": NULLABLE_TIME, "created_at": TIME},
}

MESSAGE = {
    "type": "object",
    "required": ["id", "organisation", "body", "created_at"],
    "properties": {"id": {"type": "integer"}, "organisation": {"type": "string"}, "author": {"type": "string"},
                   "body": {"type": "string"}, "created_at": TIME},
}
MESSAGES = {"type": "object", "required": ["messages"],
            "properties": {"messages": {"type": "array", "items": MESSAGE}}}
NEW_MESSAGE = {"type": "object", "required": ["body"], "additionalProperties": False,
               "properties": {"body": text_input(MAX_TEXT, long=True)}}

VERIFICATION = {
    "type": "object",
    "required": ["authentic"],
    "properties": {
        "authentic": {"type": "boolean"},
        "document": {"type": "object", "properties": {
            "kind": {"type": "string"}, "reference": {"type": "string"}, "issuer_ko": {"type": "string"},
            "issuer_en": {"type": "string"}, "issued_at": TIME, "sha256": {"type": "string"},
            "signer_fingerprint": {"type": "string"}, "replaced": {"type": "boolean"}}},
    },
}
