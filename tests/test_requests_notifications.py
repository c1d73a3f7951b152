"""Notifications: queued in the same transaction, received by a real SMTP server in each recipient's
language and zone, self-contained, never with a reported address; the tick sends each reminder once."""
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core import clock, documents, outbox
from portal.core.outbox import OutboxMessage
from portal.core.transaction import unit_of_work
from portal.extensions import db
from portal.requests import services
from portal.requests.models import Request
from tests.smtp import SMTPServer

ISSUED_AT = datetime(2026, 11, 25, 14, 3, tzinfo=clock.KST)
SECRET_URLS = ("https://victim-site.example/private/alice-123", "https://cdn.example.net/v/abcdef")


@pytest.fixture
def smtp(app):
    with SMTPServer() as server:
        app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=server.port)
        yield server


def _issue(make, language_of_agent="en", **kwargs):
    parties = make.parties()
    with make.app.app_context():
        agent = db.session.get(User, parties.agent.id)
        agent.language = language_of_agent
        db.session.commit()
    with time_machine.travel(ISSUED_AT, tick=False):
        request_id = make.request(parties, "issued", urls=SECRET_URLS, **kwargs)
    return parties, request_id


def _messages(app, **where) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        messages = db.session.scalars(query).all()
        db.session.expunge_all()
        return messages


def _no_reported_address(text: str):
    for url in SECRET_URLS:
        host = url.split("/")[2]
        assert host not in text and url not in text


def test_issuing_mails_the_platform_in_each_recipients_language(app, make, smtp):
    parties, request_id = _issue(make, language_of_agent="ko")
    with app.app_context():
        assert outbox.send_pending()["sent"] >= 2
        reference = db.session.get(Request, request_id).reference
        agency_ko = db.session.get(Request, request_id).agency.name_ko
    mails = {mail["To"]: mail for mail in smtp.inbox.messages}
    korean, english = mails[parties.agent.email], mails[parties.platform_admin.email]
    assert {m.recipient: m.language for m in _messages(app, template="request_issued")} == {
        parties.agent.email: "ko", parties.platform_admin.email: "en"}
    assert reference in korean["Subject"] and reference in english["Subject"]
    assert english["Subject"].startswith(f"[{reference}] New Removal request")
    korean_body, english_body = (mail.get_body(("plain",)).get_content() for mail in (korean, english))
    assert agency_ko in korean_body  # the organisation's Korean name, Korean dates
    assert "2026년 11월 28일" in korean_body and "28 November 2026" in english_body  # 72 h after issue
    assert "KST" in english_body and "America/Los_Angeles" in english_body  # both zones
    assert f"http://portal.test/requests/{request_id}" in english_body
    for mail in (korean, english):
        _no_reported_address(mail["Subject"] + mail.get_body(("plain",)).get_content())


def test_issued_request_mail_attaches_the_stored_signed_notice(app, make, smtp):
    parties, request_id = _issue(make, language_of_agent="ko")
    with app.app_context():
        # The e-mail was queued only once the notice existed, in the transaction that recorded it.
        assert db.session.get(Request, request_id).notice_ready_at is not None
        reference = db.session.get(Request, request_id).reference
        (notice,) = [d for d in documents.documents_for(db.session.get(User, parties.agent.id), reference=reference)
                     if d.kind == "request_notice"]
        stored = documents.read_document(notice)
        smtp.inbox.refuse_next = 1  # the first attempt fails: the retry must send the very same file
        outbox.send_pending()
        with time_machine.travel(clock.now() + timedelta(hours=1), tick=False):
            outbox.send_pending()
    mails = {mail["To"]: mail for mail in smtp.inbox.messages if reference in mail["Subject"]}
    assert set(mails) == {parties.agent.email, parties.platform_admin.email}
    names = {}
    for address, mail in mails.items():
        (pdf,) = [part for part in mail.iter_attachments() if part.get_content_type() == "application/pdf"]
        assert pdf.get_content() == stored
        names[address] = pdf.get_filename()
        assert pdf.get_filename() in mail.get_body(("plain",)).get_content()
    assert names == {parties.agent.email: f"{reference} 요청 통지서.pdf",
                     parties.platform_admin.email: f"{reference} Request notice.pdf"}


