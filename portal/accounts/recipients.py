"""Who hears of something: the active people of an organisation (by role) and its designated contacts.

Every domain resolves its recipients here (requests' e-mails, consultations' participants), so "active",
the order and the de-duplication mean the same everywhere. Reads only.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from portal.accounts.models import DesignatedContact, User
from portal.extensions import db


def users_of(organisations: int | Iterable[int], roles: Iterable[str] | None = None, *,
             exclude: int | None = None) -> list[User]:
    """The active users of one organisation (an id) or several, with one of `roles` (any role when None),
    but not the user `exclude`; by organisation, then id."""
    ids = [organisations] if isinstance(organisations, int) else list(organisations)
    if not ids:
        return []
    query = select(User).where(User.organisation_id.in_(ids), User.active.is_(True))
    if roles is not None:
        query = query.where(User.role.in_(list(roles)))
    if exclude is not None:
        query = query.where(User.id != exclude)
    return list(db.session.scalars(query.order_by(User.organisation_id, User.id)))


def designated_contacts_of(organisation_id: int, *, skip: Iterable[str] = ()) -> list[DesignatedContact]:
    """The organisation's active designated contacts, by id, but none whose address is in `skip` (the
    addresses that already get the message as a user)."""
    skipped = set(skip)
    contacts = db.session.scalars(
        select(DesignatedContact).where(DesignatedContact.organisation_id == organisation_id,
                                        DesignatedContact.active.is_(True)).order_by(DesignatedContact.id))
    return [contact for contact in contacts if contact.email not in skipped]


def unique(people: Iterable[User]) -> list[User]:
    """`people` without repeats, in their first order."""
    seen, result = set(), []
    for person in people:
        if person.id not in seen:
            seen.add(person.id)
            result.append(person)
    return result


def active(*people: User | None) -> list[User]:
    """Those of `people` who exist and are active, without repeats."""
    return unique(person for person in people if person is not None and person.active)
