from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.core.bilingual import bilingual
from portal.core.database import UTCDateTime
from portal.core.encryption import EncryptedString
from portal.extensions import db

ORGANISATION_KINDS = ("agency", "platform", "secretariat")


class Organisation(db.Model):
    __tablename__ = "organisations"
    audit_type = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name_ko: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)

    users: Mapped[list[User]] = relationship(back_populates="organisation", order_by="User.email")

    __table_args__ = (CheckConstraint("kind IN ('agency', 'platform', 'secretariat')", name="kind"),)

    @property
    def organisation_id(self) -> int:
        return self.id

    name = bilingual("name")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    audit_type = "user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    language: Mapped[str] = mapped_column(String(5), nullable=False, default="ko")
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Seoul")
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)
    # Encrypted at rest with the secrets key (core/encryption): a dump of the table cannot produce a code.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString(255))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last 30-second step whose code was accepted: a code is never accepted twice.
    totp_last_step: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Named by the platform admin: may sign compliance commitments for the platform (portal/commitments).
    authorised_signatory: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                       server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")

    # Set by the user loader: the server-side session this request belongs to, as its id and token. Its
    # object is read only by the pages that act on it (every page reading it cost a third of the look-up).
    current_session_id = None
    session_token = None

    @property
    def current_session(self) -> UserSession | None:
        if self.current_session_id is None:
            return None
        session = db.session.get(UserSession, self.current_session_id)
        if session is not None:
            session.token = self.session_token
        return session

    @current_session.setter
    def current_session(self, session: UserSession | None) -> None:
        self.current_session_id, self.session_token = (session.id, session.token) if session else (None, None)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def two_factor_enrolled(self) -> bool:
        return self.totp_confirmed_at is not None

    def get_id(self) -> str:
        # Flask-Login keeps this in the cookie: the session token, not the user id (alternative tokens).
        if self.session_token is None:
            raise RuntimeError("a user is logged in only through a server-side session")
        return self.session_token


class UserSession(db.Model):
    """A server-side login session. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"
    audit_type = "session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship(lazy="joined")

    # The plain token exists only in the request that created the session (and in the cookie).
    token = None

    @property
    def organisation_id(self) -> int:
        return self.user.organisation_id

    @property
    def is_open(self) -> bool:
        return self.revoked_at is None


class RecoveryCode(db.Model):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(db.Model):
    __tablename__ = "invitations"
    audit_type = "invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    language: Mapped[str] = mapped_column(String(5), nullable=False, default="ko")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class PasswordReset(db.Model):
    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class DesignatedContact(db.Model):
    """An address a platform names for escalations (e.g. a 24/7 trust-and-safety mailbox).

    Not a portal user: it never logs in, and receives e-mail in its own language and time zone.
    """

    __tablename__ = "designated_contacts"
    audit_type = "designated_contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Indexed by the unique constraint below, whose first column it is.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    language: Mapped[str] = mapped_column(String(5), nullable=False, default="en")
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Seoul")
    # What the address is for and when to use it ("24/7 on-call, escalations only").
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("organisation_id", "email", name="uq_designated_contacts_organisation_email"),)
