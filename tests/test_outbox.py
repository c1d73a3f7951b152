"""E-mail goes to the outbox in the same transaction and is sent by SMTP once, with retries."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from portal.core import outbox
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from tests.smtp import SMTPServer

T0 = datetime(2026, 11, 25, 2, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


def _queue_reset(app, client, make, language="ko"):
    user = make.user(language=language)
    client.post("/password/forgot", data={"email": user.email})
    return user


def test_without_smtp_messages_stay_in_the_outbox(app, client, make, runner):
    _queue_reset(app, client, make)
    result = runner.invoke(args=["outbox", "send"])
    assert "no SMTP host" in result.output
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)).status == "pending"


def test_password_reset_mail_arrives_in_the_recipients_language(app, client, make, smtp):
    user = _queue_reset(app, client, make, language="en")
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=smtp.port)
    with app.app_context():
        assert outbox.send_pending() == {"sent": 1, "retry": 0, "failed": 0}
    [mail] = smtp.inbox.messages
    assert mail["To"] == user.email
    assert mail["Subject"] == "Reset your password for the Platform Cooperation Portal"
    assert "/password/reset/" in mail.get_content()
    assert "/password/reset/" not in mail["Subject"]


def test_sending_twice_sends_nothing_twice(app, client, make, smtp):
    _queue_reset(app, client, make)
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=smtp.port)
    with app.app_context():
        outbox.send_pending()
        assert outbox.send_pending() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(smtp.inbox.messages) == 1


def test_a_temporary_refusal_is_retried_later_with_backoff(app, client, make, smtp):
    with time_machine.travel(T0, tick=False):
        _queue_reset(app, client, make)
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=smtp.port)
    smtp.inbox.refuse_next = 1
    with time_machine.travel(T0, tick=False), app.app_context():
        assert outbox.send_pending()["retry"] == 1
        assert outbox.send_pending()["sent"] == 0  # not due yet
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False), app.app_context():
        assert outbox.send_pending()["sent"] == 1
        message = db.session.scalar(select(OutboxMessage))
        assert message.status == "sent" and message.attempts == 2
    assert len(smtp.inbox.messages) == 1


def test_an_unreachable_server_keeps_the_message_for_later(app, client, make):
    from tests.smtp import free_port

    _queue_reset(app, client, make)
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=free_port())
    with app.app_context():
        assert outbox.send_pending()["retry"] == 1
        assert db.session.scalar(select(OutboxMessage)).status == "pending"


def test_a_message_left_sending_by_a_crash_is_never_resent(app, client, make, smtp):
    _queue_reset(app, client, make)
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        message.status = "sending"
        db.session.commit()
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=smtp.port)
    with app.app_context():
        outbox.send_pending()
    assert smtp.inbox.messages == []


def test_cli_sends_through_configured_smtp(app, client, make, smtp, runner):
    _queue_reset(app, client, make)
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=smtp.port)
    result = runner.invoke(args=["outbox", "send"])
    assert "sent: 1" in result.output and len(smtp.inbox.messages) == 1


def test_attachments_arrive_with_their_types_and_calendar_method(app, make, smtp):
    user = make.user(language="en")
    calendar_part = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    with app.app_context():
        outbox.enqueue_email("password_reset", recipient=user.email, language="en", user_id=user.id,
                             user=user, link="http://portal.test/password/reset/x", valid_hours=1, attachments=[
                                 outbox.Attachment("invite.ics", "text/calendar; method=REQUEST; charset=UTF-8",
                                                   calendar_part),
                                 outbox.Attachment("notice.pdf", "application/pdf", b"%PDF-1.7 test"),
                             ])
        db.session.commit()
        app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=smtp.port)
        assert outbox.send_pending()["sent"] == 1
    [mail] = smtp.inbox.messages
    parts = {part.get_content_type(): part for part in mail.walk() if not part.is_multipart()}
    assert set(parts) == {"text/plain", "text/calendar", "application/pdf"}
    assert parts["text/calendar"].get_param("method") == "REQUEST"
    assert parts["text/calendar"].get_content().splitlines() == calendar_part.decode().splitlines()
    assert parts["application/pdf"].get_filename() == "notice.pdf"
    assert parts["application/pdf"].get_content() == b"%PDF-1.7 test"
