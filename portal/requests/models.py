"""Formal requests: what an agency asks a platform to do, its items, its thread and its history.

All times are aware UTC (`UTCDateTime`). A request is visible to two organisations: its issuing agency
(from the first draft) and its target platform (once issued); `owning_organisation_id_for` and
`scope_clause_for` tell the policy which of the two a user's reach is measured against.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core import clock
from portal.core.bilingual import bilingual
from portal.core.database import UTCDateTime, one_of
from portal.extensions import db
from portal.requests.labels import draft_name

TYPES = ("removal", "blocking", "preservation", "information")
CATEGORIES = ("deepfake", "ncii", "csam", "other")
PRIORITIES = ("urgent", "standard")

DRAFT = "draft"
AWAITING_APPROVAL = "awaiting_approval"
ISSUED = "issued"
ACKNOWLEDGED = "acknowledged"
RESPONDED_PARTLY = "responded_partly"
RESPONDED_FULLY = "responded_fully"
CLOSED = "closed"
WITHDRAWN = "withdrawn"
STATUSES = (DRAFT, AWAITING_APPROVAL, ISSUED, ACKNOWLEDGED, RESPONDED_PARTLY, RESPONDED_FULLY, CLOSED,
            WITHDRAWN)
# Not yet sent: the platform does not know these exist.
UNISSUED = frozenset({DRAFT, AWAITING_APPROVAL})
# The platform still owes an answer: the deadline runs.
OPEN = frozenset({ISSUED, ACKNOWLEDGED, RESPONDED_PARTLY})


def issued(column):
    """`column NOT IN ('awaiting_approval', 'draft')`, its values written into the statement: SQLite uses a
    partial index only for a statement that carries the index's condition as written, not as parameters
    (the lists' open indexes below, whose condition this is)."""
    return column.not_in([literal_column(f"'{status}'", String) for status in sorted(UNISSUED)])


# The condition of the lists' open indexes: issued, and for the platform's also with its notice ready.
_ISSUED_SQL = f"status NOT IN ({', '.join(repr(status) for status in sorted(UNISSUED))})"
_VISIBLE_SQL = f"{_ISSUED_SQL} AND notice_ready_at IS NOT NULL"

OUTCOMES = ("removed", "blocked_kr", "restricted", "not_found", "declined", "needs_information")
# Outcomes that settle an item; "needs_information" keeps the request partly answered.
FINAL_OUTCOMES = frozenset({"removed", "blocked_kr", "restricted", "not_found", "declined"})

EXTENSION_STATUSES = ("pending", "granted", "refused")


class LegalBasis(db.Model):
    """A statute or rule a request can rest on; kept by administrators."""

    __tablename__ = "legal_bases"
    audit_type = "legal_basis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name_ko: Mapped[str] = mapped_column(String(300), nullable=False)
    name_en: Mapped[str] = mapped_column(String(300), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    name = bilingual("name")


class DeadlinePolicy(db.Model):
    """Time allowed for a type and priority: either `hours` or Korean `working_days`."""

    __tablename__ = "deadline_policies"
    audit_type = "deadline_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_type: Mapped[str] = mapped_column(String(16), nullable=False)
    priority: Mapped[str] = mapped_column(String(16), nullable=False)
    hours: Mapped[int | None] = mapped_column(Integer)
    working_days: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("request_type", "priority", name="uq_deadline_policies_type_priority"),
        CheckConstraint("(hours IS NULL) <> (working_days IS NULL)", name="one_measure"),
    )


class RequestCounter(db.Model):
    """The last reference number given per agency and year. Numbers are never reused."""

    __tablename__ = "request_counters"

    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False)