def test_no_mail_of_the_lifecycle_carries_a_reported_address(app, make):
    parties, request_id = _issue(make)
    with app.test_request_context(), unit_of_work():  # the withdrawal is announced after the commit
        req = db.session.get(Request, request_id)
        agent, officer = db.session.get(User, parties.agent.id), db.session.get(User, parties.officer.id)
        services.acknowledge(agent, req)
        services.post_message(agent, req, "We removed https://victim-site.example/private/alice-123")
        extension = services.request_extension(agent, req, "Review of https://cdn.example.net/v/abcdef")
        services.refuse_extension(db.session.get(User, parties.supervisor.id), req, extension, "No")
        services.set_outcomes(agent, req, [i.id for i in services.items_page(req)], "removed")
        services.submit_response(agent, req)
        services.reopen(officer, req, "https://cdn.example.net/v/abcdef is back")
        services.withdraw(officer, req, "see https://victim-site.example/private/alice-123")
    messages = _messages(app)
    assert {m.template for m in messages} >= {"request_issued", "request_acknowledged", "message_posted",
                                              "extension_requested", "extension_decided", "request_responded",
                                              "request_reopened", "request_withdrawn"}
    for message in messages:
        _no_reported_address(message.subject + message.body_text)


def test_tick_twice_sends_nothing_twice(app, make, runner):
    parties, request_id = _issue(make, priority="urgent")  # 24 h: reminder at 18 h, very overdue at 48 h
    for moment, template, expected in (
        (ISSUED_AT + timedelta(hours=18, minutes=1), "deadline_reminder", 2),   # agent and admin
        (ISSUED_AT + timedelta(hours=24, minutes=1), "deadline_overdue", 3),    # + the issuing supervisor
        (ISSUED_AT + timedelta(hours=48, minutes=1), "deadline_escalation", 2),  # admin + supervisor
    ):
        with time_machine.travel(moment, tick=False):
            runner.invoke(args=["tick"])
            before = len(_messages(app))
            result = runner.invoke(args=["tick"])
            assert result.exit_code == 0, result.output
            assert len(_messages(app)) == before
        sent = _messages(app, template=template)
        assert len(sent) == expected, template
    recipients = {m.recipient for m in _messages(app, template="deadline_escalation")}
    assert recipients == {parties.platform_admin.email, parties.supervisor.email}
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert req.overdue_at and req.very_overdue_at and req.reminded_at


def test_overdue_request_skips_the_reminder_it_missed(app, make, runner):
    _issue(make, priority="urgent")
    with time_machine.travel(ISSUED_AT + timedelta(hours=30), tick=False):
        runner.invoke(args=["tick"])
    assert _messages(app, template="deadline_reminder") == []
    assert len(_messages(app, template="deadline_overdue")) == 3


def test_granted_extension_earns_a_new_reminder(app, make, runner):
    parties, request_id = _issue(make, priority="urgent")
    with time_machine.travel(ISSUED_AT + timedelta(hours=25), tick=False):
        runner.invoke(args=["tick"])
        with app.test_request_context():
            req = db.session.get(Request, request_id)
            extension = services.request_extension(db.session.get(User, parties.agent.id), req, "More time")
            services.grant_extension(db.session.get(User, parties.supervisor.id), req, extension,
                                     ISSUED_AT + timedelta(hours=49))
            db.session.commit()
    with time_machine.travel(ISSUED_AT + timedelta(hours=43), tick=False):
        runner.invoke(args=["tick"])
    assert len(_messages(app, template="deadline_reminder")) == 2


def test_closed_requests_are_left_alone(app, make, runner):
    parties = make.parties()
    with time_machine.travel(ISSUED_AT, tick=False):
        make.request(parties, "closed", priority="urgent")
        make.request(parties, "withdrawn", priority="urgent")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    with time_machine.travel(ISSUED_AT + timedelta(days=5), tick=False):
        assert "overdue: 0" in runner.invoke(args=["tick"]).output
    assert len(_messages(app)) == before


def test_worker_runs_the_tick_and_sends_over_smtp(app, make, runner, smtp):
    _issue(make, priority="urgent")
    with time_machine.travel(ISSUED_AT + timedelta(hours=24, minutes=1), tick=False):
        result = runner.invoke(args=["worker", "--iterations", "1", "--interval", "0"])
    assert result.exit_code == 0, result.output
    subjects = [mail["Subject"] for mail in smtp.inbox.messages]
    assert any("Deadline passed" in s for s in subjects) and any("New Removal" in s for s in subjects)
    assert {m.status for m in _messages(app)} == {"sent"}
