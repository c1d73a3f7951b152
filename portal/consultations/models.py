"""Consultations: a plenary meeting of the body or a bilateral consultation with one platform.

Times are aware UTC; the meeting keeps its own zone (`timezone`) for the calendar and for what the
invitation says. A consultation is visible to its organiser's organisation and to its invited
organisations (`owning_organisation_id_for`, `scope_clause_for`, as requests do), and to the secretariat.
`sequence` is the iTIP SEQUENCE of the last calendar message sent: each invitation, reschedule and
cancellation sends it one higher; an attendee's answer never changes it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.bilingual import bilingual
from portal.core.database import UTCDateTime, one_of
from portal.extensions import db

KINDS = ("plenary", "bilateral")
FORMATS = ("in_person", "video", "hybrid")

DRAFT = "draft"
PROPOSED = "proposed"      # finding a time
SCHEDULED = "scheduled"
HELD = "held"
CANCELLED = "cancelled"
STATUSES = (DRAFT, PROPOSED, SCHEDULED, HELD, CANCELLED)

RSVP_RESPONSES = ("accepted", "declined", "tentative")
RSVP_STATUSES = ("needs_action", *RSVP_RESPONSES)

# Counter-proposals of a time by an invited platform.
COUNTER_STATUSES = ("open", "accepted", "declined")

DEFAULT_REMINDERS_MINUTES = (7 * 24 * 60, 24 * 60)
DEFAULT_AGENDA_FREEZE_HOURS = 48


class Consultation(db.Model):
    __tablename__ = "consultations"
    audit_type = "consultation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    title_ko: Mapped[str] = mapped_column(String(300), nullable=False)
    title_en: Mapped[str] = mapped_column(String(300), nullable=False)
    purpose_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    purpose_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    location: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    room: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    video_url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Seoul")
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=DRAFT, index=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When the time was last fixed (scheduled or rescheduled): reminders due before then are not sent.
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Offsets before the start, in minutes, comma-separated: a reschedule moves the reminders with it.
    reminder_offsets: Mapped[str] = mapped_column(String(100), nullable=False,
                                                  default=",".join(map(str, DEFAULT_REMINDERS_MINUTES)))
    agenda_freeze_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_AGENDA_FREEZE_HOURS)
    agenda_frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reschedule_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    organiser: Mapped[Organisation] = relationship(foreign_keys=[organiser_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    slots: Mapped[list[Slot]] = relationship(back_populates="consultation", order_by="Slot.starts_at",
                                             cascade="all, delete-orphan")
    invitees: Mapped[list[Invitee]] = relationship(back_populates="consultation", order_by="Invitee.id",
                                                   cascade="all, delete-orphan")
    participants: Mapped[list[Participant]] = relationship(back_populates="consultation",
                                                           order_by="Participant.id",
                                                           cascade="all, delete-orphan")
    agenda: Mapped[list[AgendaItem]] = relationship(back_populates="consultation",
                                                    order_by="AgendaItem.position",
                                                    cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(one_of("kind", KINDS), name="kind"),
        CheckConstraint(one_of("format", FORMATS), name="format"),
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint("duration_minutes BETWEEN 15 AND 1440", name="duration"),
    )

    title = bilingual("title")

    purpose = bilingual("purpose")

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def ends_at(self) -> datetime | None:
        return self.starts_at + self.duration if self.starts_at else None

    @property
    def reminders(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.reminder_offsets.split(",") if part)

    @property
    def invited_organisation_ids(self) -> set[int]:
        return {invitee.organisation_id for invitee in self.invitees}

    def owning_organisation_id_for(self, user) -> int | None:
        """The organiser reaches its consultation from the draft; an invitee once times are proposed."""
        if user.organisation_id == self.organiser_id:
            return user.organisation_id
        if self.status != DRAFT and user.organisation_id in self.invited_organisation_ids:
            return user.organisation_id
        return None

    @classmethod
    def scope_clause_for(cls, user):
        invited = exists().where(Invitee.consultation_id == cls.id,
                                 Invitee.organisation_id == user.organisation_id)
        return or_(cls.organiser_id == user.organisation_id, and_(cls.status != DRAFT, invited))


class Slot(db.Model):
    """A time proposed for a consultation: by the organiser, or by an invited platform (a counter-proposal)."""

    __tablename__ = "consultation_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), nullable=False, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Null: proposed by the organiser. Otherwise the platform that counter-proposed it.
    proposed_by_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    counter_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    consultation: Mapped[Consultation] = relationship(back_populates="slots")
    proposed_by_organisation: Mapped[Organisation | None] = relationship()
    choices: Mapped[list[SlotChoice]] = relationship(back_populates="slot", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(f"counter_status IS NULL OR {one_of('counter_status', COUNTER_STATUSES)}",
                        name="counter_status"),
    )

    @property
    def is_counter(self) -> bool:
        return self.proposed_by_organisation_id is not None


class SlotChoice(db.Model):
    """An invited platform's "this slot suits us"."""

    __tablename__ = "consultation_slot_choices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("consultation_slots.id"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    chosen_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    slot: Mapped[Slot] = relationship(back_populates="choices")
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (UniqueConstraint("slot_id", "organisation_id", name="uq_slot_choice_organisation"),)


class Invitee(db.Model):
    """An organisation invited to a consultation."""

    __tablename__ = "consultation_invitees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)

    consultation: Mapped[Consultation] = relationship(back_populates="invitees")
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (UniqueConstraint("consultation_id", "organisation_id", name="uq_invitee_organisation"),)


class Participant(db.Model):
    """A person invited (an ATTENDEE of the calendar), with their answer."""

    __tablename__ = "consultation_participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    rsvp: Mapped[str] = mapped_column(String(16), nullable=False, default="needs_action")
    rsvp_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    rsvp_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    consultation: Mapped[Consultation] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        UniqueConstraint("consultation_id", "user_id", name="uq_participant_user"),
        CheckConstraint(one_of("rsvp", RSVP_STATUSES), name="rsvp"),
    )


class AgendaItem(db.Model):
    """One item of a consultation's agenda, optionally about a formal request."""

    __tablename__ = "consultation_agenda_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    title_ko: Mapped[str] = mapped_column(String(300), nullable=False)
    title_en: Mapped[str] = mapped_column(String(300), nullable=False)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    # Put there when the agenda froze (a very overdue request of an invited platform), not by a person.
    added_automatically: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    consultation: Mapped[Consultation] = relationship(back_populates="agenda")
    request = relationship("Request")

    __table_args__ = (
        UniqueConstraint("consultation_id", "request_id", name="uq_agenda_request"),
    )

    title = bilingual("title")


class ReminderSent(db.Model):
    """A reminder sent for one start time and offset: the job sends each once, and a reschedule (a new
    start) makes new ones due."""

    __tablename__ = "consultation_reminders_sent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    offset_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (
        UniqueConstraint("consultation_id", "starts_at", "offset_minutes", name="uq_reminder_once"),
    )

