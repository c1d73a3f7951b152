"""Webhook endpoints of platforms, and the events announced to them.

Services flush and never commit; the view (or CLI command) commits once. A platform administrator manages
its own organisation's endpoints only: another organisation's endpoint is not found (404). Deliveries are
outbox messages of the "webhook" channel (portal/core/outbox), which signs, sends, retries and logs them.
"""
from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.core import addresses, audit, clock, events, outbox, policy
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.i18n import Number
from portal.webhooks.models import EVENTS, PING, WebhookEndpoint

# A recognisable prefix lets secret scanners find a leaked secret.
SECRET_PREFIX = "whsec_"
MAX_URL = 254
# Per organisation: every event goes to each of its endpoints.
MAX_ENDPOINTS = 10
DELIVERIES_SHOWN = 50


# --- Endpoints -------------------------------------------------------------------------------------------

def endpoints_of(by: User) -> list[WebhookEndpoint]:
    """The endpoints of `by`'s organisation, oldest first."""
    query = policy.scoped(select(WebhookEndpoint), WebhookEndpoint, by, "webhook.manage")
    return db.session.scalars(query.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)).all()


def get_endpoint(by: User, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint if `by` may manage it; another organisation's is refused as if it did not exist."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(_l("Webhook endpoint not found."))
    policy.require(by, "webhook.manage", endpoint)
    return endpoint


def register_endpoint(by: User, url: str, events: list[str]) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of `by`'s platform for `events`; returns it and its signing secret, shown once."""
    policy.require(by, "webhook.manage")
    url = _clean_url(url)
    requested = set(events or ())
    chosen = [event for event in EVENTS if event in requested]
    if not chosen or len(chosen) != len(requested):
        raise ValidationError("events", _l("Choose at least one event."))
    existing = db.session.scalars(select(WebhookEndpoint.url)
                                  .where(WebhookEndpoint.organisation_id == by.organisation_id)).all()
    if url in existing:
        raise ValidationError("url", _l("This address is already registered."))
    if len(existing) >= MAX_ENDPOINTS:
        raise ValidationError("url", _l("An organisation can register at most %(max)s endpoints.",
                                        max=MAX_ENDPOINTS))
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(organisation_id=by.organisation_id, url=url, events=" ".join(chosen), secret=secret,
                               active=True, created_by_id=by.id, created_at=clock.now())
    db.session.add(endpoint)
    db.session.flush()
    # The host only: a path or query may hold the receiver's own token.
    audit.record("webhook.endpoint_registered", endpoint, actor=by,
                 details={"host": urlsplit(url).hostname, "events": chosen})
    return endpoint, secret


def _clean_url(text: str | None) -> str:
    url = (text or "").strip()
    if not url:
        raise ValidationError("url", _l("Enter the address of your endpoint."))
    if len(url) > MAX_URL:
        raise ValidationError("url", _l("Keep the address under %(max)s characters.", max=Number(MAX_URL)))
    not_an_address = ValidationError("url", _l("Enter a full address that starts with https://."))
    if any(c.isspace() or not c.isprintable() for c in url):
        raise not_an_address
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError when the port is not a number in range
    except ValueError:
        raise not_an_address from None
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment:
        raise not_an_address
    if parts.username is not None or parts.password is not None:
        raise ValidationError("url", _l("Leave the user name and password out of the address."))
    try:
        address = addresses.host_address(parts.hostname)
    except addresses.NotAnAddress:
        raise not_an_address from None
    loopback = addresses.is_loopback(address) if address else addresses.is_loopback_name(parts.hostname)
    production = current_app.config["PORTAL_ENV"] == "production"
    if parts.scheme == "http":
        if production:
            raise ValidationError("url", _l("Use an https:// address: deliveries are sent over HTTPS only."))
        if not loopback:
            raise ValidationError("url", _l("Outside production, plain http:// is accepted only for the "
                                            "computer the portal runs on (127.0.0.1, ::1 or localhost). "
                                            "Use https://."))
    elif production and (loopback or (address is not None and not addresses.is_public(address))):
        # Names are checked at each delivery, once resolved (outbox).
        raise ValidationError("url", _l("Use a public address: the portal does not deliver to local or "
                                        "private networks."))
    return _with_normalised_host(parts)


def _with_normalised_host(parts) -> str:
    """The address as stored: its host in one canonical form, so `https://2130706433/` reads as the
    127.0.0.1 it is, and the same endpoint written two ways is one address."""
    netloc = addresses.normalised_host(parts.hostname)
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def set_endpoint_active(by: User, endpoint: WebhookEndpoint, active: bool) -> None:
    """Disable an endpoint (nothing more is queued for it, and what is queued is not sent) or enable it."""
    policy.require(by, "webhook.manage", endpoint)
    if endpoint.active == active:
        return
    endpoint.active, endpoint.disabled_at = active, None if active else clock.now()
    audit.record("webhook.endpoint_enabled" if active else "webhook.endpoint_disabled", endpoint, actor=by)


def delete_endpoint(by: User, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint and its secret. Deliveries already made stay in the outbox without it."""
    policy.require(by, "webhook.manage", endpoint)
    db.session.execute(update(OutboxMessage)
                       .where(OutboxMessage.endpoint_id == endpoint.id, OutboxMessage.status == "pending")
                       .values(status="failed", last_error="endpoint deleted"))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.endpoint_id == endpoint.id)
                       .values(endpoint_id=None))
    audit.record("webhook.endpoint_deleted", endpoint, actor=by,
                 details={"host": urlsplit(endpoint.url).hostname, "events": endpoint.event_list})
    db.session.delete(endpoint)
    db.session.flush()


def send_test_ping(by: User, endpoint: WebhookEndpoint) -> OutboxMessage:
    """Queue a `ping` delivery to the endpoint, whatever events it subscribes to."""
    policy.require(by, "webhook.manage", endpoint)
    if not endpoint.active:
        raise Conflict(_l("Enable the endpoint before sending it a test ping."))
    body = _payload(PING, clock.now(), {"platform": by.organisation.code})
    message = outbox.enqueue_webhook(endpoint, PING, body)
    audit.record("webhook.ping_queued", endpoint, actor=by, details={"delivery": message.delivery_id})
    return message


def deliveries(by: User, endpoint: WebhookEndpoint, limit: int = DELIVERIES_SHOWN) -> list[OutboxMessage]:
    """The endpoint's latest deliveries, newest first, each with its attempts."""
    policy.require(by, "webhook.manage", endpoint)
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.endpoint_id == endpoint.id)
                              .options(selectinload(OutboxMessage.attempt_log))
                              .order_by(OutboxMessage.id.desc()).limit(limit)).all()


