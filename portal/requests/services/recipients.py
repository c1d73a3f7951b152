"""Who hears about a request (resolved by portal/accounts/recipients), and the e-mails queued for them."""
from __future__ import annotations

from portal.accounts import recipients
from portal.accounts.models import DesignatedContact, User
from portal.core import links, outbox
from portal.core.documents import Document, read_document
from portal.requests.models import Request


def _unique(users: list[User]) -> list[User]:
    return recipients.unique(users)


def _platform_users(req: Request, roles=("platform_agent", "platform_admin")) -> list[User]:
    return recipients.users_of(req.platform_id, roles)


def _agency_supervisors(req: Request, exclude: int | None = None) -> list[User]:
    return recipients.users_of(req.agency_id, ("regulator_supervisor",), exclude=exclude)


def _issuing_supervisor(req: Request) -> list[User]:
    return recipients.active(req.approved_by)


def _agency_followers(req: Request) -> list[User]:
    """The drafter and the supervisor who issued it."""
    return recipients.active(req.drafted_by, req.approved_by)


def _contacts(req: Request, skip: set[str]) -> list[DesignatedContact]:
    """The platform's active designated contacts, but none whose address already gets the e-mail as a user."""
    return recipients.designated_contacts_of(req.platform_id, skip=skip)


def request_link(req: Request) -> str:
    """The request page's absolute address, from `PUBLIC_BASE_URL`, inside a request or not."""
    return links.absolute("requests.detail", request_id=req.id)


def _notify(template: str, user: User, req: Request, *, attachments=(), **context) -> None:
    """Queue an e-mail about `req` to `user` in their language and zone. Never with item addresses."""
    outbox.enqueue_email(template, recipient=user.email, language=user.language, user_id=user.id,
                         attachments=attachments, req=req, recipient_user=user, link=request_link(req),
                         **context)


def document_attachment(document: Document, language: str) -> outbox.Attachment:
    """An issued document as an e-mail attachment: its stored bytes, named in the reader's language. The
    bytes are kept with the queued e-mail, so that a retry sends the very file that was issued."""
    return outbox.Attachment(document.download_name(language), "application/pdf", read_document(document))


def _notify_contact(template: str, contact: DesignatedContact, req: Request, **context) -> None:
    """Queue an e-mail about `req` to a designated contact, in its language and zone (a contact carries the
    name, language and time zone the templates read from a recipient). Never with item addresses."""
    outbox.enqueue_email(template, recipient=contact.email, language=contact.language, req=req,
                         recipient_user=contact, link=request_link(req), **context)
