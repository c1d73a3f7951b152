"""The transparency report as a signed PDF: the CSV's figures, charts, verifiable, scoped."""
import csv
import io
import subprocess

import pytest

from portal.core.documents import Document
from portal.extensions import db
from tests.test_reports_transparency import PERIOD, data  # noqa: F401


@pytest.mark.real_documents
def test_pdf_agrees_with_the_csv_and_is_recorded(app, client, auth, data, tmp_path):  # noqa: F811
    auth.as_role("secretariat")
    response = client.get("/reports/transparency.pdf", query_string=PERIOD)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    path = tmp_path / "r.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "투명성 보고서" in text and "Transparency report" in text
    body = client.get("/reports/transparency.csv", query_string=PERIOD).data
    rows = list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))
    for row in rows[1:-1]:
        if row[3] != "0":
            assert row[0] in text and row[3] in text and f"{row[10]}/{row[11]}" in text
    with app.app_context():
        assert db.session.query(Document).filter_by(kind="transparency_report").count() == 1


@pytest.mark.parametrize("role", ["platform_agent", "platform_admin"])
def test_platforms_cannot_download_the_pdf(client, auth, role):
    auth.as_role(role)
    assert client.get("/reports/transparency.pdf", query_string=PERIOD).status_code in (403, 404)