def pending_count(endpoint: WebhookEndpoint) -> int:
    return db.session.scalar(select(func.count()).where(OutboxMessage.endpoint_id == endpoint.id,
                                                        OutboxMessage.status == "pending"))


# --- Events ----------------------------------------------------------------------------------------------

def announce(event: str, req, *, occurred_at: datetime | None = None, message=None) -> int:
    """Queue `event` about the request `req` for each active endpoint of its platform that subscribes to it.

    Called by the subscriber of the request events (`_request_changed`) in the transaction of the change;
    flushes, never commits. The
    payload names the request (id, reference, platform, status, deadline) and, for a message, the message's
    id: never items' addresses, notes or messages' text, which the receiver fetches with its API token.
    Returns the number of deliveries queued.
    """
    data = {"request": {"id": req.id, "reference": req.reference, "platform": req.platform.code,
                        "status": req.status, "deadline": _timestamp(req.deadline)}}
    if message is not None:
        data["message"] = {"id": message.id}
    return announce_to(req.platform_id, event, data, occurred_at=occurred_at)


def announce_to(organisation_id: int, event: str, data: dict, *, occurred_at: datetime | None = None) -> int:
    """Queue `event` with `data` for each active endpoint of the organisation that subscribes to it."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    endpoints = [endpoint for endpoint in db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation_id,
                                      WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id))
                 if event in endpoint.event_set]
    if not endpoints:
        return 0
    body = _payload(event, occurred_at or clock.now(), data)
    for endpoint in endpoints:
        outbox.enqueue_webhook(endpoint, event, body)
    return len(endpoints)


@events.subscribe("request.issued")
@events.subscribe("request.deadline_approaching")
@events.subscribe("request.overdue")
@events.subscribe("request.message")
@events.subscribe("request.closed")
def _request_changed(req, event: str, occurred_at: datetime | None = None, message=None, **_) -> None:
    """The request's platform hears of it (request.issued is emitted only once the signed notice is stored).
    A message is announced only when the agency wrote it: the platform's own are not echoed back to it."""
    if message is not None and message.organisation_id != req.agency_id:
        return
    announce(event, req, occurred_at=occurred_at, message=message)


