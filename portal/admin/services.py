"""Administration queries: what the organisation, user, audit and outbox pages list.

The rules that change things (create an organisation, invite, deactivate, reset 2FA, change a role) live
in portal/accounts/services.py; this module only reads, and every list goes through `policy.scoped`, so a
platform administrator sees their own organisation and nothing else.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select

from portal.accounts.models import DesignatedContact, Invitation, Organisation, User
from portal.accounts.services import normalise_email, role_fits
from portal.core import clock, policy
from portal.core.audit import AuditEvent
from portal.core.outbox import OutboxMessage
from portal.core.pagination import KeysetPage, NumberedPage, keyset_page, numbered_page
from portal.extensions import db

USERS_PER_PAGE = 50
AUDIT_PER_PAGE = 50
OUTBOX_PER_PAGE = 50
CSV_BATCH = 1000
# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _OrganisationScope:
    """`policy.scoped` for organisations themselves: an organisation is its own organisation."""

    @staticmethod
    def scope_clause_for(user):
        return Organisation.id == user.organisation_id


def get_scoped(actor: User, model, object_id: int, permission: str):
    """Load `model` by id for `actor`, or None when absent. Outside the actor's reach raises
    PermissionDenied carrying the object, which the error handler answers with 404."""
    obj = db.session.get(model, object_id)
    if obj is None:
        return None
    policy.require(actor, permission, obj)
    return obj


# --- Organisations ----------------------------------------------------------------------------------------

def list_organisations(actor: User) -> list[tuple[Organisation, int]]:
    """Every organisation the actor may see, with its number of users, by kind then code."""
    users = (select(func.count(User.id)).where(User.organisation_id == Organisation.id)
             .correlate(Organisation).scalar_subquery())
    query = select(Organisation, users).order_by(Organisation.kind, Organisation.code)
    query = policy.scoped(query, _OrganisationScope, actor, "organisation.view")
    return [(organisation, count) for organisation, count in db.session.execute(query).all()]


def organisations_for(actor: User, permission: str, kind: str | None = None) -> list[Organisation]:
    """Organisations (of `kind`, when given) the actor may pick for `permission` (a platform administrator:
    their own)."""
    query = policy.scoped(select(Organisation).order_by(Organisation.code), _OrganisationScope, actor,
                          permission)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return list(db.session.scalars(query).all())


# --- Users ---------------------------------------------------------------------------------------------------

@dataclass
class UserFilters:
    organisation_id: int | None = None
    role: str | None = None
    active: bool | None = None
    search: str | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_users(actor: User, filters: UserFilters, page: int = 1) -> NumberedPage:
    """Users the actor may see, filtered, by e-mail; pages of USERS_PER_PAGE, the number kept in range."""
    query = policy.scoped(select(User), User, actor, "user.view")
    if filters.organisation_id is not None:
        query = query.where(User.organisation_id == filters.organisation_id)
    if filters.role:
        query = query.where(User.role == filters.role)
    if filters.active is not None:
        query = query.where(User.active.is_(filters.active))
    if filters.search:
        pattern = _like(filters.search.strip().lower())
        query = query.where(or_(func.lower(User.email).like(pattern, escape="\\"),
                                func.lower(User.name).like(pattern, escape="\\")))
    return numbered_page(query.order_by(User.email, User.id), page, USERS_PER_PAGE)


def assignable_roles(actor: User, organisation: Organisation | None = None) -> list[str]:
    """Roles the actor may give (to someone of `organisation`, when given), in the order of the matrix."""
    allowed = policy.INVITABLE_ROLES.get(actor.role, frozenset())
    return [role for role in policy.ROLES
            if role in allowed and (organisation is None or role_fits(role, organisation))]


def open_invitations(actor: User) -> list[Invitation]:
    """Invitations not yet accepted, revoked or expired, that the actor may see, newest first."""
    query = policy.scoped(select(Invitation), Invitation, actor, "user.view").where(
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > clock.now()
    ).order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(200)
    return list(db.session.scalars(query).all())


# --- Designated contacts ---------------------------------------------------------------------------------------

def list_contacts(actor: User, organisation_id: int | None = None) -> list[DesignatedContact]:
    """Designated contacts the actor may manage, by platform, active ones first, then by name."""
    query = policy.scoped(select(DesignatedContact), DesignatedContact, actor, "contact.manage")
    if organisation_id is not None:
        query = query.where(DesignatedContact.organisation_id == organisation_id)
    query = query.join(Organisation, Organisation.id == DesignatedContact.organisation_id).order_by(
        Organisation.code, DesignatedContact.active.desc(), DesignatedContact.name, DesignatedContact.id)
    return list(db.session.scalars(query).all())


# --- Audit log -----------------------------------------------------------------------------------------------

@dataclass
class AuditFilters:
    actor_email: str | None = None
    organisation_id: int | None = None
    action: str | None = None
    date_from: date | None = None  # a day in KST, included
    date_to: date | None = None  # a day in KST, included

    def as_details(self) -> dict:
        """The filters in use, for the audit row that records a look at the log."""
        return {key: (value.isoformat() if isinstance(value, date) else value)
                for key, value in asdict(self).items() if value not in (None, "")}


@dataclass
class AuditRow:
    seq: int
    occurred_at: datetime
    actor_email: str | None
    organisation_code: str | None
    action: str
    object_type: str | None
    object_id: str | None
    ip: str | None
    details: dict


def kst_day_start(day: date) -> datetime:
    """Midnight at the start of a Korean calendar day, as aware UTC."""
    return datetime.combine(day, time(0), tzinfo=clock.KST).astimezone(clock.UTC)


def _audit_query(actor: User, filters: AuditFilters):
    query = (
        select(AuditEvent.seq, AuditEvent.occurred_at, User.email, Organisation.code, AuditEvent.action,
               AuditEvent.object_type, AuditEvent.object_id, AuditEvent.ip, AuditEvent.details)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
    )
    query = policy.scoped(query, AuditEvent, actor, "audit.view")
    if filters.actor_email:
        query = query.where(User.email == normalise_email(filters.actor_email))
    if filters.organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == filters.organisation_id)
    if filters.action:
        query = query.where(AuditEvent.action.startswith(filters.action.strip(), autoescape=True))
    if filters.date_from:
        query = query.where(AuditEvent.occurred_at >= kst_day_start(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEvent.occurred_at < kst_day_start(filters.date_to + timedelta(days=1)))
    return query.order_by(AuditEvent.seq.desc())


def audit_page(actor: User, filters: AuditFilters, before: int | None = None,
               limit: int = AUDIT_PER_PAGE, after: int | None = None) -> KeysetPage:
    """Audit events, newest first, `limit` at a time (keyset on the sequence number): older than
    `before`, or, given `after`, the `limit` events just newer than it (the previous page)."""
    query = _audit_query(actor, filters)
    if after is not None:
        query = query.where(AuditEvent.seq > after).order_by(None).order_by(AuditEvent.seq.asc())
    elif before is not None:
        query = query.where(AuditEvent.seq < before)
    rows = [AuditRow(*row) for row in db.session.execute(query.limit(limit + 1)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    if after is not None:
        rows.reverse()
        newer, older = more, bool(rows) and _exists(actor, filters, AuditEvent.seq < rows[-1].seq)
    else:
        newer = bool(rows) and before is not None and _exists(actor, filters, AuditEvent.seq > rows[0].seq)
        older = more
    # ?before= of the next (older) page, ?after= of the previous (newer) one.
    return KeysetPage(rows, rows[-1].seq if older and rows else None, rows[0].seq if newer else None)


def _exists(actor: User, filters: AuditFilters, condition) -> bool:
    query = _audit_query(actor, filters).where(condition).order_by(None).limit(1)
    return db.session.execute(query).first() is not None


def compact_json(value) -> str:
    """Details as one line of JSON, Korean kept readable."""
    return json.dumps(value or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def neutralise_cell(value) -> str:
    """A CSV cell that a spreadsheet cannot run as a formula: a leading = + - @ TAB or CR gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


AUDIT_CSV_COLUMNS = ("seq", "occurred_at_utc", "actor", "organisation", "action", "object_type", "object_id",
                     "ip", "details")


def audit_csv_record(row: AuditRow) -> list[str]:
    occurred = row.occurred_at.astimezone(clock.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [neutralise_cell(value) for value in (
        row.seq, occurred, row.actor_email, row.organisation_code, row.action, row.object_type, row.object_id,
        row.ip, compact_json(row.details),
    )]


# --- Outbox ----------------------------------------------------------------------------------------------------

def outbox_page(actor: User, status: str | None = None, before: int | None = None,
                limit: int = OUTBOX_PER_PAGE) -> KeysetPage:
    """Outbox messages, newest first, `limit` at a time older than id `before`."""
    query = policy.scoped(select(OutboxMessage), OutboxMessage, actor, "outbox.view")
    if status:
        query = query.where(OutboxMessage.status == status)
    if before is not None:
        query = query.where(OutboxMessage.id < before)
    messages = db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit + 1)).all()
    return keyset_page(messages, limit, key=lambda message: message.id)
