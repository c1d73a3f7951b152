"""The transparency report as a signed PDF: the CSV's figures, charts, verifiable, scoped."""
import csv
import io
import re
import subprocess

import pytest

from portal.core.documents import Document
from portal.extensions import db
from portal.reports import transparency
from tests.test_reports_transparency import PERIOD, data  # noqa: F401

AUTHENTIC = "Authentic: this document was issued through the portal."
REFERENCE = "TR-2026-11-01-2026-11-30"


def _pdf(client, tmp_path):
    response = client.get("/reports/transparency.pdf", query_string=PERIOD)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    path = tmp_path / "r.pdf"
    path.write_bytes(response.data)
    return response.data, path


def _text(path, *options) -> str:
    return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True).stdout


def _csv(client) -> tuple[list[list[str]], dict[str, int]]:
    body = client.get("/reports/transparency.csv", query_string=PERIOD).data
    rows = list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))
    column = {key: rows[0].index(f"{ko} / {en}") for key, ko, en in transparency.COLUMNS}
    return rows[1:-1], column


@pytest.mark.real_documents
def test_pdf_agrees_with_the_csv_and_is_recorded(app, client, auth, data, tmp_path):  # noqa: F811
    auth.as_role("secretariat")
    _data, path = _pdf(client, tmp_path)
    text = _text(path)
    for heading in ("투명성 보고서", "Transparency report", "월별 유형별 요청", "Requests per month by type",
                    "기한 내 조치 비율", "Share within deadline", "조치 시간 분포", "Time-to-act distribution"):
        assert heading in text, heading
    rows, column = _csv(client)
    for row in rows:
        if row[column["requests"]] != "0":
            assert row[0] in text and row[3] in text and f"{row[10]}/{row[11]}" in text
    with app.app_context():
        assert db.session.query(Document).filter_by(kind="transparency_report").count() == 1


@pytest.mark.real_documents
def test_pdf_charts_tables_agree_with_the_csv(client, auth, data, tmp_path):  # noqa: F811
    auth.as_role("secretariat")
    _data, path = _pdf(client, tmp_path)
    lines = [line.split() for line in _text(path, "-layout").splitlines()]
    rows, column = _csv(client)
    # The only month of the period: its requests by type are the CSV's columns summed over platforms.
    by_type = [sum(int(r[column[f"type_{t}"]]) for r in rows) for t in transparency.TYPE_NAMES]
    assert by_type == [5, 0, 0, 0]  # the hand-made data: five removals
    assert ["2026-11", *map(str, by_type), str(sum(by_type))] in lines
    # The time-to-act distribution: a line per platform that acted, then every platform together.
    bins = [key for key, _ko, _en in transparency.ACT_BIN_NAMES]
    acted = [r for r in rows if r[column["acted"]] != "0"]
    for row in acted:
        assert [row[column["platform"]], *(row[column[b]] for b in bins), row[column["p90_hours_to_act"]]] in lines
    totals = [str(sum(int(r[column[b]]) for r in rows)) for b in bins]
    assert totals == ["4", "0", "0", "0", "1"]  # acted at 1, 2, 3, 4 and 200 hours
    assert ["계", "All", *totals] in lines


@pytest.mark.real_documents
def test_pdf_verifies_on_the_public_page(app, client, auth, data, tmp_path):  # noqa: F811
    auth.as_role("secretariat")
    pdf, path = _pdf(client, tmp_path)
    auth.logout()
    page = client.post("/verify/file?lang=en", data={"upload-file": (io.BytesIO(pdf), "report.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert AUTHENTIC in page and REFERENCE in page
    code = re.search(r"Verification code: ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})", _text(path)).group(1)
    page = client.get(f"/verify/{code}?lang=en").get_data(as_text=True)
    assert AUTHENTIC in page and REFERENCE in page and "Transparency report" in page
    changed = bytearray(pdf)
    changed[len(changed) // 2] ^= 0x01
    page = client.post("/verify/file?lang=en", data={"upload-file": (io.BytesIO(bytes(changed)), "report.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert AUTHENTIC not in page


@pytest.mark.parametrize("role", ["platform_agent", "platform_admin"])
def test_platforms_cannot_download_the_pdf(client, auth, role):
    auth.as_role(role)
    assert client.get("/reports/transparency.pdf", query_string=PERIOD).status_code in (403, 404)
