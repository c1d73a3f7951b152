"""The published minutes as a signed PDF (kind `minutes`): issued on publish with attendance, decisions,
action items and the version it amends; verifiable; downloaded by the participants from the minutes page,
not by others; attached to the e-mail announcing publication; listed in the API's `documents`."""
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.core import documents
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.minutes.models import Minutes
from tests.api_support import api_as
from tests.documents_support import pdf_text
from tests.minutes_support import minutes


def _publish_with_content(make, setting):
    from portal.minutes import actions, pdf, services

    with make.app.test_request_context():
        by = db.session.get(User, setting.secretariat.id)
        m = db.session.get(Minutes, setting.minutes_id)
        first = setting.section_ids[0]
        services.save_section(by, m, first, based_on=m.revision, text_ko="논의 내용", text_en="What was said")
        services.add_decision(by, m, first, "보고서를 채택한다", "The report is adopted")
        code = db.session.get(Organisation, setting.parties.platform).code
        actions.add(by, m, first, text_ko="자료 제출", text_en="Send the data", owner_code=code,
                    due_on=date.today() + timedelta(days=14))
        for step in ("circulate", "approve", "publish"):
            getattr(services, step)(by, m)
        db.session.commit()
        return [d.id for d in pdf.documents_of(m)]


def _text(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "minutes.pdf"
        path.write_bytes(data)
        return pdf_text(path)


@pytest.mark.real_documents
def test_publishing_issues_a_signed_verifiable_pdf_with_decisions_and_action_items(app, make):
    setting = minutes(make)
    [document_id] = _publish_with_content(make, setting)
    with app.app_context():
        document = db.session.get(documents.Document, document_id)
        assert document.kind == "minutes" and document.reference == f"MIN-{setting.consultation_id:06d}-v1"
        data = documents.read_document(document)
        assert documents.verify_file(data).reference == document.reference
        text = _text(data)
        due = date.today() + timedelta(days=14)
        for expected in ("회의록", "Minutes", "The report is adopted", "보고서를 채택한다", "Send the data",
                         "Attendance", "Action items", f"{due.year}년 {due.month}월 {due.day}일"):
            assert expected in text, expected


def test_participants_download_it_from_the_minutes_page_others_get_404(app, client, make, auth):
    setting = minutes(make)
    [document_id] = _publish_with_content(make, setting)
    auth.login(setting.parties.agent)
    page = client.get(f"/minutes/{setting.minutes_id}")
    url = f"/minutes/{setting.minutes_id}/documents/{document_id}"
    assert url in page.get_data(as_text=True)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    auth.logout()
    stranger = make.parties()
    auth.login(stranger.agent)
    assert client.get(url).status_code == 404


def test_the_publication_email_attaches_it_and_the_api_lists_it(app, client, make):
    setting = minutes(make)
    [document_id] = _publish_with_content(make, setting)
    with app.app_context():
        document = db.session.get(documents.Document, document_id)
        data = documents.read_document(document)
        sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "minutes_published")).all()
        assert sent
        for message in sent:
            [attachment] = message.attachments
            assert attachment.content_type == "application/pdf" and attachment.content == data
            assert attachment.filename == f"{document.reference}.pdf"
    answer = api_as(app, client, setting.parties.agent).get(f"/minutes/{setting.minutes_id}").get_json()
    assert [d["id"] for d in answer["documents"]] == [document_id]
    assert answer["documents"][0]["kind"] == "minutes"


@pytest.mark.real_documents
def test_an_amendment_names_the_version_it_amends(app, make):
    from portal.minutes import pdf, services

    setting = minutes(make)
    _publish_with_content(make, setting)
    with make.app.test_request_context():
        by = db.session.get(User, setting.secretariat.id)
        v2 = services.amend(by, db.session.get(Minutes, setting.minutes_id))
        for step in ("circulate", "approve", "publish"):
            getattr(services, step)(by, v2)
        db.session.commit()
        [document] = pdf.documents_of(v2)
        assert document.reference.endswith("-v2")
        context = pdf.context_of(v2)
        assert context["minutes"]["amends"]["reference"].endswith("-v1")
        text = _text(documents.read_document(document))
        assert "Amends" in text and context["minutes"]["amends"]["reference"] in text
