"""Append-only, keyed, hash-chained audit log with signed checkpoints.

Each row carries the hash of the row before it and an HMAC-SHA256 over a canonical form of itself, made
with a key kept outside the database (`PORTAL_AUDIT_KEY` or `PORTAL_AUDIT_KEY_FILE`; generated into
instance/ outside production). Someone who can write to the database but does not hold the key cannot
change a row and recompute the chain: the new hashes do not verify. Each row names the key that made it
(`key_id`), so keys can rotate: the first key configured makes new rows, the others (retired) still
verify old ones.

Truncating the last rows and fixing the head is caught by checkpoints: `flask audit head` prints the head
(sequence, hash, time) signed with the document signing key; an auditor keeps it elsewhere, and
`flask audit verify --checkpoint FILE` fails when the chain no longer contains it.

Rows are added in the same transaction as the change they record (the caller commits). A one-row head
table serialises appends: updating it first takes the row lock on PostgreSQL and the write lock on SQLite
before the previous hash is read.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import DDL, BigInteger, ForeignKey, Integer, String, event, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock, transaction
from portal.core.database import UTCDateTime
from portal.extensions import db

GENESIS = "0" * 64
# Rows written before the chain was keyed (plain SHA-256) carry this key id; they verify only up to the
# sequence number `AUDIT_UNKEYED_UNTIL` names (0 by default: none), since anyone can recompute them.
UNKEYED = "unkeyed"
MIN_KEY_LENGTH = 32


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
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)

    actor = db.relationship("User", foreign_keys=[actor_id])
    organisation = db.relationship("Organisation", foreign_keys=[organisation_id])

    def canonical(self) -> bytes:
        keyed = {} if self.key_id == UNKEYED else {"key_id": self.key_id}
        return canonical_form(
            **keyed,
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


# --- Refusals: probing shows up in the log, flooding does not ---------------------------------------------

REFUSAL_PREFIX = "refused."
REFUSALS_CAPPED = "refused.capped"
REFUSAL_WINDOW = timedelta(minutes=1)
_SECRET_LOOKING = re.compile(r"[A-Za-z0-9_\-.~%]{16,}")


def record_refusal(kind: str, **details) -> None:
    """Record that this request was refused (`refused.<kind>`: not_found, api_token, csrf, rate_limited).

    The row is written after the request in a transaction of its own, so the refusal's rollback keeps it.
    It names the route, never the path's own secrets (reset and invitation tokens) or the token offered.
    At most `AUDIT_REFUSALS_PER_MINUTE` such rows per address and minute, then one `refused.capped` row,
    then nothing until the minute has passed: a flood of probes cannot flood the log.
    """
    if not has_request_context() or g.get("_refusal_recorded"):
        return
    g._refusal_recorded = True  # one row per request, whichever refusal came first
    details = {"method": request.method, "path": route_of_request(), "endpoint": request.endpoint, **details}
    transaction.after(lambda: _record_capped(REFUSAL_PREFIX + kind, details))


def refusal_recorded() -> None:
    """This request's refusal is recorded otherwise (an access denial): no `refused.*` row for it."""
    if has_request_context():
        g._refusal_recorded = True


def _record_capped(action: str, details: dict) -> None:
    limit = int(current_app.config.get("AUDIT_REFUSALS_PER_MINUTE", 30))
    # Serialise with other appends (the head row's lock on PostgreSQL; SQLite writers already hold the
    # database's), so two workers cannot both see room for the last row.
    db.session.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())
    recent = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.ip == request.remote_addr, AuditEvent.action.like(REFUSAL_PREFIX + "%"),
            AuditEvent.occurred_at >= clock.now() - REFUSAL_WINDOW)
    )
    if recent < limit:
        record(action, details=details)
    elif recent == limit:
        record(REFUSALS_CAPPED, details={"limit": limit, "window_seconds": int(REFUSAL_WINDOW.total_seconds()),
                                         "first_unrecorded": action})


