"""The outbox: notifications are written in the same transaction as the change they announce and sent
afterwards by `flask --app portal outbox send` (or the worker), with retries and backoff.

Two channels share the queue: e-mail (sent over SMTP when a host is configured) and webhook deliveries
(a signed JSON POST to a platform's endpoint, see portal/webhooks). A message is claimed (status
"sending") and committed before it is handed to SMTP or the HTTP receiver, and marked "sent" after. A crash
between the two leaves it in "sending": it is then never retried automatically, so a recipient never
receives the same message twice; an administrator sees it in the outbox page. A webhook attempt that got
no 2xx answer (a timeout included) is retried; its `X-Portal-Delivery` id lets the receiver drop a repeat.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import logging
import re
import smtplib
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import addresses, clock, jobs
from portal.core.database import UTCDateTime
from portal.extensions import db

log = logging.getLogger(__name__)

STATUSES = ("pending", "sending", "sent", "failed")
# The channels, each with the setting that bounds the attempts of its messages.
MAX_ATTEMPTS_SETTING = {"email": "MAIL_MAX_ATTEMPTS", "webhook": "WEBHOOK_MAX_ATTEMPTS"}


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
    # The webhook channel: the endpoint a delivery goes to (emptied when the endpoint is deleted, so the
    # log stays), and the delivery's id, the same on every attempt so that a receiver can drop a repeat.
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="SET NULL"),
                                                    index=True)
    delivery_id: Mapped[str | None] = mapped_column(String(36), unique=True)

    endpoint = relationship("WebhookEndpoint")
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(order_by="WebhookAttempt.id", viewonly=True)
    attachments: Mapped[list[OutboxAttachment]] = relationship(order_by="OutboxAttachment.position",
                                                               cascade="all, delete-orphan")


class OutboxAttachment(db.Model):
    """A file sent with an e-mail, kept with it so that a retry sends the very same bytes.

    A calendar part (`text/calendar; method=...`) goes out as an alternative to the text, as calendar
    clients expect of an invitation; every other file as an attachment.
    """

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    @property
    def is_calendar(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() == "text/calendar"


class WebhookAttempt(db.Model):
    """One HTTP attempt of a webhook delivery: the answer's status code or the error, and how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str   # with its parameters, e.g. "text/calendar; method=REQUEST; charset=UTF-8"
    content: bytes


def enqueue_email(template: str, *, recipient: str, language: str, user_id: int | None = None,
                  attachments: tuple[Attachment, ...] | list[Attachment] = (), **context):
    """Render `emails/<template>.txt` in the recipient's language and queue it. Flushes, never commits.

    The template's first line is the subject. Subjects never carry reported URLs or victims' details.
    """
    with force_locale(language):
        rendered = render_template(f"emails/{template}.txt", language=language, **context)
    subject, _, body = rendered.strip().partition("\n")
    body = links_in_language(body, language)
    message = OutboxMessage(
        template=template,
        recipient=recipient,
        recipient_user_id=user_id,
        language=language,
        subject=subject.strip()[:300],
        body_text=body.strip() + "\n",
        next_attempt_at=clock.now(),
        created_at=clock.now(),
        attachments=[OutboxAttachment(position=n, filename=a.filename, content_type=a.content_type,
                                      content=a.content) for n, a in enumerate(attachments)],
    )
    db.session.add(message)
    db.session.flush()
    return message


def links_in_language(text: str, language: str) -> str:
    """Every link to the portal in an e-mail carries the recipient's language (?lang=), so the page it opens
    speaks the e-mail's language even to someone not logged in, and through the redirect to the login page."""
    base = re.escape(current_app.config["PUBLIC_BASE_URL"].rstrip("/"))

    def with_language(found: re.Match) -> str:
        link, trail = found.group(0), ""
        while link and link[-1] in ".,;:!?)]'\"":  # sentence punctuation after a link is not part of it
            link, trail = link[:-1], link[-1] + trail
        parts = urlsplit(link)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
        query.append(("lang", language))
        return urlunsplit(parts._replace(query=urlencode(query))) + trail

    return re.sub(base + r"(?=[/?#\s]|$)\S*", with_language, text)


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 24 * 60))


def _claim(limit: int, channel: str) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.status == "pending",
               OutboxMessage.next_attempt_at <= clock.now())
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
    for attachment in message.attachments:
        maintype, subtype, params = _split_content_type(attachment.content_type)
        if attachment.is_calendar:
            params.pop("charset", None)  # set by the text part itself
            email.add_alternative(attachment.content.decode("utf-8"), subtype=subtype, params=params)
        else:
            email.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                                 filename=attachment.filename, params=params)
    email["Content-Language"] = message.language  # last: set_content and add_* would move or drop it
    return email


def _split_content_type(value: str) -> tuple[str, str, dict[str, str]]:
    kind, *parameters = [part.strip() for part in value.split(";") if part.strip()]
    maintype, _, subtype = kind.lower().partition("/")
    params = dict(p.split("=", 1) for p in parameters)
    return maintype, subtype, {k.strip().lower(): v.strip() for k, v in params.items()}


