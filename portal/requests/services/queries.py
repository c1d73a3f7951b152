"""Lists and look-ups: what a user may see of requests, one page at a time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from portal.accounts.models import User
from portal.core import clock, policy
from portal.core.exceptions import NotFound, ValidationError
from portal.extensions import db
from portal.requests.models import (
    UNISSUED,
    Attachment,
    ExtensionRequest,
    InternalNote,
    Request,
    RequestEvent,
    RequestItem,
    RequestMessage,
)
from portal.requests import urls
from portal.requests.services.common import _chunks


@dataclass
class Filters:
    status: str = "open"  # "open", "all", or one status
    request_type: str | None = None
    priority: str | None = None
    category: str | None = None
    overdue: bool = False
    url_hash: str | tuple[str, ...] | None = None  # one address's hash, or the variants of one pasted address
    reference: str | None = None
    updated_since: datetime | None = None  # aware; the API's clients poll for changes with it
    text: str | None = None  # free search: a reference fragment, an address as pasted, a hash, summary words
    unread: bool = False  # only requests with messages to the user's side they have not read (services.reads)


@dataclass
class Page:
    requests: list[Request]
    next_after: str | None


PAGE_SIZE = 50


def list_requests(user: User, filters: Filters, after: str | None = None, limit: int | None = None) -> Page:
    """Requests `user` may see, by deadline then id, one keyset page at a time (`after`: "deadline|id")."""
    limit = limit or PAGE_SIZE
    query = policy.scoped(select(Request), Request, user, "request.view")
    query = query.where(Request.status.notin_(UNISSUED))
    if filters.status == "open":
        query = query.where(Request.is_open.is_(True))
    elif filters.status != "all":
        query = query.where(Request.status == filters.status)
    for name, column in (("request_type", Request.request_type), ("priority", Request.priority),
                         ("category", Request.category)):
        value = getattr(filters, name)
        if value:
            query = query.where(column == value)
    if filters.overdue:
        query = query.where(Request.is_open.is_(True), Request.deadline <= clock.now())
    if filters.reference:
        query = query.where(Request.reference == filters.reference)
    if filters.updated_since:
        query = query.where(Request.updated_at >= filters.updated_since)
    if filters.text:
        query = query.where(_matches_text(user, filters.text))
    if filters.unread:
        from portal.requests.services.reads import unread_request_ids

        query = query.where(Request.id.in_(unread_request_ids(user)))
    if filters.url_hash:
        wanted = [filters.url_hash] if isinstance(filters.url_hash, str) else list(filters.url_hash)
        matching = select(RequestItem.request_id).where(RequestItem.url_hash.in_(wanted))
        if user.organisation.kind == "platform":
            matching = matching.where(RequestItem.platform_id == user.organisation_id)
        query = query.where(Request.id.in_(matching))
    if after:
        deadline, last_id = _decode_after(after)
        query = query.where(or_(Request.deadline > deadline,
                                and_(Request.deadline == deadline, Request.id > last_id)))
    rows = db.session.scalars(query.order_by(Request.deadline, Request.id).limit(limit + 1)).all()
    next_after = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_after = f"{rows[-1].deadline.isoformat()}|{rows[-1].id}"
    return Page(rows, next_after)


def address_hashes(text: str) -> set[str]:
    """The url_hash of every address `text` may mean as users paste it: normalised like items, with https://
    or http:// when it has no scheme, and with and without a trailing slash."""
    text = text.strip()
    candidates = [text] if "://" in text else [f"https://{text}", f"http://{text}"]
    hashes = set()
    for candidate in candidates:
        variants = {candidate, candidate.rstrip("/")} | (set() if "?" in candidate else {candidate + "/"})
        for variant in variants:
            try:
                hashes.add(urls.url_hash(urls.normalise_url(variant)))
            except urls.InvalidURL:
                continue
    return hashes


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _matches_text(user: User, text: str):
    """One free search: a request matches when its reference contains the text, one of its items is the address
    or carries the hash, or its summary (either language) holds every word. Items of a platform's requests are
    matched within that platform only, as the url_hash filter does."""
    text = text.strip()[:2000]
    items = select(RequestItem.request_id)
    if user.organisation.kind == "platform":
        items = items.where(RequestItem.platform_id == user.organisation_id)
    item_terms = []
    hashes = address_hashes(text)
    if hashes:
        item_terms.append(RequestItem.url_hash.in_(hashes))
    lowered = text.lower()
    if len(lowered) == 64 and all(c in "0123456789abcdef" for c in lowered):
        item_terms += [RequestItem.sha256 == lowered, RequestItem.url_hash == lowered]
    elif len(lowered) == 32 and all(c in "0123456789abcdef" for c in lowered):
        item_terms.append(RequestItem.md5 == lowered)
    terms = [Request.reference.ilike(_like(text), escape="\\")]
    if item_terms:
        terms.append(Request.id.in_(items.where(or_(*item_terms))))
    words = text.split()
    if words:
        terms.append(and_(*(or_(Request.summary_ko.ilike(_like(w), escape="\\"),
                                Request.summary_en.ilike(_like(w), escape="\\")) for w in words[:10])))
    return or_(*terms)


