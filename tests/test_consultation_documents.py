"""The meeting invitation PDF: one per invited organisation at scheduling, bilingual, signed, verifiable,
attached to its people's invitation e-mails (as received over SMTP), replaced at each reschedule, and listed
on the consultation's page for its participants."""
import hashlib
import io
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.core import documents, outbox
from portal.core.documents import Document
from portal.extensions import db
from tests.consultations_support import consultation, future
from tests.documents_support import pdf_text
from tests.smtp import SMTPServer


@pytest.fixture
def smtp(app):
    with SMTPServer() as server:
        app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=server.port)
        yield server


def _invitations(app):
    with app.app_context():
        rows = db.session.scalars(select(Document).where(Document.kind == "meeting_invitation")
                                  .order_by(Document.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _pdfs(mails):
    """(recipient, bytes) of every PDF attachment received."""
    return [(mail["To"], part.get_content()) for mail in mails for part in mail.walk()
            if part.get_content_type() == "application/pdf"]


def test_scheduling_issues_one_invitation_per_invited_organisation_attached_to_its_people(app, make, smtp):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform])
    (invitation,) = _invitations(app)
    assert invitation.issuer_organisation_id == parties.agency
    assert invitation.recipient_organisation_id == parties.platform
    with app.app_context():
        outbox.send_pending()
    received = _pdfs(smtp.inbox.messages)
    assert {to for to, _ in received} == {parties.agent.email, parties.platform_admin.email}
    assert all(hashlib.sha256(data).hexdigest() == invitation.sha256 for _, data in received)
    assert meeting.id


@pytest.mark.real_documents  # the real WeasyPrint and pyHanko (tests/conftest.py)
def test_invitation_is_bilingual_and_verifiable(app, make, client, tmp_path):
    parties = make.parties()
    consultation(make, parties.officer, [parties.platform], title_ko="디지털 성범죄 협의", title_en="Digital crimes talk")
    (invitation,) = _invitations(app)
    with app.app_context():
        data = documents.read_document(invitation)
    path = tmp_path / "invitation.pdf"
    path.write_bytes(data)
    text = pdf_text(path)
    for expected in ("회의 초청장", "Meeting invitation", "디지털 성범죄 협의", "Digital crimes talk", "KST"):
        assert expected in text
    page = client.post("/verify/file", data={"upload-file": (io.BytesIO(data), "invitation.pdf")},
                       content_type="multipart/form-data")
    assert page.status_code == 200 and invitation.reference in page.get_data(as_text=True)


def test_reschedule_issues_a_replacement(app, make, client, auth):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform])
    auth.login(parties.officer)
    start = future(30).astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%dT%H:%M")
    assert client.post(f"/consultations/{meeting.id}/reschedule",
                       data={"reschedule-start": start, "reschedule-reason": "Room taken"}).status_code == 303
    first, second = _invitations(app)
    assert second.replaces_id == first.id and second.recipient_organisation_id == parties.platform
    with app.app_context():
        data = documents.read_document(first)
    page = client.post("/verify/file", data={"upload-file": (io.BytesIO(data), "old.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "replaced" in page.lower()


def test_participants_find_it_on_the_consultation_page_and_others_do_not(app, make, client, auth):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform])
    (invitation,) = _invitations(app)
    for user in (parties.agent, parties.officer):
        auth.login(user)
        page = client.get(f"/consultations/{meeting.id}").get_data(as_text=True)
        assert f"/documents/{invitation.id}/download" in page
        response = client.get(f"/documents/{invitation.id}/download")
        assert response.status_code == 200 and hashlib.sha256(response.data).hexdigest() == invitation.sha256
        auth.logout()
    other = make.parties()
    auth.login(other.agent)
    assert client.get(f"/documents/{invitation.id}/download").status_code == 404


def test_api_answer_lists_the_invitation(app, client, make):
    from tests.api_support import api_as

    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform])
    body = api_as(app, client, parties.agent).get(f"/consultations/{meeting.id}").get_json()
    (document,) = body["documents"]
    assert document["kind"] == "meeting_invitation" and document["reference"] == f"CONS-{meeting.id:06d}"