def send_pending(limit: int = 100) -> dict[str, int]:
    """Send what is due, up to `limit` per channel: e-mail when an SMTP host is configured (without one,
    e-mail stays in the outbox), webhook deliveries always. Returns counts by outcome, channels together."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    sent_by_channel = [_send_webhooks(limit)]
    if current_app.config.get("MAIL_SMTP_HOST"):
        sent_by_channel.append(_send_emails(limit))
    for channel_counts in sent_by_channel:
        for outcome, number in channel_counts.items():
            counts[outcome] += number
    return counts


def _send_job() -> dict:
    return send_pending()


# Last in every round: what the other jobs queued goes out in the same round.
jobs.register("outbox.send", _send_job, order=90)


def _send_emails(limit: int) -> dict[str, int]:
    config = current_app.config
    counts = {"sent": 0, "retry": 0, "failed": 0}
    messages = _claim(limit, "email")
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
    if message.attempts >= current_app.config[MAX_ATTEMPTS_SETTING[message.channel]]:
        message.status = "failed"
    else:
        message.status = "pending"
        message.next_attempt_at = clock.now() + _backoff(message.attempts)


# --- Webhooks --------------------------------------------------------------------------------------------

WEBHOOK_USER_AGENT = "PlatformCooperationPortal-Webhooks/1"


def enqueue_webhook(endpoint, event: str, body: str) -> OutboxMessage:
    """Queue one delivery of `body` (JSON text) for the webhook `endpoint`. Flushes, never commits.

    The body is stored as queued, so every attempt sends the same bytes; each attempt signs them afresh
    with its own timestamp.
    """
    now = clock.now()
    message = OutboxMessage(
        channel="webhook",
        template=event,
        recipient=endpoint.url,
        language="",  # a payload is data, in no language
        subject=event,
        body_text=body,
        endpoint_id=endpoint.id,
        delivery_id=str(uuid.uuid4()),
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256, keyed with the endpoint's secret, of `timestamp + "." + body`."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def _webhook_headers(message: OutboxMessage, secret: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(clock.now().timestamp()))
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": WEBHOOK_USER_AGENT,
        "X-Portal-Event": message.template,
        "X-Portal-Delivery": message.delivery_id,
        "X-Portal-Timestamp": timestamp,
        "X-Portal-Signature": webhook_signature(secret, timestamp, body),
    }


def _send_webhooks(limit: int) -> dict[str, int]:
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for message in _claim(limit, "webhook"):
        endpoint = message.endpoint
        if endpoint is None or not endpoint.active:
            # Disabled or deleted since the delivery was queued: its owner no longer wants it.
            message.status, message.last_error = "failed", "endpoint disabled or deleted"
            counts["failed"] += 1
        else:
            attempt = _attempt_webhook(message, endpoint.secret)
            db.session.add(attempt)
            if attempt.delivered:
                message.status, message.sent_at, message.last_error = "sent", clock.now(), None
                counts["sent"] += 1
            else:
                _retry_later(message, attempt.error or f"HTTP {attempt.status_code}")
                counts["retry" if message.status == "pending" else "failed"] += 1
            # The endpoint's id, not its address: an address may carry the receiver's own token.
            log.info("webhook delivery %s (%s) to endpoint %s, attempt %s: %s", message.id, message.template,
                     endpoint.id, attempt.number, attempt.status_code or attempt.error)
        db.session.commit()
    return counts


def _attempt_webhook(message: OutboxMessage, secret: str) -> WebhookAttempt:
    """POST the delivery once; the attempt records the status code or the error, and the time taken."""
    body = message.body_text.encode("utf-8")
    started_at, started = clock.now(), time.perf_counter()
    status_code, error = None, None
    try:
        status_code = _post(message.recipient, body, _webhook_headers(message, secret, body))
    except AddressRefused:
        error = "address refused: not a public address"
    except TimeoutError:
        error = "timeout"
    except ssl.SSLError as exc:
        error = f"TLS: {type(exc).__name__}"
    except socket.gaierror:
        error = "name not resolved"
    except (OSError, http.client.HTTPException) as exc:
        error = f"connection: {type(exc).__name__}"
    return WebhookAttempt(message_id=message.id, number=message.attempts, started_at=started_at,
                          duration_ms=round((time.perf_counter() - started) * 1000), status_code=status_code,
                          error=error)


class AddressRefused(OSError):
    """The endpoint's name resolves to an address webhooks may not reach."""


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the answer's status code. Redirects are not followed: a 3xx is simply not a 2xx."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = _vetted_address(parts.hostname, port)
    timeout = current_app.config["WEBHOOK_TIMEOUT"]
    if https:
        connection = _PinnedHTTPSConnection(parts.hostname, port, address, timeout=timeout,
                                            context=ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(parts.hostname, port, address, timeout=timeout)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                           body=body, headers=headers)
        return connection.getresponse().status  # what the receiver says beyond its status is not kept
    finally:
        connection.close()


def _vetted_address(host: str, port: int) -> str:
    """The address to connect to. In production only a public one, checked at every attempt and then
    connected to, so that no endpoint (nor a name re-pointed after registration) reaches the portal's own
    network."""
    resolved = [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    if current_app.config["PORTAL_ENV"] == "production":
        if not all(addresses.is_public(ipaddress.ip_address(a.split("%")[0])) for a in resolved):
            raise AddressRefused(host)
    return resolved[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted address; the Host header still names the endpoint's host."""

    def __init__(self, host: str, port: int, address: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the vetted address; the certificate is checked against the endpoint's host name."""

    def __init__(self, host: str, port: int, address: str, *, context: ssl.SSLContext, **kwargs):
        super().__init__(host, port, context=context, **kwargs)
        self._address, self._tls = address, context

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