class Request(db.Model):
    __tablename__ = "requests"
    audit_type = "request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    platform_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    request_type: Mapped[str] = mapped_column(String(16), nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    priority: Mapped[str] = mapped_column(String(16), nullable=False)
    legal_basis_id: Mapped[int | None] = mapped_column(ForeignKey("legal_bases.id"))
    legal_basis_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    summary_ko: Mapped[str] = mapped_column(Text, nullable=False)
    summary_en: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=DRAFT)
    # Denormalised from status so the inbox's default view ("still owed an answer") is one index range.
    is_open: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    item_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    drafted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its signed notice was stored. Issued but None: the notice is being prepared (after the commit
    # that issued it; see portal.requests.notices), and the platform does not see the request yet.
    notice_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The deadline and the parts of the sentence that explains it (see portal.requests.deadlines).
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "issued", "reopened" or "extended": what started the clock.
    deadline_reason: Mapped[str | None] = mapped_column(String(16))
    deadline_hours: Mapped[int | None] = mapped_column(Integer)
    deadline_working_days: Mapped[int | None] = mapped_column(Integer)

    # When the reminder is due and when the request becomes very overdue: set with the deadline so the
    # tick finds its work with index range scans instead of computing over every open request.
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    very_overdue_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by `tick`, each once per deadline (cleared when the deadline moves).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    very_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Organisation] = relationship(foreign_keys=[agency_id], lazy="joined", innerjoin=True)
    platform: Mapped[Organisation] = relationship(foreign_keys=[platform_id], lazy="joined", innerjoin=True)
    legal_basis: Mapped[LegalBasis | None] = relationship(lazy="joined")
    drafted_by: Mapped[User] = relationship(foreign_keys=[drafted_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    __table_args__ = (
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint(one_of("request_type", TYPES), name="request_type"),
        CheckConstraint(one_of("category", CATEGORIES), name="category"),
        CheckConstraint(one_of("priority", PRIORITIES), name="priority"),
        # The inbox: a platform's open requests by deadline, one status, or all of them. The open one holds
        # only what the platform may see (partial, on the scope's condition): counting a thousand open
        # requests reads their index entries and checks nothing else (on SQLite a third of the time of
        # checking each entry's status and notice; 2.5 ms before the index covered them at all).
        Index("ix_requests_platform_open_deadline", "platform_id", "is_open", "deadline", "id",
              sqlite_where=text(_VISIBLE_SQL), postgresql_where=text(_VISIBLE_SQL)),
        Index("ix_requests_platform_status_deadline", "platform_id", "status", "deadline", "id", "notice_ready_at"),
        Index("ix_requests_platform_deadline", "platform_id", "deadline", "id"),
        # The same three for an agency's list.
        Index("ix_requests_agency_open_deadline", "agency_id", "is_open", "deadline", "id",
              sqlite_where=text(_ISSUED_SQL), postgresql_where=text(_ISSUED_SQL)),
        Index("ix_requests_agency_status_deadline", "agency_id", "status", "deadline", "id"),
        Index("ix_requests_agency_deadline", "agency_id", "deadline", "id"),
        # The tick: open requests by deadline, reminder time and very-overdue time.
        Index("ix_requests_open_deadline", "is_open", "deadline"),
        Index("ix_requests_open_remind_at", "is_open", "remind_at"),
        Index("ix_requests_open_very_overdue_from", "is_open", "very_overdue_from"),
        # The reports: a period is a range of issue times (portal/reports/measures.in_period).
        Index("ix_requests_issued_at", "issued_at"),
        # The requests a regulator follows (drafted or issued): their unread messages (services/reads).
        Index("ix_requests_drafted_by", "drafted_by_id"),
        Index("ix_requests_approved_by", "approved_by_id"),
    )

    @property
    def notice_pending(self) -> bool:
        """Issued, and its notice is still being prepared."""
        return self.reference is not None and self.status not in UNISSUED and self.notice_ready_at is None

    # --- Scope (read by portal.core.policy) ---------------------------------------------------------

    def owning_organisation_id_for(self, user) -> int | None:
        """The organisation through which `user` may reach this request (None: not at all)."""
        kind = user.organisation.kind
        if kind == "agency":
            return self.agency_id
        if kind == "platform" and self.status not in UNISSUED and self.notice_ready_at is not None:
            return self.platform_id
        return None

    @classmethod
    def scope_clause_for(cls, user):
        kind = user.organisation.kind
        if kind == "agency":
            return cls.agency_id == user.organisation_id
        if kind == "platform":
            return and_(cls.platform_id == user.organisation_id, issued(cls.status), cls.notice_ready_at.isnot(None))
        return false()

    def lateness(self, now: datetime | None = None) -> str | None:
        """"very_overdue" or "overdue" while open past its very-overdue point or its deadline, else None."""
        return lateness(self, now or clock.now())

    @property
    def is_overdue(self) -> bool:
        return self.lateness() is not None

    @property
    def is_very_overdue(self) -> bool:
        return self.lateness() == "very_overdue"

    @property
    def label(self) -> str:
        """How people name the request, in pages and e-mails alike: its reference once issued, before
        that "Draft 8" in the current language (the one place this name is made)."""
        return self.reference or draft_name(self.id)

    def summary(self, language: str) -> str:
        """The summary in `language` ("ko" or "en"), the other one when that is empty."""
        first, other = (self.summary_ko, self.summary_en) if language == "ko" else (self.summary_en, self.summary_ko)
        return first or other


def lateness(req, now: datetime) -> str | None:
    """Request.lateness of a request or of a list's row of it (services.list_requests(rows=True))."""
    if not req.is_open:
        return None
    if req.very_overdue_from is not None and req.very_overdue_from <= now:
        return "very_overdue"
    if req.deadline is not None and req.deadline <= now:
        return "overdue"
    return None


# Items the platform cannot act on without more from the agency (few: their own small index).
NEEDS_INFORMATION = "outcome = 'needs_information'"


class RequestItem(db.Model):
    """One reported address (inert text, never fetched) with optional hashes and the platform's outcome."""

    __tablename__ = "request_items"
    audit_type = "request_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), nullable=False)
    # Denormalised so "was this address sent to this platform before?" needs no join to filter.
    platform_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    url_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    sha256: Mapped[str | None] = mapped_column(String(64))
    md5: Mapped[str | None] = mapped_column(String(32))
    pdq: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    outcome: Mapped[str | None] = mapped_column(String(20))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        UniqueConstraint("request_id", "url_hash", name="uq_request_items_request_url"),
        Index("ix_request_items_request_position", "request_id", "position"),
        # "Was this address sent before?" and the search by address: few rows share a hash.
        Index("ix_request_items_url_hash", "url_hash"),
        # The platform's dashboard counts open requests with an item that needs information: the few such
        # items, not every item of every open request (26 ms to 0.1 ms over 1,000,000 items on PostgreSQL).
        Index("ix_request_items_needs_information", "request_id", sqlite_where=text(NEEDS_INFORMATION),
              postgresql_where=text(NEEDS_INFORMATION)),
        CheckConstraint(f"outcome IS NULL OR {one_of('outcome', OUTCOMES)}", name="outcome"),
    )


class RequestMessage(db.Model):
    """The thread both sides read."""

    __tablename__ = "request_messages"
    audit_type = "request_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    # The other side: the platform when the agency wrote, else the agency. Stored so that counting a
    # user's unread messages is one index range over what was written to their organisation.
    recipient_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    author: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_request_messages_recipient_request", "recipient_organisation_id", "request_id", "id"),
    )


