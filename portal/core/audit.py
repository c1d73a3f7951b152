"""Append-only, hash-chained audit log.

Each row carries the hash of the row before it and a SHA-256 over a canonical form of itself, so a
changed, deleted or reordered row breaks the chain. Rows are added in the same transaction as the change
they record (the caller commits). A one-row head table serialises appends: updating it first takes the
row lock on PostgreSQL and the write lock on SQLite before the previous hash is read.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import DDL, BigInteger, ForeignKey, Integer, String, event, select, update
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock, transaction
from portal.core.database import UTCDateTime
from portal.extensions import db

GENESIS = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict] = mapped_column(db.JSON, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)

    actor = db.relationship("User", foreign_keys=[actor_id])
    organisation = db.relationship("Organisation", foreign_keys=[organisation_id])

    def canonical(self) -> bytes:
        return canonical_form(
            seq=self.seq,
            occurred_at=self.occurred_at,
            actor_id=self.actor_id,
            organisation_id=self.organisation_id,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            ip=self.ip,
            details=self.details,
            prev_hash=self.prev_hash,
        )


class AuditHead(db.Model):
    """The chain's tip: the last sequence number and hash. One row, id 1."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, default=GENESIS)


# The database itself refuses to update or delete audit rows (the application never tries to).
_APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
]
_APPEND_ONLY_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
]
APPEND_ONLY_DDL = {"sqlite": _APPEND_ONLY_SQLITE, "postgresql": _APPEND_ONLY_POSTGRESQL}

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        event.listen(AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))


def canonical_form(**fields) -> bytes:
    occurred_at: datetime = fields["occurred_at"]
    fields["occurred_at"] = occurred_at.astimezone(clock.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record(
    action: str,
    obj=None,
    *,
    actor=None,
    organisation_id: int | None = None,
    details: dict | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
) -> None:
    """Append an event for `action` on `obj` by `actor` (default: the current user). Flushes, never commits.

    `details` must hold no secrets, codes, tokens or reported URLs.
    """
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if obj is not None:
        object_type = object_type or getattr(obj, "audit_type", type(obj).__name__.lower())
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    if organisation_id is None and actor is not None:
        organisation_id = actor.organisation_id
    fields = dict(
        occurred_at=clock.now(),
        actor_id=actor.id if actor is not None else None,
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        ip=request.remote_addr if has_request_context() else None,
        details=details or {},
    )
    # A page that only reads appends its row after it is built, in a short write of its own.
    transaction.write(lambda: _append(fields))


def _append(fields: dict) -> AuditEvent:
    head = db.session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1).returning(AuditHead.seq)
    ).scalar_one_or_none()
    if head is None:
        db.session.add(AuditHead(id=1, seq=1, hash=GENESIS))
        db.session.flush()
        head = 1
    prev_hash = db.session.execute(select(AuditHead.hash).where(AuditHead.id == 1)).scalar_one()

    entry = AuditEvent(seq=head, prev_hash=prev_hash, **fields)
    entry.hash = hashlib.sha256(entry.canonical()).hexdigest()
    db.session.add(entry)
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=entry.hash))
    db.session.flush()
    return entry


@dataclass
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str | None = None


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first row whose links or hash do not hold."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.seq >= expected_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(False, checked, expected_seq - 1, expected_prev, expected_seq,
                                   f"row {expected_seq} is missing")
            if row.prev_hash != expected_prev:
                return ChainReport(False, checked, row.seq, row.hash, row.seq, "link to previous row broken")
            if hashlib.sha256(row.canonical()).hexdigest() != row.hash:
                return ChainReport(False, checked, row.seq, row.hash, row.seq, "row content changed")
            expected_prev, expected_seq, checked = row.hash, row.seq + 1, checked + 1
            db.session.expunge(row)  # a long chain must not fill the identity map
        if len(rows) < batch:
            break
    head = db.session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != checked or head_hash != expected_prev:
        return ChainReport(False, checked, head_seq, head_hash, checked + 1,
                           "rows after the last verified one are missing or the head was changed")
    return ChainReport(True, checked, head_seq, head_hash)
