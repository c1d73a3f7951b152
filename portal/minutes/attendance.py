"""Attendance of the minutes: who was there (present, remote, excused, absent), arriving and leaving by
section, and recusals; from which follows who was there for each section and so for its decisions.
Services flush, never commit."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.core import audit, policy
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.extensions import db
from portal.minutes.models import ATTENDANCE, Attendance, Minutes, Recusal, Section
from portal.minutes.rules import _lock_for_writing, _touch, section_of


def section_order(minutes: Minutes) -> dict[int, int]:
    return {s.id: s.position for s in minutes.sections}


def present_for(minutes: Minutes, attendance: Attendance, section: Section) -> bool:
    """Whether the person was there, and not recused, for the section (and so its decisions)."""
    if attendance.status not in ("present", "remote"):
        return False
    order = section_order(minutes)
    position = section.position
    if attendance.arrived_section_id and order.get(attendance.arrived_section_id, 0) > position:
        return False
    if attendance.left_section_id and order.get(attendance.left_section_id, 10 ** 6) < position:
        return False
    return not any(r.section_id == section.id for r in attendance.recusals)


def attendance_for(minutes: Minutes, section: Section) -> list[Attendance]:
    return [a for a in minutes.attendance if present_for(minutes, a, section)]


def set_attendance(by: User, minutes: Minutes, *, organisation_code: str, status: str, user_id: int | None = None,
                   name: str = "", arrived_section_id: int | None = None,
                   left_section_id: int | None = None) -> Attendance:
    """Record (or change) one person's or organisation's attendance, with arrival and departure by section."""
    policy.require(by, "minutes.keep", minutes)
    if status not in ATTENDANCE:
        raise ValidationError("status", _l("Choose present, remote, excused or absent."))
    _lock_for_writing(minutes)
    organisation = db.session.scalar(select(Organisation).where(Organisation.code == organisation_code))
    if organisation is None:
        raise ValidationError("organisation", _l("Unknown organisation: %(codes)s", codes=organisation_code))
    if user_id is not None:
        person = db.session.get(User, user_id)
        if person is None or person.organisation_id != organisation.id:
            raise ValidationError("user", _l("This person is not of that organisation."))
        name = name or person.name
    order = section_order(minutes)
    for field, value in (("arrived", arrived_section_id), ("left", left_section_id)):
        if value is not None and value not in order:
            raise ValidationError(field, _l("Section not found."))
    if arrived_section_id and left_section_id and order[arrived_section_id] > order[left_section_id]:
        raise ValidationError("left", _l("The departure comes after the arrival."))
    row = next((a for a in minutes.attendance if a.organisation_id == organisation.id and a.user_id == user_id
                and (user_id is not None or a.name == (name or "").strip())), None)
    if row is None:
        row = Attendance(organisation_id=organisation.id, user_id=user_id)
        minutes.attendance.append(row)
    row.name, row.status = (name or "").strip()[:200], status
    row.arrived_section_id, row.left_section_id = arrived_section_id, left_section_id
    _touch(minutes)
    db.session.flush()
    audit.record("minutes.attendance", minutes, details={"attendance": row.id, "status": status})
    return row


def recuse(by: User, minutes: Minutes, attendance_id: int, section_id: int, reason: str = "") -> Recusal:
    """The person took no part in the section (a conflict of interest)."""
    policy.require(by, "minutes.keep", minutes)
    _lock_for_writing(minutes)
    row = next((a for a in minutes.attendance if a.id == attendance_id), None)
    if row is None:
        raise NotFound(_l("Attendance not found."))
    section = section_of(minutes, section_id)
    if any(r.section_id == section.id for r in row.recusals):
        raise Conflict(_l("This recusal is already recorded."))
    recusal = Recusal(section_id=section.id, reason=(reason or "").strip()[:500])
    row.recusals.append(recusal)
    _touch(minutes)
    db.session.flush()
    audit.record("minutes.recusal", minutes, details={"attendance": row.id, "section": section.id})
    return recusal
