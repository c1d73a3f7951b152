"""GET /api/v1/reports/scorecard: its fields, its period, and a platform token seeing only its own entry."""
from datetime import timedelta

import jsonschema_rs

from portal.api.reports import SCORECARD
from tests.api_support import api_as
from tests.reports_support import kst, shaped

PERIOD = "from=2026-11-01&to=2026-12-01"


def _setup(make):
    first, second = make.parties(), make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    for hours in (1, 2, 3, 4, 100):
        shaped(make, first, issued=issued, status="responded_fully", acknowledged=issued + timedelta(hours=1),
               outcomes=[("removed", issued + timedelta(hours=hours))])
    shaped(make, second, issued=issued, deadline=kst(2026, 11, 11, 0, 0), very_overdue_from=kst(2026, 11, 12, 0, 0))
    return first, second


def _codes(body):
    return [p["platform"] for p in body["platforms"]]


def test_scorecard_for_an_agency_lists_every_platform(app, client, make):
    first, second = _setup(make)
    body = api_as(app, client, first.supervisor).get(f"/reports/scorecard?{PERIOD}").get_json()
    jsonschema_rs.validate(SCORECARD, body)
    assert body["from"] == "2026-11-01" and body["to"] == "2026-12-01"
    entries = {p["requests"]: p for p in body["platforms"]}
    ours = entries[5]
    assert ours["acknowledged"] == 5 and ours["median_hours_to_acknowledge"] == 1
    assert ours["median_hours_to_act"] == 3
    assert ours["within_deadline"]["count"] == 4 and ours["within_deadline"]["of"] == 5
    assert ours["within_deadline"]["share"] == 0.8 and len(ours["within_deadline"]["ci95"]) == 2
    small = entries[1]
    assert small["within_deadline"] == {"count": 0, "of": 1, "share": None, "ci95": None}
    assert small["very_overdue_now"] == 1


def test_a_platform_token_sees_only_its_own_entry(app, client, make):
    first, second = _setup(make)
    api = api_as(app, client, second.agent)
    body = api.get(f"/reports/scorecard?{PERIOD}").get_json()
    assert len(body["platforms"]) == 1 and body["platforms"][0]["requests"] == 1
    other = api_as(app, client, first.agent).get(f"/reports/scorecard?{PERIOD}").get_json()["platforms"][0]["platform"]
    assert api.get(f"/reports/scorecard?{PERIOD}&platform={other}").status_code == 404


def test_one_platform_by_code(app, client, make):
    first, second = _setup(make)
    api = api_as(app, client, first.officer)
    code = api_as(app, client, second.agent).get(f"/reports/scorecard?{PERIOD}").get_json()["platforms"][0]["platform"]
    assert _codes(api.get(f"/reports/scorecard?{PERIOD}&platform={code}").get_json()) == [code]


def test_bad_periods_are_refused_naming_the_field(app, client, make):
    first, _second = _setup(make)
    api = api_as(app, client, first.officer)
    for query, field in (("from=2026-11-31", "from"), ("from=2026-11-01&to=2026-11-01", "to"),
                         ("from=2020-01-01&to=2026-01-01", "to"), ("to=11/01/2026", "to")):
        response = api.get(f"/reports/scorecard?{query}")
        assert response.status_code == 422 and response.get_json()["field"] == field, query


def test_the_scorecard_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/reports/scorecard"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to", "platform", "lang"}  # lang: every operation
    assert operation["x-scopes"] == ["requests:read"]