@events.subscribe("consultation.scheduled")
@events.subscribe("consultation.rescheduled")
@events.subscribe("consultation.cancelled")
def _consultation_changed(consultation, event: str) -> None:
    """Each invited platform hears of its consultation: ids, time and organisations, never people."""
    platforms = _platforms_of(consultation)
    data = {"consultation": {
        "id": consultation.id, "uid": consultation.uid, "kind": consultation.kind, "status": consultation.status,
        "sequence": consultation.sequence, "starts_at": _timestamp(consultation.starts_at),
        "duration_minutes": consultation.duration_minutes, "organiser": consultation.organiser.code,
        "platforms": [o.code for o in platforms]}}
    for platform in platforms:
        announce_to(platform.id, event, data)


def _platforms_of(consultation) -> list:
    return sorted((i.organisation for i in consultation.invitees if i.organisation.kind == "platform"),
                  key=lambda o: o.code)


@events.subscribe("minutes.circulated")
@events.subscribe("minutes.published")
def _minutes_changed(minutes, event: str) -> None:
    """Each invited platform hears of its consultation's minutes: ids, version, state and, once published,
    the signed PDF's reference and hash; never the texts, attendance or people (fetched with the API)."""
    from portal.minutes import pdf

    consultation = minutes.consultation
    platforms = _platforms_of(consultation)
    data = {"minutes": {
        "id": minutes.id, "consultation": consultation.id, "version": minutes.version, "status": minutes.status,
        "amends": minutes.amends_id, "circulated_at": _timestamp(minutes.circulated_at),
        "comments_until": _timestamp(minutes.comments_until), "published_at": _timestamp(minutes.published_at),
        "documents": [{"id": d.id, "reference": d.reference, "sha256": d.sha256}
                      for d in pdf.documents_of(minutes)]}}
    for platform in platforms:
        announce_to(platform.id, event, data)


@events.subscribe("action_item.assigned")
def _action_item_assigned(action_item, event: str) -> None:
    """The owner organisation, when it is a platform, hears of its action item: ids, due date, state and
    linked requests; never its text or the person named (fetched with the API)."""
    owner = action_item.owner_organisation
    if owner.kind != "platform":
        return
    minutes = action_item.minutes
    data = {"action_item": {
        "id": action_item.id, "minutes": minutes.id, "consultation": minutes.consultation_id,
        "section": action_item.section_id, "owner": owner.code, "due": action_item.due_on.isoformat(),
        "status": action_item.status, "requests": [r.id for r in action_item.requests]}}
    announce_to(owner.id, event, data)


@events.subscribe("commitment.awaiting_signature")
@events.subscribe("commitment.in_force")
@events.subscribe("commitment.expiring")
def _commitment_changed(commitment, event: str, days_left: int | None = None) -> None:
    """The platform hears of its commitment: ids, dates, status and the document's hash, never people."""
    data = {"commitment": {
        "id": commitment.id, "reference": commitment.reference, "status": commitment.status,
        "platform": commitment.platform.code, "countersigning_agency": commitment.agency.code,
        "template_version": commitment.template.version, "effective_from": commitment.effective_from.isoformat(),
        "valid_until": commitment.valid_until.isoformat(), "document_sha256": commitment.document_sha256}}
    if days_left is not None:
        data["commitment"]["days_left"] = days_left
    announce_to(commitment.platform_id, event, data)


def _payload(event: str, occurred_at: datetime, data: dict) -> str:
    # One id per event: each endpoint's delivery of it has its own delivery id as well (X-Portal-Delivery).
    payload = {"event": event, "id": str(uuid.uuid4()), "occurred_at": _timestamp(occurred_at), **data}
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _timestamp(moment: datetime | None) -> str | None:
    return moment.astimezone(clock.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None
