"""The record of an issued document: the stored bytes are its truth; the row says what it is, whose it is
and its hash."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.database import UTCDateTime
from portal.core.documents.kinds import DocumentKind, kind_of
from portal.extensions import db

LANGUAGE_PAIR = "ko+en"


class Document(db.Model):
    """An issued PDF: the stored bytes are its truth; this row says what it is, whose it is and its hash."""

    __tablename__ = "documents"
    audit_type = "document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    reference: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    issuer_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    # The organisation the document is addressed to (None: no recipient, e.g. a document kept by its issuer).
    recipient_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False, default=LANGUAGE_PAIR)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    storage_path: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    # SHA-256 of the normalised verification code; the code itself exists only in the PDF.
    verification_code_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    signer_fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    # A correction is a new document pointing to the one it replaces; a document is replaced at most once.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), unique=True)

    issuer: Mapped[Organisation] = relationship(foreign_keys=[issuer_organisation_id], lazy="joined",
                                                innerjoin=True)
    recipient: Mapped[Organisation | None] = relationship(foreign_keys=[recipient_organisation_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    replaces: Mapped[Document | None] = relationship(remote_side=[id], back_populates="replaced_by")
    replaced_by: Mapped[Document | None] = relationship(back_populates="replaces", uselist=False)

    @property
    def kind_info(self) -> DocumentKind:
        return kind_of(self.kind)

    def owning_organisation_id_for(self, user) -> int | None:
        """The side through which `user` reaches the document: its issuer or its recipient, else none."""
        if user.organisation_id in (self.issuer_organisation_id, self.recipient_organisation_id):
            return user.organisation_id
        return None

    @classmethod
    def scope_clause_for(cls, user):
        return or_(cls.issuer_organisation_id == user.organisation_id,
                   cls.recipient_organisation_id == user.organisation_id)

    def download_name(self, language: str) -> str:
        """`KCSC-2026-000123 요청 통지서.pdf`: the reference first, the kind in the reader's language."""
        return f"{self.reference} {self.kind_info.label(language)}.pdf"
