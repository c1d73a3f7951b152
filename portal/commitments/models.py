"""Compliance commitments: versioned bilingual templates kept by the secretariat, the commitment a platform
makes from one exact template version, and the signatures on it.

A template version never changes once stored: revising a template adds the next version with the same
`code`. A commitment keeps the text rendered from its version (`text_ko`, `text_en`) and the canonical
document issued from it before anyone signs; `document_sha256` is fixed then and every signature records
the hash of the document it was given. Times are aware UTC; dates (`effective_from`, `valid_until`) are
calendar dates in Korea.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.bilingual import bilingual
from portal.core.database import UTCDateTime
from portal.core.documents.models import Document
from portal.extensions import db

DRAFT = "draft"
AWAITING_SIGNATURE = "awaiting_signature"
SIGNED = "signed"            # by the platform, awaiting the agency's countersignature
IN_FORCE = "in_force"        # countersigned
EXPIRED = "expired"
SUPERSEDED = "superseded"    # by a renewal
WITHDRAWN = "withdrawn"      # by the agency, with a reason
STATUSES = (DRAFT, AWAITING_SIGNATURE, SIGNED, IN_FORCE, EXPIRED, SUPERSEDED, WITHDRAWN)

PLATFORM_SIDE = "platform"
AGENCY_SIDE = "agency"
SIDES = (PLATFORM_SIDE, AGENCY_SIDE)

# Days before `valid_until` at which the platform admin and the secretariat are reminded, each once.
REMINDER_DAYS = (60, 30, 7)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CommitmentTemplate(db.Model):
    """One version of a commitment template. Stored text, rendered in a sandbox with fixed placeholders."""

    __tablename__ = "commitment_templates"
    audit_type = "commitment_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The versions of one template share their code; a revision adds version + 1.
    code: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title_ko: Mapped[str] = mapped_column(String(300), nullable=False)
    title_en: Mapped[str] = mapped_column(String(300), nullable=False)
    body_ko: Mapped[str] = mapped_column(Text, nullable=False)
    body_en: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_commitment_template_version"),
        CheckConstraint("version >= 1", name="version"),
    )

    title = bilingual("title")


class Commitment(db.Model):
    """A platform's commitment made from one template version, countersigned by one agency."""

    __tablename__ = "commitments"
    audit_type = "commitment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("commitment_templates.id"), nullable=False, index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default=DRAFT, index=True)
    # The text as rendered from the template version, once, when the commitment is sent for signature.
    text_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    text_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), unique=True)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    # The canonical document with the platform's signature, then also the agency's (incremental updates).
    signed_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), unique=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    in_force_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    template: Mapped[CommitmentTemplate] = relationship(lazy="joined", innerjoin=True)
    platform: Mapped[Organisation] = relationship(foreign_keys=[platform_id])
    agency: Mapped[Organisation] = relationship(foreign_keys=[agency_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    document: Mapped[Document | None] = relationship(foreign_keys=[document_id])
    signed_document: Mapped[Document | None] = relationship(foreign_keys=[signed_document_id])
    certificate: Mapped[Document | None] = relationship(foreign_keys=[certificate_id])
    renews: Mapped[Commitment | None] = relationship(remote_side=[id])
    signatures: Mapped[list[Signature]] = relationship(back_populates="commitment", order_by="Signature.id",
                                                       cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint("valid_until > effective_from", name="term"),
        CheckConstraint("platform_id <> agency_id", name="parties"),
    )

    def owning_organisation_id_for(self, user) -> int | None:
        """The platform reaches its commitment once sent for signature; the agency always."""
        if user.organisation_id == self.agency_id:
            return user.organisation_id
        if user.organisation_id == self.platform_id and self.status != DRAFT:
            return user.organisation_id
        return None

    @classmethod
    def scope_clause_for(cls, user):
        from sqlalchemy import and_, or_

        return or_(cls.agency_id == user.organisation_id,
                   and_(cls.platform_id == user.organisation_id, cls.status != DRAFT))

    def signature(self, side: str) -> Signature | None:
        return next((s for s in self.signatures if s.side == side), None)


class Signature(db.Model):
    """One side's signature: who, as what, what they consented to, when, from where, the TOTP step that
    proved them, and the hash of the exact document they signed."""

    __tablename__ = "commitment_signatures"
    audit_type = "commitment_signature"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), nullable=False, index=True)
    side: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    language: Mapped[str] = mapped_column(String(5), nullable=False)
    consent_text: Mapped[str] = mapped_column(Text, nullable=False)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    totp_step: Mapped[int] = mapped_column(Integer, nullable=False)
    document_sha256: Mapped[str] = mapped_column(String(64), nullable=False)

    commitment: Mapped[Commitment] = relationship(back_populates="signatures")
    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("commitment_id", "side", name="uq_commitment_signature_side"),
        CheckConstraint(_in("side", SIDES), name="side"),
    )


class ReminderSent(db.Model):
    """A renewal reminder sent for one commitment and one offset: the job sends each once."""

    __tablename__ = "commitment_reminders_sent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), nullable=False)
    days_before: Mapped[int] = mapped_column(Integer, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (UniqueConstraint("commitment_id", "days_before", name="uq_commitment_reminder_once"),)
