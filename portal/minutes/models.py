"""Minutes of a consultation: versions, sections per agenda item, revisions, autosaved drafts, comments,
attendance, decisions and action items.

A consultation has one chain of versions (1, 2, ...): an amendment is version n+1 with `amends_id` naming
version n, which stays as it was (readable, citable) and becomes superseded when n+1 is published.
`revision` counts every save of a version's sections; each section remembers the revision that last
changed it (`revision`), which is how a save based on an older revision tells a merge (another section
changed meanwhile) from a conflict (this very section changed meanwhile).

Minutes are visible to the secretariat, which keeps them, and, once circulated, to everyone who sees the
consultation (its organiser and invited organisations). Action items are visible to their owner
organisation as well.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.consultations.models import Consultation
from portal.core.bilingual import bilingual
from portal.core.database import UTCDateTime, one_of
from portal.extensions import db

DRAFT = "draft"
CIRCULATED = "circulated"
APPROVED = "approved"
PUBLISHED = "published"
SUPERSEDED = "superseded"  # published, then amended by a newer published version
STATUSES = (DRAFT, CIRCULATED, APPROVED, PUBLISHED, SUPERSEDED)

ATTENDANCE = ("present", "remote", "excused", "absent")
ACTION_STATUSES = ("open", "done", "dropped")
LANGUAGES = ("ko", "en")

MAX_TEXT = 20000


class Minutes(db.Model):
    __tablename__ = "minutes"
    audit_type = "minutes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("minutes.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=DRAFT, index=True)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    circulated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comments_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    consultation: Mapped[Consultation] = relationship()
    amends: Mapped[Minutes | None] = relationship(remote_side=[id], foreign_keys=[amends_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    sections: Mapped[list[Section]] = relationship(back_populates="minutes", order_by="Section.position",
                                                   cascade="all, delete-orphan")
    attendance: Mapped[list[Attendance]] = relationship(back_populates="minutes", order_by="Attendance.id",
                                                        cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("consultation_id", "version", name="uq_minutes_version"),
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint("version >= 1", name="version"),
    )

    def owning_organisation_id_for(self, user) -> int | None:
        """Outside the secretariat, the minutes are reached through the consultation, once circulated."""
        if self.status == DRAFT:
            return None
        return self.consultation.owning_organisation_id_for(user)

    @classmethod
    def scope_clause_for(cls, user):
        return and_(cls.status != DRAFT, cls.consultation_id.in_(
            db.select(Consultation.id).where(Consultation.scope_clause_for(user))))

    @property
    def etag(self) -> str:
        return f'"minutes-{self.id}-r{self.revision}"'


class Section(db.Model):
    """One agenda item's part of the minutes (or "other business", `agenda_item_id` null), in both languages.

    `ko_needs_update` / `en_needs_update`: the other language changed since this one was last edited or
    confirmed, so its translation may be out of date."""

    __tablename__ = "minutes_sections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("consultation_agenda_items.id"))
    # The section of the version this one's version amends, when copied by an amendment.
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("minutes_sections.id"))
    title_ko: Mapped[str] = mapped_column(String(300), nullable=False)
    title_en: Mapped[str] = mapped_column(String(300), nullable=False)
    text_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    text_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    ko_needs_update: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    en_needs_update: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    minutes: Mapped[Minutes] = relationship(back_populates="sections")
    agenda_item = relationship("AgendaItem")
    decisions: Mapped[list[Decision]] = relationship(back_populates="section", order_by="Decision.id",
                                                     cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("minutes_id", "position", name="uq_minutes_section_position"),)

    title = bilingual("title")

    text = bilingual("text")


class Revision(db.Model):
    """Every save of a section, kept: who, when, both texts, and the revision it was based on."""

    __tablename__ = "minutes_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    section_id: Mapped[int] = mapped_column(ForeignKey("minutes_sections.id"), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    based_on: Mapped[int] = mapped_column(Integer, nullable=False)
    # Why, besides an edit: "merged" (based on a stale revision, another section), "restored", "confirmed".
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="edit")
    restored_from: Mapped[int | None] = mapped_column(Integer)
    text_ko: Mapped[str] = mapped_column(Text, nullable=False)
    text_en: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    author: Mapped[User] = relationship()
    section: Mapped[Section] = relationship()

    __table_args__ = (UniqueConstraint("minutes_id", "number", name="uq_minutes_revision_number"),)

    text = bilingual("text")


class Draft(db.Model):
    """An editor's autosaved, not yet saved, texts of one section: kept server-side so a time-out loses nothing."""

    __tablename__ = "minutes_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("minutes_sections.id"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    based_on: Mapped[int] = mapped_column(Integer, nullable=False)
    text_ko: Mapped[str] = mapped_column(Text, nullable=False, default="")
    text_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (UniqueConstraint("section_id", "user_id", name="uq_minutes_draft_editor"),)


