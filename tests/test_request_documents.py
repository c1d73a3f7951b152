"""The documents of formal requests: a notice when a request is issued, a decision for each extension, a
withdrawal notice and a closure certificate, each issued once (the notice right after the commit that
issues: see test_notice_preparation.py, the others in the transaction of their change), readable
in Korean and English, downloadable by the two organisations of the request and nobody else."""
import hashlib
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core import documents
from portal.core.documents import Document
from portal.core.transaction import unit_of_work
from portal.extensions import db
from portal.requests import services
from portal.requests.models import Request
from tests.documents_support import ARTIFACTS, pdf_text

pytestmark = pytest.mark.real_documents  # the real WeasyPrint and pyHanko (tests/conftest.py)

URLS = ("https://example.com/reported/first", "https://video.example.net/watch?v=abc123")


def _user(parties, name) -> User:
    return db.session.get(User, getattr(parties, name).id)


def _documents(app, request_id: int, kind: str | None = None) -> list[Document]:
    with app.app_context():
        req = db.session.get(Request, request_id)
        query = select(Document).where(Document.reference == req.reference).order_by(Document.id)
        if kind:
            query = query.where(Document.kind == kind)
        documents_ = list(db.session.scalars(query))
        db.session.expunge_all()
        return documents_


def _text(app, document: Document) -> str:
    with app.app_context():
        return pdf_text(documents.documents_root() / document.storage_path)


def _link_targets(app, document: Document) -> list[str]:
    with app.app_context():
        reader = PdfReader(documents.documents_root() / document.storage_path)
    targets = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or ():
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                targets.append(str(action["/URI"]))
    return targets


@pytest.fixture
def parties(make):
    return make.parties(platform_timezone="America/Los_Angeles")


def test_issuing_a_request_issues_its_notice(app, make, parties):
    request_id = make.request(parties, "issued", urls=URLS)
    [notice] = _documents(app, request_id)
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert notice.kind == "request_notice" and notice.reference == req.reference
        assert notice.issuer_organisation_id == req.agency_id and notice.recipient_organisation_id == req.platform_id
        assert notice.issued_by_id == parties.supervisor.id and notice.issued_at == req.issued_at.replace(microsecond=0)
        deadline = req.deadline
    text = _text(app, notice)
    for expected in (notice.reference, "요청 통지서", "Request notice", "시험 요청", "Test request", "삭제", "Removal",
                     "Act on Test, Art. 1", "처리 기한", "Deadline", "KST", "America/Los_Angeles", "72",
                     parties.officer.email, "Answer through the Platform Cooperation Portal"):
        assert expected in text, expected
    compact = text.replace("\n", "").replace(" ", "")
    assert all(url.replace(" ", "") in compact for url in URLS)
    # The deadline, in both zones, as the platform must read it.
    assert deadline.astimezone(documents.clock.KST).strftime("%H:%M") in text
    # Reported addresses are text, never links a reader could follow.
    assert not any("example" in target for target in _link_targets(app, notice))


def test_notice_first_page_renders_to_png_artifact(app, make, parties):
    import subprocess

    [notice] = _documents(app, make.request(parties, "issued", urls=URLS))
    ARTIFACTS.mkdir(exist_ok=True)
    with app.app_context():
        path = documents.documents_root() / notice.storage_path
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(ARTIFACTS / "request-notice")], check=True)
    assert (ARTIFACTS / "request-notice.png").stat().st_size > 10_000


def test_drafts_have_no_documents(app, make, parties):
    request_id = make.request(parties, "awaiting_approval")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == 0
        req = db.session.get(Request, request_id)
        assert services.notices.documents_of(_user(parties, "officer"), req) == []