def _decode_after(after: str):
    try:
        deadline, last_id = after.rsplit("|", 1)
        return datetime.fromisoformat(deadline), int(last_id)
    except ValueError:
        raise ValidationError("after", _l("This page link is not valid.")) from None


def unissued_requests(user: User, limit: int = 100) -> list[Request]:
    """An agency's drafts and requests awaiting approval, newest first (bounded)."""
    query = policy.scoped(select(Request), Request, user, "request.draft")
    return db.session.scalars(query.where(Request.status.in_(UNISSUED))
                              .order_by(Request.updated_at.desc(), Request.id.desc()).limit(limit)).all()


def items_page(req: Request, after_position: int = 0, limit: int = 1000) -> list[RequestItem]:
    return db.session.scalars(select(RequestItem).where(RequestItem.request_id == req.id,
                                                        RequestItem.position > after_position)
                              .order_by(RequestItem.position).limit(limit)).all()


ITEM_COLUMNS = (RequestItem.id, RequestItem.position, RequestItem.url, RequestItem.url_hash, RequestItem.sha256,
                RequestItem.md5, RequestItem.pdq, RequestItem.note, RequestItem.outcome, RequestItem.decline_reason)


def item_rows(req: Request, after_position: int = 0, limit: int = 1000):
    """Items for display: plain rows, not tracked entities (a page shows up to 1,000)."""
    return db.session.execute(select(*ITEM_COLUMNS).where(RequestItem.request_id == req.id,
                                                          RequestItem.position > after_position)
                              .order_by(RequestItem.position).limit(limit)).all()


def get_item(req: Request, item_id: int) -> RequestItem:
    item = db.session.get(RequestItem, item_id)
    if item is None or item.request_id != req.id:
        raise NotFound(_l("Item not found."))
    return item


def item_neighbours(req: Request, item: RequestItem) -> tuple[int | None, int | None]:
    """The ids of the items before and after `item` in its request, by position (None at either end)."""
    base = select(RequestItem.id).where(RequestItem.request_id == req.id)
    before = db.session.scalar(base.where(RequestItem.position < item.position)
                               .order_by(RequestItem.position.desc()).limit(1))
    after = db.session.scalar(base.where(RequestItem.position > item.position).order_by(RequestItem.position).limit(1))
    return before, after


def earlier_requests(user: User, req: Request, url_hashes: list[str]) -> dict[str, list[tuple[int, str]]]:
    """For each address, the other issued requests to the same platform that `user` may see and that
    carried it: {url_hash: [(request id, reference), ...]}."""
    found: dict[str, list[tuple[int, str]]] = {}
    for chunk in _chunks(url_hashes):
        query = (select(RequestItem.url_hash, Request.id, Request.reference)
                 .join(Request, Request.id == RequestItem.request_id)
                 .where(RequestItem.platform_id == req.platform_id, RequestItem.url_hash.in_(chunk),
                        RequestItem.request_id != req.id, Request.status.notin_(UNISSUED))
                 .order_by(Request.issued_at))
        query = policy.scoped(query, Request, user, "request.view")
        for url_hash, request_id, reference in db.session.execute(query):
            found.setdefault(url_hash, []).append((request_id, reference))
    return found


def history(user: User, req: Request) -> list[RequestEvent]:
    query = select(RequestEvent).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id)
    if user.organisation_id != req.agency_id:
        query = query.where(RequestEvent.internal.is_(False))
    return db.session.scalars(query).all()


def messages(req: Request) -> list[RequestMessage]:
    return db.session.scalars(select(RequestMessage).where(RequestMessage.request_id == req.id)
                              .order_by(RequestMessage.id)).all()


def notes(user: User, req: Request) -> list[InternalNote]:
    if not policy.can(user, "request.note", req):
        return []
    return db.session.scalars(select(InternalNote).where(InternalNote.request_id == req.id)
                              .order_by(InternalNote.id)).all()


def attachments_of(req: Request) -> list[Attachment]:
    return db.session.scalars(select(Attachment).where(Attachment.request_id == req.id)
                              .order_by(Attachment.id)).all()


def extensions_of(req: Request) -> list[ExtensionRequest]:
    return db.session.scalars(select(ExtensionRequest).where(ExtensionRequest.request_id == req.id)
                              .order_by(ExtensionRequest.id)).all()


def outcome_counts(req: Request) -> dict[str | None, int]:
    return dict(db.session.execute(select(RequestItem.outcome, func.count())
                                   .where(RequestItem.request_id == req.id).group_by(RequestItem.outcome)).all())
