"""The transparency report as CSV: encoding, quoting, neutralised cells, bilingual header, manifest and the
checksum file beside it; who may download it."""
import csv
import hashlib
import io
from datetime import date, timedelta

import pytest
import time_machine

from portal.reports import transparency
from portal.reports.measures import Period
from tests.reports_support import kst, shaped

PERIOD = {"from": "2026-11-01", "to": "2026-12-01", "at": "2026-12-02T00:00:00Z"}


@pytest.fixture
def data(make):
    parties = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    for hours in (1, 2, 3, 4, 200):
        shaped(make, parties, issued=issued, status="responded_fully", outcomes=[("removed", issued + timedelta(hours=hours))])
    evil = make.organisation("platform", name_en='=HYPERLINK("http://x","y")', name_ko="-2+3, \"따옴표\"")
    return parties, evil


def _rows(body: bytes):
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))


def test_csv_has_bom_bilingual_header_rows_and_manifest(client, auth, data):
    auth.as_role("secretariat")
    response = client.get("/reports/transparency.csv", query_string=PERIOD)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="transparency-2026-11-01-2026-11-30.csv"' in response.headers["Content-Disposition"]
    rows = _rows(response.data)
    assert rows[0][0] == "플랫폼 코드 / Platform code" and "기한 내 조치 비율 / Share within deadline" in rows[0]
    assert len({len(r) for r in rows[:-1]}) == 1
    manifest = rows[-1][0]
    assert manifest.startswith("# manifest: report=transparency; from=2026-11-01; to=2026-12-01")
    assert "generated_at=2026-12-02T00:00:00Z" in manifest and "code_version=" in manifest
    assert b"\r\n" in response.data


def test_numbers_stay_numbers_and_formulas_are_neutralised(client, auth, data):
    auth.as_role("regulator_officer")
    rows = _rows(client.get("/reports/transparency.csv", query_string=PERIOD).data)
    header = rows[0]
    by_name = {r[header.index("플랫폼 이름(영어) / Platform name (English)")]: r for r in rows[1:-1]}
    evil = by_name["'=HYPERLINK(\"http://x\",\"y\")"]
    assert evil[header.index("플랫폼 이름(한국어) / Platform name (Korean)")] == "'-2+3, \"따옴표\""
    ours = next(r for r in rows[1:-1] if r[header.index("접수 요청 / Requests received")] == "5")
    assert ours[header.index("기한 내 조치 비율 / Share within deadline")] == "0.8"
    assert ours[header.index("기한 내 조치 / Acted within deadline")] == "4"


def test_csv_counts_requests_by_type_and_time_to_act(client, auth, data):
    auth.as_role("secretariat")
    rows = _rows(client.get("/reports/transparency.csv", query_string=PERIOD).data)
    header = rows[0]
    ours = next(r for r in rows[1:-1] if r[header.index("접수 요청 / Requests received")] == "5")
    by_type = [ours[header.index(f"유형: {ko} / Type: {en}")] for ko, en in transparency.TYPE_NAMES.values()]
    assert by_type == ["5", "0", "0", "0"]
    binned = [ours[header.index(f"조치 시간 {ko} / Acted in {en}")] for _key, ko, en in transparency.ACT_BIN_NAMES]
    assert binned == ["4", "0", "0", "0", "1"]  # acted at 1, 2, 3, 4 and 200 hours


def test_neutralise_keeps_negative_numbers_as_numbers():
    assert transparency.neutralise(-3) == -3 and transparency.neutralise(0.25) == 0.25
    assert transparency.neutralise("-3") == "'-3" and transparency.neutralise("@x") == "'@x"
    assert transparency.neutralise(None) == "" and transparency.neutralise("plain") == "plain"


def test_checksum_file_matches_the_csv(client, auth, data):
    auth.as_role("secretariat")
    csv_response = client.get("/reports/transparency.csv", query_string=PERIOD)
    line = client.get("/reports/transparency.csv.sha256", query_string=PERIOD).get_data(as_text=True)
    digest, name = line.split()
    assert digest == hashlib.sha256(csv_response.data).hexdigest() == csv_response.headers["X-Content-SHA256"]
    assert name == "transparency-2026-11-01-2026-11-30.csv"
    assert "transparency.csv.sha256" in csv_response.headers["Link"]


def test_csv_agrees_with_the_scorecard(app, data):
    with app.test_request_context():
        report = transparency.build(Period(date(2026, 11, 1), date(2026, 12, 1)), now=kst(2026, 12, 2))
        rows = _rows(transparency.to_csv(report))
    assert len(rows) - 2 == len(report.rows)
    for row, figures in zip(rows[1:-1], report.rows):
        assert row[0] == figures["platform"] and int(row[3]) == figures["requests"]


@pytest.mark.parametrize("role", ["platform_agent", "platform_admin", "system_admin"])
def test_platforms_cannot_download_the_transparency_report(client, auth, role):
    auth.as_role(role)
    assert client.get("/reports/transparency.csv", query_string=PERIOD).status_code in (403, 404)


def test_anonymous_is_sent_to_log_in(client):
    assert client.get("/reports/transparency.csv", query_string=PERIOD).status_code in (302, 401)


def test_a_moment_in_the_future_is_refused(client, auth):
    auth.as_role("secretariat")
    response = client.get("/reports/transparency.csv", query_string={**PERIOD, "at": "2999-01-01T00:00:00Z"})
    assert response.status_code == 303 and response.mimetype != "text/csv"  # back, with the message


def test_csv_and_api_give_the_same_figures(app, client, auth, data):
    from tests.api_support import api_as

    parties, _evil = data
    with time_machine.travel(kst(2026, 12, 2, 9, 0), tick=False):
        body = api_as(app, client, parties.officer).get("/reports/scorecard?from=2026-11-01&to=2026-12-01").get_json()
        auth.login(parties.officer)
        rows = _rows(client.get("/reports/transparency.csv", query_string={"from": "2026-11-01", "to": "2026-12-01"}).data)
    header = rows[0]
    column = {key: header.index(f"{ko} / {en}") for key, ko, en in transparency.COLUMNS}
    for entry in body["platforms"]:
        row = next(r for r in rows[1:-1] if r[column["platform"]] == entry["platform"])
        assert int(row[column["requests"]]) == entry["requests"]
        assert int(row[column["within_deadline"]]) == entry["within_deadline"]["count"]
        assert int(row[column["decided"]]) == entry["within_deadline"]["of"]
        share = entry["within_deadline"]["share"]
        assert row[column["within_deadline_share"]] == ("" if share is None else str(round(share, 4)))
        assert int(row[column["very_overdue_now"]]) == entry["very_overdue_now"]
