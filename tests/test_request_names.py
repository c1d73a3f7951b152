"""How a request is named: "Draft 8" / "초안 8" until it is issued, its reference after, the same in pages
and e-mails; the list of drafts shows what each is about."""
import pytest
from sqlalchemy import select

from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.requests.models import Request


def _request(app, request_id: int) -> Request:
    with app.app_context():
        req = db.session.get(Request, request_id)
        db.session.expunge(req)
        return req


def _mails(app, template: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)).all()
        db.session.expunge_all()
        return rows


@pytest.mark.parametrize("language, name", [("en", "Draft {id}"), ("ko", "초안 {id}")])
def test_a_draft_is_named_draft_and_its_number_in_the_current_language(app, make, language, name):
    request_id = make.request(status="draft")
    with app.test_request_context(f"/?lang={language}"):
        assert db.session.get(Request, request_id).label == name.format(id=request_id)


def test_an_issued_request_is_named_by_its_reference(app, make):
    req = _request(app, make.request(status="issued"))
    with app.test_request_context("/?lang=ko"):
        assert req.reference.startswith("AG") and req.label == req.reference


@pytest.mark.parametrize("language, subject, facts", [
    ("en", "[Draft {id}] A request awaits your approval", "Reference: none until the request is issued (Draft {id})"),
    ("ko", "[초안 {id}] ", "초안 {id}"),
])
def test_mail_about_a_draft_names_it_as_a_draft(app, make, language, subject, facts):
    request_id = make.request(make.parties(language=language), status="awaiting_approval")
    [mail] = _mails(app, "request_awaiting_approval")
    assert mail.language == language and mail.subject.startswith(subject.format(id=request_id))
    assert facts.format(id=request_id) in mail.body_text and "#" not in mail.subject + mail.body_text


def test_mail_about_an_issued_request_names_its_reference(app, make):
    req = _request(app, make.request(status="issued"))
    mails = _mails(app, "request_issued")
    assert mails and all(m.subject.startswith(f"[{req.reference}] ") for m in mails)
    assert all(f"Reference: {req.reference}" in m.body_text for m in mails if m.language == "en")


@pytest.mark.parametrize("language, created, draft", [("en", "Created", "Draft"), ("ko", "생성일", "초안")])
def test_list_of_drafts_shows_summary_platform_and_dates(app, auth, client, make, language, created, draft):
    parties = make.parties()
    request_id = make.request(parties, status="draft")
    auth.login(parties.officer)
    body = client.get(f"/requests/?lang={language}").data.decode()
    drafts = body[body.index('<table class="tbl portal-drafts">'):]
    drafts = drafts[:drafts.index("</table>")]
    summary = "시험 요청" if language == "ko" else "Test request"
    with app.app_context():
        platform = db.session.get(Request, request_id).platform.name(language)
    assert f">{draft} {request_id}</a>" in drafts and f'<span class="portal-summary">{summary}</span>' in drafts
    assert platform in drafts and f"<th scope=\"col\">{created}</th>" in drafts and f"#{request_id}" not in drafts


def test_a_drafts_page_is_titled_by_its_draft_name(auth, client, make):
    parties = make.parties()
    request_id = make.request(parties, status="draft")
    auth.login(parties.officer)
    body = client.get(f"/requests/{request_id}").data.decode()
    assert f"<h1>Draft {request_id} <span" in body and "Request Draft" not in body


def test_summary_falls_back_to_the_other_language(app):
    req = Request(summary_ko="", summary_en="Only English")
    assert req.summary("ko") == "Only English" and req.summary("en") == "Only English"
    req = Request(summary_ko="한국어", summary_en="English")
    assert req.summary("ko") == "한국어" and req.summary("en") == "English"
