"""Settings the administrators keep: legal bases and deadline policies."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import User
from portal.core import audit, policy
from portal.core.exceptions import NotFound, ValidationError
from portal.extensions import db
from portal.requests import deadlines
from portal.requests.models import PRIORITIES, TYPES, LegalBasis


def add_legal_basis(by: User, code: str, name_ko: str, name_en: str) -> LegalBasis:
    policy.require(by, "legal_basis.manage")
    code = (code or "").strip().upper()
    if not code or len(code) > 40:
        raise ValidationError("code", _l("Give a short code (at most 40 characters)."))
    if db.session.scalar(select(LegalBasis.id).where(LegalBasis.code == code)):
        raise ValidationError("code", _l("This code is already used."))
    if not (name_ko or "").strip() or not (name_en or "").strip():
        raise ValidationError("name_ko" if not (name_ko or "").strip() else "name_en", _l("This field is required."))
    basis = LegalBasis(code=code, name_ko=name_ko.strip()[:300], name_en=name_en.strip()[:300], active=True)
    db.session.add(basis)
    db.session.flush()
    audit.record("legal_basis.added", basis, actor=by, details={"code": code})
    return basis


def set_legal_basis_active(by: User, basis_id: int, active: bool) -> None:
    """Retire (or bring back) a legal basis; requests that cite it keep it."""
    policy.require(by, "legal_basis.manage")
    basis = db.session.get(LegalBasis, basis_id)
    if basis is None:
        raise NotFound(_l("Legal basis not found."))
    basis.active = active
    audit.record("legal_basis.activated" if active else "legal_basis.retired", basis, actor=by)


def deadline_policies() -> list[tuple[str, str, deadlines.Allowance, bool]]:
    """Every type and priority with its allowance and whether it is the built-in default."""
    from portal.requests.models import DeadlinePolicy

    rows = {(p.request_type, p.priority): p for p in db.session.scalars(select(DeadlinePolicy))}
    table = []
    for request_type in TYPES:
        for priority in PRIORITIES:
            table.append((request_type, priority, deadlines.allowance_for(request_type, priority),
                          (request_type, priority) not in rows))
    return table


def set_deadline_policy(by: User, request_type: str, priority: str, *, hours: int | None = None,
                        working_days: int | None = None) -> None:
    """Set the time allowed for a type and priority (hours, or Korean working days). Requests already
    issued keep their deadline."""
    from portal.requests.models import DeadlinePolicy

    policy.require(by, "deadline_policy.manage")
    if request_type not in TYPES or priority not in PRIORITIES:
        raise ValidationError("request_type", _l("Choose a type and a priority."))
    if (hours is None) == (working_days is None):
        raise ValidationError("amount", _l("Give either hours or working days."))
    amount = hours if hours is not None else working_days
    if not 1 <= amount <= (24 * 90 if hours is not None else 90):
        raise ValidationError("amount", _l("The time allowed is out of range."))
    row = db.session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.request_type == request_type,
                                                         DeadlinePolicy.priority == priority))
    if row is None:
        row = DeadlinePolicy(request_type=request_type, priority=priority)
        db.session.add(row)
    row.hours, row.working_days = hours, working_days
    db.session.flush()
    audit.record("deadline_policy.set", row, actor=by,
                 details={"type": request_type, "priority": priority, "hours": hours, "working_days": working_days})