def route_of_request() -> str:
    """The path with its secrets left out: the route's pattern with numeric ids filled in; for a path no
    route matches, every long segment (anything that could be a token) replaced."""
    rule = request.url_rule
    if rule is None:
        path = "/".join("<redacted>" if _SECRET_LOOKING.fullmatch(part) else part
                        for part in request.path.split("/"))
        return path[:200]
    path = rule.rule
    for name, value in (request.view_args or {}).items():
        shown = str(value) if isinstance(value, int) else "<redacted>"
        path = re.sub(r"<(?:[^<>:]+:)?" + re.escape(name) + r">", shown, path)
    return path[:200]


def _append(fields: dict) -> AuditEvent:
    head = db.session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1).returning(AuditHead.seq)
    ).scalar_one_or_none()
    if head is None:
        db.session.add(AuditHead(id=1, seq=1, hash=GENESIS))
        db.session.flush()
        head = 1
    prev_hash = db.session.execute(select(AuditHead.hash).where(AuditHead.id == 1)).scalar_one()

    keyring = keyring_of(current_app)
    entry = AuditEvent(seq=head, prev_hash=prev_hash, key_id=keyring.current_id, **fields)
    entry.hash = keyring.digest(entry.key_id, entry.canonical())
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
    """Walk the chain in order; report the first row whose links or keyed hash do not hold."""
    keyring = keyring_of(current_app)
    unkeyed_until = int(current_app.config.get("AUDIT_UNKEYED_UNTIL") or 0)
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
            if row.key_id == UNKEYED:
                if row.seq > unkeyed_until:
                    return ChainReport(False, checked, row.seq, row.hash, row.seq,
                                       "row is not keyed (after AUDIT_UNKEYED_UNTIL)")
                digest = hashlib.sha256(row.canonical()).hexdigest()
            elif row.key_id not in keyring.keys:
                return ChainReport(False, checked, row.seq, row.hash, row.seq,
                                   f"row was made with a key that is not configured ({row.key_id})")
            else:
                digest = keyring.digest(row.key_id, row.canonical())
            if not hmac.compare_digest(digest, row.hash):
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


def head() -> tuple[int, str]:
    """The chain's last sequence number and hash ((0, GENESIS) when the log is empty)."""
    row = db.session.get(AuditHead, 1)
    return (row.seq, row.hash) if row else (0, GENESIS)


def row_hash(seq: int) -> str | None:
    return db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))


# --- The key outside the database ------------------------------------------------------------------------

@dataclass(frozen=True)
class Keyring:
    """The audit keys: `current_id` makes new rows, every key in `keys` verifies rows (rotation)."""

    current_id: str
    keys: dict[str, bytes] = field(repr=False)

    def digest(self, key_id: str, message: bytes) -> str:
        return hmac.new(self.keys[key_id], message, hashlib.sha256).hexdigest()


def key_id_of(key: bytes) -> str:
    """A short public name for a key, derived from it (it reveals nothing of the key)."""
    return hmac.new(key, b"portal audit key id", hashlib.sha256).hexdigest()[:16]


def parse_keys(text: str) -> list[bytes]:
    """Keys separated by commas, spaces or lines; `#` starts a comment. The first one is current."""
    entries = []
    for line in str(text).splitlines():
        entries += [e for e in re.split(r"[\s,]+", line.split("#", 1)[0]) if e]
    for entry in entries:
        if len(entry) < MIN_KEY_LENGTH:
            raise RuntimeError(f"an audit key must be at least {MIN_KEY_LENGTH} characters long")
    return [e.encode() for e in entries]


def load_keyring(app: Flask) -> Keyring:
    """From `AUDIT_KEY` (first) and `AUDIT_KEY_FILE`; required in production, else made in instance/."""
    keys = parse_keys(app.config.get("AUDIT_KEY") or "")
    key_file = app.config.get("AUDIT_KEY_FILE")
    if key_file:
        try:
            keys += parse_keys(Path(key_file).read_text())
        except OSError as exc:
            raise RuntimeError(f"the audit key file {key_file} cannot be read: {exc.strerror}") from None
    if not keys:
        if app.config["PORTAL_ENV"] == "production":
            raise RuntimeError("PORTAL_AUDIT_KEY or PORTAL_AUDIT_KEY_FILE must be set when PORTAL_ENV=production")
        keys = parse_keys(_development_key(Path(app.instance_path) / "audit_key"))
    named = {}
    for key in keys:
        named.setdefault(key_id_of(key), key)
    return Keyring(current_id=key_id_of(keys[0]), keys=named)