@pytest.mark.parametrize("decision", ["granted", "refused"])
def test_each_extension_decision_is_a_document(app, make, parties, decision):
    request_id = make.request(parties, "acknowledged")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        extension = services.request_extension(_user(parties, "agent"), req, "Legal review of 2 items")
        if decision == "granted":
            services.grant_extension(_user(parties, "supervisor"), req, extension, req.deadline + timedelta(days=2),
                                     "Reasonable")
        else:
            services.refuse_extension(_user(parties, "supervisor"), req, extension, "Ongoing harm to the victim")
        db.session.commit()
    [decision_document] = _documents(app, request_id, "extension_decision")
    text = _text(app, decision_document)
    assert "기한 연장 결정서" in text and "Extension decision" in text and "Legal review of 2 items" in text
    if decision == "granted":
        assert "승인" in text and "Granted" in text and "Previous deadline" in text
    else:
        assert "거부" in text and "Refused" in text and "Ongoing harm to the victim" in text


def test_withdrawal_notice_carries_the_reason(app, make, parties):
    request_id = make.request(parties, "withdrawn", reason="Issued to the wrong platform")
    [withdrawal] = _documents(app, request_id, "withdrawal_notice")
    text = _text(app, withdrawal)
    assert "요청 철회 통지서" in text and "Withdrawal notice" in text and "Issued to the wrong platform" in text


def test_closure_certificate_lists_outcomes_and_times(app, make, parties):
    request_id = make.request(parties, "closed", urls=URLS)
    [certificate] = _documents(app, request_id, "closure_certificate")
    text = _text(app, certificate)
    for expected in ("요청 종결 확인서", "Closure certificate", "삭제", "Removed", "Acknowledged", "Answered",
                     "Closed", "answered in time"):
        assert expected in text, expected
    with app.app_context():
        kinds = [d.kind for d in db.session.scalars(select(Document).order_by(Document.id))]
    assert kinds == ["request_notice", "closure_certificate"]


def test_closing_again_after_reopening_replaces_the_certificate(app, make, parties, client):
    request_id = make.request(parties, "closed")
    with app.test_request_context(), unit_of_work():  # the certificate is prepared after the commit
        req = db.session.get(Request, request_id)
        services.reopen(_user(parties, "officer"), req, "One address is still reachable")
        services.submit_response(_user(parties, "agent"), req)
        services.close(_user(parties, "officer"), req)
    first, second = _documents(app, request_id, "closure_certificate")
    assert second.replaces_id == first.id
    with app.app_context():
        data = (documents.documents_root() / first.storage_path).read_bytes()
    page = client.post("/verify/file", data={"upload-file": (__import__("io").BytesIO(data), "old.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "replaced" in page.lower()


def test_both_sides_see_and_download_the_documents_from_the_request_page(app, make, parties, client, auth):
    request_id = make.request(parties, "closed")
    notice, certificate = _documents(app, request_id)
    for role in ("agent", "officer"):
        auth.login(getattr(parties, role))
        page = client.get(f"/requests/{request_id}").get_data(as_text=True)
        for document in (notice, certificate):
            assert f"/documents/{document.id}/download" in page
        response = client.get(f"/documents/{notice.id}/download")
        assert response.status_code == 200 and hashlib.sha256(response.data).hexdigest() == notice.sha256
        auth.logout()


def test_another_platform_sees_none_of_them(app, make, parties, client, auth):
    request_id = make.request(parties, "closed")
    other = make.parties()
    auth.login(other.agent)
    for document in _documents(app, request_id):
        assert client.get(f"/documents/{document.id}/download").status_code == 404
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert services.notices.documents_of(db.session.get(User, other.agent.id), req) == []


def test_characters_the_fonts_lack_are_printed_as_code_points(app, make, parties):
    # What users type reaches the documents: an emoji, a control character or a private-use character must
    # neither stop the withdrawal nor vanish from the record.
    request_id = make.request(parties, "withdrawn", reason="Wrong platform \U0001F64F \x83 \U00104A39 끝")
    [withdrawal] = _documents(app, request_id, "withdrawal_notice")
    text = _text(app, withdrawal)
    assert "Wrong platform [U+1F64F] [U+0083] [U+104A39] 끝" in text
