"""API of reports: the per-platform scorecard (`GET /api/v1/reports/scorecard`), the same figures as the
scorecard page (portal.reports), for the same people: a platform's token sees only its own entry."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from portal.api import bp
from portal.api.spec import english, operation, query
from portal.core import policy
from portal.reports import services
from portal.reports.measures import PlatformFigures

MAX_COUNT = 2147483647
MAX_HOURS = 1_000_000
DAY = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "minLength": 10, "maxLength": 10}
CODE = {"type": "string", "minLength": 1, "maxLength": 12, "pattern": "^[A-Za-z0-9_-]+$"}
COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}
HOURS = {"type": ["number", "null"], "minimum": 0, "maximum": MAX_HOURS}
SHARE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}

SCORECARD_PLATFORM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["platform", "requests", "acknowledged", "median_hours_to_acknowledge", "median_hours_to_act",
                 "within_deadline", "very_overdue_now"],
    "properties": {
        "platform": CODE,
        "name_ko": {"type": "string", "maxLength": 300},
        "name_en": {"type": "string", "maxLength": 300},
        "requests": COUNT,
        "acknowledged": COUNT,
        "acted": COUNT,
        "median_hours_to_acknowledge": HOURS,
        "p90_hours_to_acknowledge": HOURS,
        "median_hours_to_act": HOURS,
        "p90_hours_to_act": HOURS,
        "within_deadline": {
            "type": "object",
            "additionalProperties": False,
            "required": ["count", "of", "share", "ci95"],
            "properties": {
                "count": COUNT, "of": COUNT, "share": SHARE,
                "ci95": {"type": ["array", "null"], "items": {"type": "number", "minimum": 0, "maximum": 1},
                         "minItems": 2, "maxItems": 2},
            },
        },
        "extensions": {"type": "object", "additionalProperties": False, "required": ["asked", "granted"],
                       "properties": {"asked": COUNT, "granted": COUNT}},
        "overdue_now": COUNT,
        "very_overdue_now": COUNT,
        "withdrawn": COUNT,
        "outcomes": {"type": "object", "additionalProperties": COUNT, "maxProperties": 20},
    },
}

SCORECARD = {
    "type": "object",
    "additionalProperties": False,
    "required": ["from", "to", "platforms"],
    "properties": {
        "from": {**DAY, "description": "first KST day included"},
        "to": {**DAY, "description": "first KST day not included"},
        "platforms": {"type": "array", "items": SCORECARD_PLATFORM, "maxItems": 10000},
    },
}


def represent(f: PlatformFigures) -> dict:
    return {
        "platform": f.code, "name_ko": f.name_ko, "name_en": f.name_en,
        "requests": f.requests, "acknowledged": f.counts["acknowledged"], "acted": f.counts["acted"],
        "median_hours_to_acknowledge": f.median_hours_to_acknowledge,
        "p90_hours_to_acknowledge": f.p90_hours_to_acknowledge,
        "median_hours_to_act": f.median_hours_to_act, "p90_hours_to_act": f.p90_hours_to_act,
        "within_deadline": f.within_deadline,
        "extensions": {"asked": f.counts["extension_asked"], "granted": f.counts["extension_granted"]},
        "overdue_now": f.counts["overdue_now"], "very_overdue_now": f.counts["very_overdue_now"],
        "withdrawn": f.counts["withdrawn"], "outcomes": dict(f.outcomes),
    }


# Outside the `operation` call, where `make translations` finds the descriptions.
SCORECARD_PARAMETERS = [
    query("from", DAY, english("first day included (KST), YYYY-MM-DD")),
    query("to", DAY, english("first day not included (KST), YYYY-MM-DD")),
    query("platform", CODE, english("one platform's code")),
]


@bp.get("/reports/scorecard")
@policy.access("report.view")
@operation(
    "Per-platform scorecard of the requests issued in a period [from, to) of KST days; a platform's token sees "
    "only its own entry. Defaults: this month so far. At most three years.",
    scopes=("requests:read",),
    parameters=SCORECARD_PARAMETERS,
    responses={200: SCORECARD},
    errors=(404, 422),
    tag="reports",
)
def reports_scorecard():
    period = services.period_from(request.args.get("from"), request.args.get("to"))
    figures = services.scorecard(current_user, period, request.args.get("platform") or None)
    return jsonify({"from": period.start.isoformat(), "to": period.end.isoformat(),
                    "platforms": [represent(f) for f in figures]})
