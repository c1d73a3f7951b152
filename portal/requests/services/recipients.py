"""Who hears about a request, and the e-mails queued for them."""
from __future__ import annotations

from flask import current_app, has_request_context, url_for
from sqlalchemy import select

from portal.accounts.models import DesignatedContact, User
from portal.accounts.services import active_contacts
from portal.core import outbox
from portal.extensions import db
from portal.requests.models import Request


def _unique(users: list[User]) -> list[User]:
    seen, result = set(), []
    for user in users:
        if user.id not in seen:
            seen.add(user.id)
            result.append(user)
    return result


def _platform_users(req: Request, roles=("platform_agent", "platform_admin")) -> list[User]:
    return db.session.scalars(select(User).where(User.organisation_id == req.platform_id, User.active.is_(True),
                                                 User.role.in_(roles)).order_by(User.id)).all()


def _agency_supervisors(req: Request, exclude: int | None = None) -> list[User]:
    query = select(User).where(User.organisation_id == req.agency_id, User.active.is_(True),
                               User.role == "regulator_supervisor").order_by(User.id)
    if exclude is not None:
        query = query.where(User.id != exclude)
    return db.session.scalars(query).all()


def _issuing_supervisor(req: Request) -> list[User]:
    return [req.approved_by] if req.approved_by is not None and req.approved_by.active else []


def _agency_followers(req: Request) -> list[User]:
    """The drafter and the supervisor who issued it."""
    users = [u for u in (req.drafted_by, req.approved_by) if u is not None and u.active]
    return _unique(users)


def _contacts(req: Request, skip: set[str]) -> list[DesignatedContact]:
    """The platform's active designated contacts, but none whose address already gets the e-mail as a user."""
    return [contact for contact in active_contacts(req.platform_id) if contact.email not in skip]


def request_link(req: Request) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for("requests.detail", request_id=req.id)
    with current_app.test_request_context():
        return base + url_for("requests.detail", request_id=req.id)


def _notify(template: str, user: User, req: Request, **context) -> None:
    """Queue an e-mail about `req` to `user` in their language and zone. Never with item addresses."""
    outbox.enqueue_email(template, recipient=user.email, language=user.language, user_id=user.id,
                         req=req, recipient_user=user, link=request_link(req), **context)


def _notify_contact(template: str, contact: DesignatedContact, req: Request, **context) -> None:
    """Queue an e-mail about `req` to a designated contact, in its language and zone (a contact carries the
    name, language and time zone the templates read from a recipient). Never with item addresses."""
    outbox.enqueue_email(template, recipient=contact.email, language=contact.language, req=req,
                         recipient_user=contact, link=request_link(req), **context)
