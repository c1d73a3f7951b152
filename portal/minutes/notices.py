"""What the minutes send, through the outbox, each in its recipient's language: circulation for comments,
publication, an action item assigned, and its reminders."""
from __future__ import annotations

from portal.accounts.models import User
from portal.core import links, outbox
from portal.extensions import db


def _readers(minutes) -> list[User]:
    return [p.user for p in minutes.consultation.participants if p.user.active]


def _link(minutes, language: str) -> str:
    return links.absolute("minutes.detail", minutes_id=minutes.id, lang=language)


def _email(template: str, user: User, minutes, attachments=(), **context) -> None:
    outbox.enqueue_email(template, recipient=user.email, language=user.language, user_id=user.id,
                         attachments=attachments,
                         minutes=minutes, consultation=minutes.consultation, recipient_user=user,
                         link=_link(minutes, user.language), **context)


def circulated(minutes) -> None:
    for user in _readers(minutes):
        _email("minutes_circulated", user, minutes)
    db.session.flush()


def published(minutes, document=None) -> None:
    """Tell the participants, with the signed PDF of the version attached (when given)."""
    from portal.minutes import pdf

    attachments = [pdf.attachment(document)] if document is not None else []
    for user in _readers(minutes):
        _email("minutes_published", user, minutes, attachments=attachments, document=document)
    db.session.flush()


def assigned(item) -> None:
    from portal.minutes.actions import people_of

    for user in people_of(item):
        _email("action_item_assigned", user, item.minutes, item=item)
    db.session.flush()


def reminder(item, *, overdue: bool) -> int:
    from portal.minutes.actions import people_of

    people = people_of(item)
    for user in people:
        _email("action_item_overdue" if overdue else "action_item_due", user, item.minutes, item=item)
    db.session.flush()
    return len(people)
