"""Documents through the API: the stored bytes for the issuer and recipient only, and public verification."""
import pytest
import hashlib

from sqlalchemy import select

from portal.core.audit import AuditEvent
from portal.extensions import db
from tests.api_support import api_as
from tests.documents_support import issue_test_notice

pytestmark = pytest.mark.real_documents  # the real WeasyPrint and pyHanko (tests/conftest.py)


def test_recipient_downloads_stored_bytes(app, client, make):
    parties = make.parties()
    issued = issue_test_notice(app, issuer=parties.agency, recipient=parties.platform)
    response = api_as(app, client, parties.agent).get(f"/documents/{issued.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert hashlib.sha256(response.data).hexdigest() == issued.sha256
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.downloaded")) is not None


def test_other_organisations_document_is_not_found(app, client, make):
    parties, other = make.parties(), make.parties()
    issued = issue_test_notice(app, issuer=parties.agency, recipient=parties.platform)
    for who in (other.agent, other.officer):
        response = api_as(app, client, who).get(f"/documents/{issued.id}")
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_document_download_needs_a_token(app, client, make):
    parties = make.parties()
    issued = issue_test_notice(app, issuer=parties.agency, recipient=parties.platform)
    assert client.get(f"/api/v1/documents/{issued.id}").status_code == 401


def test_public_verification(app, client, make):
    parties = make.parties()
    issued = issue_test_notice(app, issuer=parties.agency, recipient=parties.platform)
    good = client.get("/api/v1/verify", query_string={"reference": issued.reference, "code": issued.code})
    assert good.status_code == 200 and good.get_json()["authentic"] is True
    assert good.get_json()["document"]["sha256"] == issued.sha256
    bad = client.get("/api/v1/verify", query_string={"reference": "KCSC-2026-999999", "code": issued.code})
    assert bad.get_json() == {"authentic": False}


def test_request_lists_its_documents(app, client, make):
    parties = make.parties()
    request_id = make.request(parties, "closed")
    body = api_as(app, client, parties.agent).get(f"/requests/{request_id}").get_json()
    kinds = [d["kind"] for d in body["documents"]]
    assert kinds == ["closure_certificate", "request_notice"]  # newest first
    document = body["documents"][-1]
    assert document["reference"] == body["request"]["reference"]
    assert document["download"] == f"/api/v1/documents/{document['id']}"
    pdf = api_as(app, client, parties.agent).get(f"/documents/{document['id']}")
    assert hashlib.sha256(pdf.data).hexdigest() == document["sha256"]