class RequestRead(db.Model):
    """How far a user has read a request's thread: the newest message shown to them on its page."""

    __tablename__ = "request_reads"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True)
    last_read_message_id: Mapped[int] = mapped_column(Integer, nullable=False)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class InternalNote(db.Model):
    """Notes of the issuing agency; the platform never sees them."""

    __tablename__ = "request_notes"
    audit_type = "request_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    author: Mapped[User] = relationship(lazy="joined")


class Attachment(db.Model):
    """A document (PDF, plain text, CSV) checked by its bytes and stored under instance/attachments."""

    __tablename__ = "request_attachments"
    audit_type = "request_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    content_type: Mapped[str] = mapped_column(String(40), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    uploaded_by: Mapped[User] = relationship(lazy="joined")


class ExtensionRequest(db.Model):
    """The platform asks for more time; a supervisor of the agency grants (new deadline) or refuses."""

    __tablename__ = "request_extensions"
    audit_type = "request_extension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    requested_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    previous_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint(one_of("status", EXTENSION_STATUSES), name="status"),
        # At most one extension of a request waits for a decision, whatever races the services lose.
        Index("uq_request_extensions_one_pending", "request_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )


# Steps recorded by a signed document, and those whose document is not stored yet.
DOCUMENT_STEPS = ("withdraw", "close")
DOCUMENT_PENDING = "document_ready_at IS NULL AND action IN ('withdraw', 'close')"


class RequestEvent(db.Model):
    """The request's history as both sides see it: each state change with who, when and why."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    # Regulator-only events (send back) are not shown to the platform.
    internal: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # For a step a signed document records (withdraw, close): when that document was stored. None: it is
    # being prepared, after the commit of the step (see portal.requests.notices).
    document_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (
        # The job that catches up on documents still pending reads this small partial index.
        Index("ix_request_events_document_pending", "id", sqlite_where=text(DOCUMENT_PENDING),
              postgresql_where=text(DOCUMENT_PENDING)),
    )
