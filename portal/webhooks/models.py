"""Webhook endpoints of platforms. Their deliveries are outbox messages of the "webhook" channel."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.core.database import UTCDateTime
from portal.core.encryption import EncryptedString
from portal.extensions import db

# What an endpoint can subscribe to; announced by the requests, consultations and minutes services.
EVENTS = (
    "request.issued",
    "request.deadline_approaching",
    "request.overdue",
    "request.message",
    "request.closed",
    "consultation.scheduled",
    "consultation.rescheduled",
    "consultation.cancelled",
    "minutes.circulated",
    "minutes.published",
    "action_item.assigned",
    "commitment.awaiting_signature",
    "commitment.in_force",
    "commitment.expiring",
)
# Sent on demand from the endpoint's page, whatever it subscribes to.
PING = "ping"


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"
    audit_type = "webhook_endpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    # Fits the outbox's recipient column, where each delivery names it.
    url: Mapped[str] = mapped_column(String(254), nullable=False)
    # Space-separated event names (see EVENTS); room for every one of them, and more to come.
    events: Mapped[str] = mapped_column(String(1000), nullable=False)
    # Kept as it was given, not hashed like API tokens: the portal signs every delivery with it (HMAC), so
    # it needs the secret itself, while a token's hash is enough to check a token a client presents. Encrypted
    # at rest with the secrets key (core/encryption), so a dump of the table cannot sign a delivery.
    secret: Mapped[str] = mapped_column(EncryptedString(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("organisation_id", "url", name="uq_webhook_endpoints_organisation_url"),)

    @property
    def event_set(self) -> frozenset[str]:
        return frozenset(self.events.split())

    @property
    def event_list(self) -> list[str]:
        """Subscribed events in the order of EVENTS."""
        return [event for event in EVENTS if event in self.event_set]
