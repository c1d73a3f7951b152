"""Action items: tasks decided in a section of the minutes, owned by an organisation (optionally a
person), due on a date, followed until done or dropped, shown on the owner's home page and on the pages of
the requests they name, and carried onto a later consultation's agenda while still open.

Adding one is a write to the minutes (refused once they are approved or published); its status is
follow-up, not the record, and changes at any time by its owner organisation or the secretariat.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.consultations.models import Consultation
from portal.core import audit, clock, events, policy
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.extensions import db
from portal.minutes import notices, rules, services
from portal.minutes.models import ACTION_STATUSES, DRAFT, ActionItem, Minutes, Section, action_item_requests

MAX_REQUESTS = 20
MAX_DUE_DAYS = 3 * 366


def get(by: User, item_id: int) -> ActionItem:
    """An action item its owner organisation or the secretariat reaches (or the readers of its minutes)."""
    item = db.session.get(ActionItem, item_id)
    if item is None or not visible_to(by, item):
        raise NotFound(_l("Action item not found."))
    return item


def visible_to(by: User, item: ActionItem) -> bool:
    if policy.can(by, "minutes.keep"):
        return True
    if item.owner_organisation_id == by.organisation_id and policy.can(by, "action_item.update", item):
        return True
    return policy.can(by, "minutes.view", item.minutes)


def of_section(section: Section) -> list[ActionItem]:
    """The section's action items, with those recorded in the versions it amends (copied_from_id)."""
    ids, current = [], section
    while current is not None:
        ids.append(current.id)
        current = db.session.get(Section, current.copied_from_id) if current.copied_from_id else None
    return list(db.session.scalars(select(ActionItem).where(ActionItem.section_id.in_(ids))
                                   .order_by(ActionItem.due_on, ActionItem.id)))


def of_owner(by: User, status: str | None = "open") -> list[ActionItem]:
    """The action items `by`'s organisation owns (the home page, `GET /action-items?owner=me`)."""
    query = select(ActionItem).where(ActionItem.owner_organisation_id == by.organisation_id)
    if status:
        query = query.where(ActionItem.status == status)
    return list(db.session.scalars(query.order_by(ActionItem.due_on, ActionItem.id).limit(500)))


def for_request(by: User, request_id: int) -> list[ActionItem]:
    """The action items that name a formal request, for its page: whoever sees the request sees them, once
    their minutes are circulated (the owner sees its own on its home page from the start)."""
    query = (select(ActionItem).join(action_item_requests, action_item_requests.c.action_item_id == ActionItem.id)
             .join(Minutes, Minutes.id == ActionItem.minutes_id)
             .where(action_item_requests.c.request_id == request_id, Minutes.status != DRAFT)
             .order_by(ActionItem.due_on, ActionItem.id))
    return list(db.session.scalars(query))


def add(by: User, minutes: Minutes, section_id: int, *, text_ko: str, text_en: str, owner_code: str,
        due_on: date, owner_user_id: int | None = None, request_ids: list[int] = ()) -> ActionItem:
    """Record an action item in a section and tell its owner."""
    from portal.requests.models import Request

    policy.require(by, "minutes.keep", minutes)
    text_ko, text_en = rules._both(text_ko, text_en)
    owner = db.session.scalar(select(Organisation).where(Organisation.code == (owner_code or ""),
                                                         Organisation.active.is_(True)))
    if owner is None:
        raise ValidationError("owner", _l("Unknown organisation: %(codes)s", codes=owner_code or "-"))
    if owner_user_id is not None:
        person = db.session.get(User, owner_user_id)
        if person is None or person.organisation_id != owner.id or not person.active:
            raise ValidationError("owner_user", _l("This person is not of that organisation."))
    if not isinstance(due_on, date):
        raise ValidationError("due", _l("Give the due date."))
    today = clock.now().astimezone(clock.KST).date()
    if (due_on - today).days > MAX_DUE_DAYS:
        raise ValidationError("due", _l("The due date must be within three years."))
    wanted = list(dict.fromkeys(request_ids or ()))
    if len(wanted) > MAX_REQUESTS:
        raise ValidationError("requests", _l("An action item names at most %(num)s requests.", num=MAX_REQUESTS))
    found = list(db.session.scalars(select(Request).where(Request.id.in_(wanted)))) if wanted else []
    if len(found) != len(wanted):
        raise ValidationError("requests", _l("Request not found."))
    rules._lock_for_writing(minutes)
    section = rules.section_of(minutes, section_id)
    item = ActionItem(minutes_id=minutes.id, section_id=section.id, text_ko=text_ko, text_en=text_en,
                      owner_organisation_id=owner.id, owner_user_id=owner_user_id, due_on=due_on, status="open",
                      created_by_id=by.id, created_at=clock.now())
    item.requests = found
    db.session.add(item)
    minutes.updated_at = clock.now()
    db.session.flush()
    audit.record("action_item.assigned", item, details={"minutes": minutes.id, "owner": owner.code,
                                                        "due": due_on.isoformat()})
    notices.assigned(item)
    events.emit("action_item.assigned", action_item=item)
    return item


def set_status(by: User, item: ActionItem, status: str) -> None:
    """Open, done or dropped, with who and when; by the owner organisation or the secretariat."""
    if status not in ACTION_STATUSES:
        raise ValidationError("status", _l("Choose open, done or dropped."))
    if not policy.can(by, "minutes.keep"):
        policy.require(by, "action_item.update", item)
    current = db.session.scalar(select(ActionItem.status).where(ActionItem.id == item.id).with_for_update())
    if current is None:
        raise NotFound(_l("Action item not found."))
    if current == status:
        raise Conflict(_l("The action item already has this status."))
    db.session.refresh(item)
    before = item.status
    item.status, item.status_changed_by_id, item.status_changed_at = status, by.id, clock.now()
    audit.record("action_item.status", item, details={"from": before, "to": status})


def carry_forward(by: User, minutes: Minutes, consultation: Consultation) -> int:
    """Put every still-open action item of these minutes (and the versions they amend) not yet carried onto
    the agenda of `consultation`, a later one `by`'s organisation organises, with one action."""
    from portal.consultations import services as consultations

    policy.require(by, "minutes.keep", minutes)
    if consultation.id == minutes.consultation_id:
        raise ValidationError("consultation", _l("Choose a later consultation."))
    ids = [m.id for m in services.chain(minutes)]
    items = list(db.session.scalars(select(ActionItem).where(
        ActionItem.minutes_id.in_(ids), ActionItem.status == "open", ActionItem.carried_to_id.is_(None))
        .order_by(ActionItem.due_on, ActionItem.id).with_for_update()))
    if not items:
        raise Conflict(_l("No open action item is left to carry forward."))
    for item in items:
        entry = consultations.AgendaEntry(
            title_ko=f"후속 조치: {item.text_ko}"[:300], title_en=f"Follow-up: {item.text_en}"[:300])
        agenda_item = consultations.add_agenda_item(by, consultation, entry)
        item.carried_to_id = agenda_item.id
    audit.record("minutes.carried_forward", minutes, details={"consultation": consultation.id,
                                                              "items": [i.id for i in items]})
    return len(items)


def people_of(item: ActionItem) -> list[User]:
    """Who hears of an action item: its person, else the working people of its organisation."""
    if item.owner_user is not None and item.owner_user.active:
        return [item.owner_user]
    from portal.consultations.services import ATTENDING_ROLES

    return list(db.session.scalars(select(User).where(
        User.organisation_id == item.owner_organisation_id, User.active.is_(True),
        User.role.in_(ATTENDING_ROLES)).order_by(User.id)))
