"""The outbox: notifications are written in the same transaction as the change they announce and sent
afterwards by `flask --app portal outbox send` (or the worker), with retries and backoff.

A message is claimed (status "sending") and committed before it is handed to SMTP, and marked "sent"
after. A crash between the two leaves it in "sending": it is then never retried automatically, so a
recipient never receives the same message twice; an administrator sees it in the outbox page.
"""
from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.database import UTCDateTime
from portal.extensions import db

log = logging.getLogger(__name__)

STATUSES = ("pending", "sending", "sent", "failed")


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    audit_type = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False, default="email")
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def enqueue_email(template: str, *, recipient: str, language: str, user_id: int | None = None, **context):
    """Render `emails/<template>.txt` in the recipient's language and queue it. Flushes, never commits.

    The template's first line is the subject. Subjects never carry reported URLs or victims' details.
    """
    with force_locale(language):
        rendered = render_template(f"emails/{template}.txt", language=language, **context)
    subject, _, body = rendered.strip().partition("\n")
    message = OutboxMessage(
        template=template,
        recipient=recipient,
        recipient_user_id=user_id,
        language=language,
        subject=subject.strip()[:300],
        body_text=body.strip() + "\n",
        next_attempt_at=clock.now(),
        created_at=clock.now(),
    )
    db.session.add(message)
    db.session.flush()
    return message


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 24 * 60))


def _claim(limit: int) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= clock.now())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # several workers share the table
    messages = db.session.scalars(query).all()
    for message in messages:
        message.status = "sending"
        message.claimed_at = clock.now()
        message.attempts += 1
    db.session.commit()
    return messages


def _as_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    email.set_content(message.body_text)
    email["Content-Language"] = message.language  # after set_content, which would drop it
    return email


def send_pending(limit: int = 100) -> dict[str, int]:
    """Send what is due. Returns counts by outcome. Without an SMTP host nothing leaves the outbox."""
    config = current_app.config
    if not config.get("MAIL_SMTP_HOST"):
        return {"sent": 0, "retry": 0, "failed": 0}
    counts = {"sent": 0, "retry": 0, "failed": 0}
    messages = _claim(limit)
    if not messages:
        return counts
    try:
        smtp = smtplib.SMTP(config["MAIL_SMTP_HOST"], int(config["MAIL_SMTP_PORT"]), timeout=30)
        if config.get("MAIL_SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("MAIL_SMTP_USERNAME"):
            smtp.login(config["MAIL_SMTP_USERNAME"], config["MAIL_SMTP_PASSWORD"])
    except (OSError, smtplib.SMTPException) as exc:
        for message in messages:
            _retry_later(message, f"connection: {type(exc).__name__}")
            counts["retry" if message.status == "pending" else "failed"] += 1
        db.session.commit()
        return counts
    with smtp:
        for message in messages:
            try:
                smtp.send_message(_as_email(message))
            except smtplib.SMTPRecipientsRefused:
                message.status, message.last_error = "failed", "recipient refused"
                counts["failed"] += 1
            except (OSError, smtplib.SMTPException) as exc:
                _retry_later(message, type(exc).__name__)
                counts["retry" if message.status == "pending" else "failed"] += 1
            else:
                message.status, message.sent_at, message.last_error = "sent", clock.now(), None
                counts["sent"] += 1
                log.info("outbox message %s sent (%s)", message.id, message.template)
            db.session.commit()
    return counts


def _retry_later(message: OutboxMessage, error: str) -> None:
    message.last_error = error[:500]
    if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = "failed"
    else:
        message.status = "pending"
        message.next_attempt_at = clock.now() + _backoff(message.attempts)