class Comment(db.Model):
    """A participant's or the secretariat's comment on one section of one version."""

    __tablename__ = "minutes_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"), nullable=False, index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("minutes_sections.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    author: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()


class Attendance(db.Model):
    """One person (or an organisation as a whole, `user_id` null) at the meeting.

    `arrived_section_id`: present from that section on (null: from the start); `left_section_id`: present
    up to and including that section (null: to the end). Recusals are per section."""

    __tablename__ = "minutes_attendance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    arrived_section_id: Mapped[int | None] = mapped_column(ForeignKey("minutes_sections.id"))
    left_section_id: Mapped[int | None] = mapped_column(ForeignKey("minutes_sections.id"))

    minutes: Mapped[Minutes] = relationship(back_populates="attendance")
    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User | None] = relationship()
    recusals: Mapped[list[Recusal]] = relationship(back_populates="attendance", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(one_of("status", ATTENDANCE), name="status"),
        UniqueConstraint("minutes_id", "organisation_id", "user_id", name="uq_minutes_attendance_person"),
    )

    @property
    def label(self) -> str:
        return self.name or (self.user.name if self.user else "")


class Recusal(db.Model):
    __tablename__ = "minutes_recusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attendance_id: Mapped[int] = mapped_column(ForeignKey("minutes_attendance.id"), nullable=False, index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("minutes_sections.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")

    attendance: Mapped[Attendance] = relationship(back_populates="recusals")

    __table_args__ = (UniqueConstraint("attendance_id", "section_id", name="uq_minutes_recusal"),)


class Decision(db.Model):
    __tablename__ = "minutes_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("minutes_sections.id"), nullable=False, index=True)
    text_ko: Mapped[str] = mapped_column(Text, nullable=False)
    text_en: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    section: Mapped[Section] = relationship(back_populates="decisions")

    text = bilingual("text")


action_item_requests = db.Table(
    "action_item_requests",
    db.Column("action_item_id", ForeignKey("action_items.id"), primary_key=True),
    db.Column("request_id", ForeignKey("requests.id"), primary_key=True, index=True),
)


class ActionItem(db.Model):
    """A task decided in a section: owned by an organisation (optionally a person), due on a date (KST),
    open until done or dropped (who and when recorded). It stays with the section that recorded it; an
    amendment's copy of that section shows it through `copied_from_id`."""

    __tablename__ = "action_items"
    audit_type = "action_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"), nullable=False, index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("minutes_sections.id"), nullable=False, index=True)
    text_ko: Mapped[str] = mapped_column(Text, nullable=False)
    text_en: Mapped[str] = mapped_column(Text, nullable=False)
    owner_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open", index=True)
    status_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Each reminder is sent once: the job sets these with a conditional update.
    reminded_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The agenda item of a later consultation that carries it forward.
    carried_to_id: Mapped[int | None] = mapped_column(ForeignKey("consultation_agenda_items.id"))

    minutes: Mapped[Minutes] = relationship()
    section: Mapped[Section] = relationship()
    owner_organisation: Mapped[Organisation] = relationship()
    owner_user: Mapped[User | None] = relationship(foreign_keys=[owner_user_id])
    status_changed_by: Mapped[User | None] = relationship(foreign_keys=[status_changed_by_id])
    requests = relationship("Request", secondary=action_item_requests, order_by="Request.id")

    __table_args__ = (CheckConstraint(one_of("status", ACTION_STATUSES), name="status"),)

    @property
    def owning_organisation_id(self) -> int:
        return self.owner_organisation_id

    text = bilingual("text")