def _development_key(path: Path) -> str:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path.read_text()


def keyring_of(app: Flask) -> Keyring:
    return app.extensions["portal.audit_keys"]


def init_app(app: Flask) -> None:
    """Load the audit keys once, when the application starts (a missing key in production stops it)."""
    app.extensions["portal.audit_keys"] = load_keyring(app)


# --- Signed checkpoints ----------------------------------------------------------------------------------

CHECKPOINT_TYPE = "portal-audit-checkpoint"
_PEM = re.compile(rb"-----BEGIN (?:PKCS7|CMS)-----\s+(.+?)-----END (?:PKCS7|CMS)-----", re.S)


class CheckpointError(Exception):
    """A checkpoint file that cannot be read or whose signature does not verify."""


@dataclass
class Checkpoint:
    seq: int
    hash: str
    time: str


def make_checkpoint() -> bytes:
    """The head as one JSON line, then a detached CMS signature (PEM) over that line made with the
    document signing key: `openssl cms -verify -binary -content <first line> -in <PEM> -inform PEM
    -certfile cert.pem -CAfile cert.pem -purpose any` checks it without the portal."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography import x509

    from portal.core.documents import signing_identity

    seq, digest = head()
    line = json.dumps({"type": CHECKPOINT_TYPE, "seq": seq, "hash": digest,
                       "time": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")}, sort_keys=True) + "\n"
    identity = signing_identity()
    key = serialization.load_der_private_key(identity.signer.signing_key.dump(), password=None)
    certificate = x509.load_der_x509_certificate(identity.certificate_der)
    signature = (
        pkcs7.PKCS7SignatureBuilder().set_data(line.encode()).add_signer(certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.PEM, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )
    return line.encode() + signature


def read_checkpoint(data: bytes) -> Checkpoint:
    """Parse a checkpoint and check its signature against the document signing certificate."""
    line, _, rest = data.partition(b"\n")
    try:
        fields = json.loads(line)
        checkpoint = Checkpoint(seq=int(fields["seq"]), hash=str(fields["hash"]), time=str(fields["time"]))
        if fields.get("type") != CHECKPOINT_TYPE:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise CheckpointError("not an audit checkpoint") from None
    match = _PEM.search(rest)
    if not match:
        raise CheckpointError("the checkpoint carries no signature")
    _check_signature(line + b"\n", base64.b64decode(match.group(1)))
    return checkpoint


def _check_signature(content: bytes, der: bytes) -> None:
    from asn1crypto import cms
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    from portal.core.documents import signing_identity

    certificate = x509.load_der_x509_certificate(signing_identity().certificate_der)
    try:
        signed = cms.ContentInfo.load(der)["content"]
        signer = signed["signer_infos"][0]
        signature = signer["signature"].native
        attributes = signer["signed_attrs"]
        if attributes.native is None:
            message = content
        else:
            digests = [a["values"][0].native for a in attributes if a["type"].native == "message_digest"]
            if digests != [hashlib.sha256(content).digest()]:
                raise CheckpointError("the checkpoint was changed after it was signed")
            message = b"\x31" + attributes.dump()[1:]  # signed over as a SET, stored with an implicit tag
    except CheckpointError:
        raise
    except Exception:
        raise CheckpointError("the checkpoint's signature cannot be read") from None
    public_key = certificate.public_key()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise CheckpointError("the document signing key is of an unsupported kind")
    except InvalidSignature:
        raise CheckpointError("the checkpoint's signature does not verify with the document signing "
                              "certificate") from None


def verify_checkpoint(checkpoint: Checkpoint) -> str | None:
    """None when the chain still holds the checkpoint's row with its hash; otherwise why not."""
    if checkpoint.seq == 0:
        return None
    found = row_hash(checkpoint.seq)
    if found is None:
        return f"row {checkpoint.seq} of the checkpoint is missing (the log was truncated)"
    if not hmac.compare_digest(found, checkpoint.hash):
        return f"row {checkpoint.seq} no longer has the checkpoint's hash (the log was rewritten)"
    return None
