"""Lists and look-ups: what a user may see of requests, one page at a time."""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased

from portal.accounts.models import Organisation, User
from portal.core import clock, policy
from portal.core.memo import Memo
from portal.core.exceptions import NotFound, ValidationError
from portal.core.pagination import keyset_page
from portal.extensions import db
from portal.requests.models import (
    STATUSES,
    UNISSUED,
    Attachment,
    ExtensionRequest,
    InternalNote,
    Request,
    RequestEvent,
    RequestItem,
    RequestMessage,
    issued,
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
    requests: list  # Request objects, or rows of the list's columns (list_requests(rows=True))
    next_after: str | None
    total: int | None = None  # every request matching the filters, when asked for


PAGE_SIZE = 50
MAX_CURSOR = 200


@dataclass(frozen=True)
class Sort:
    """One order of the list: the column, its direction, and how its value travels in a page link."""
    column: object
    descending: bool
    value_of: Callable[[Request], object]
    read: Callable[[str], object]  # the value back from a page link's text; ValueError when it is not one


def _status_rank():
    # The lifecycle's order, not the codes' alphabetical one.
    return case({status: rank for rank, status in enumerate(STATUSES)}, value=Request.status, else_=len(STATUSES))


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(text)
    return moment


def _sorts() -> dict[str, Sort]:
    by_deadline = (Request.deadline, lambda r: r.deadline, _aware)
    by_issue = (Request.issued_at, lambda r: r.issued_at, _aware)
    by_reference = (Request.reference, lambda r: r.reference, str)
    by_status = (_status_rank(), lambda r: STATUSES.index(r.status), int)
    sorts = {}
    for name, (column, value_of, read) in (("deadline", by_deadline), ("issued", by_issue),
                                           ("reference", by_reference), ("status", by_status)):
        sorts[name] = Sort(column, False, value_of, read)
        sorts["-" + name] = Sort(column, True, value_of, read)
    return sorts


# The orders a list may be asked for (`?sort=`, "-" for the reverse); anything else is the default.
SORTS = _sorts()
DEFAULT_SORT = "deadline"
# The direction a column's heading first sorts by: the newest issued first, the rest ascending.
FIRST_SORT = {"deadline": "deadline", "issued": "-issued", "reference": "reference", "status": "status"}


def sort_of(asked: str | None) -> str:
    """The order asked for when it is one of SORTS, else the default: an unknown value is no error."""
    return asked if asked in SORTS else DEFAULT_SORT


def sort_direction(column: str, sort: str) -> str | None:
    """"ascending" or "descending" when the list is sorted by `column` (its heading's aria-sort), else None."""
    if sort.lstrip("-") != column:
        return None
    return "descending" if sort.startswith("-") else "ascending"


def next_sort(column: str, sort: str) -> str:
    """The order a click on `column`'s heading asks for: the reverse when sorted by it, else its first order."""
    if sort.lstrip("-") == column:
        return column if sort.startswith("-") else "-" + column
    return FIRST_SORT[column]


def read_cursor(after: str | None, sort: str = DEFAULT_SORT) -> str | None:
    """A page link's `after` ("value|id" of the last request shown) checked against the list's order."""
    if not after:
        return None
    _decode_after(after, SORTS[sort])
    return after


# What a list page shows of each request, read as plain rows: fifty ORM objects, each with its two
# organisations joined, cost more than the rest of the query. `counterpart_name_*`: the other side's name
# (the agency for a platform's staff, else the platform).
@cache  # built on first use: aliasing a model at import would configure the mappers too early
def _listed():
    counterpart = aliased(Organisation, name="counterpart")
    columns = (
        Request.id, Request.reference, Request.request_type, Request.category, Request.priority,
        Request.item_count, Request.status, Request.is_open, Request.notice_ready_at.is_(None).label("notice_pending"),
        Request.issued_at, Request.deadline, Request.very_overdue_from,
        counterpart.name_ko.label("counterpart_name_ko"), counterpart.name_en.label("counterpart_name_en"))
    return counterpart, columns


# A list's row as a named tuple: its fields are read a dozen times per row, and a database row looks
# each name up in a mapping.
ListedRequest = namedtuple("ListedRequest", (
    "id", "reference", "request_type", "category", "priority", "item_count", "status", "is_open", "notice_pending",
    "issued_at", "deadline", "very_overdue_from", "counterpart_name_ko", "counterpart_name_en"))


def list_requests(user: User, filters: Filters, after: str | None = None, limit: int | None = None,
                  sort: str = DEFAULT_SORT, count: bool = False, rows: bool = False) -> Page:
    """Requests `user` may see, in the order `sort` names (then by id), one keyset page at a time (`after`:
    "value|id" of the last one shown); `count`: also how many match the filters in all. `rows`: the page
    holds rows of the list's columns (`_listed`) instead of Request objects."""
    limit = limit or PAGE_SIZE
    sort = sort_of(sort)
    order = SORTS[sort]
    params = {"now": clock.now()}
    if after:
        params["after_value"], params["after_id"] = _decode_after(after, order)
    # Everything the statements are built from: who looks (see policy.scoped and the unread filter), the
    # filters and the page's shape.
    key = (user.id, user.role, user.organisation_id, user.organisation.kind, tuple(vars(filters).values()), sort,
           bool(after), limit, rows, count)
    listed, counted = _STATEMENTS.get(key, lambda: _statements(user, filters, sort, bool(after), limit, rows, count))
    total = None
    if rows:  # through the connection, not the ORM session: nothing of them is an object to track
        found = db.session.connection().execute(listed, params).all()
        if count and found:  # the page's rows carry the count, last (an empty page asks for it below)
            total = found[0][-1]
            found = [ListedRequest._make(row[:-1]) for row in found]
        else:
            found = [ListedRequest._make(row) for row in found]
    else:
        found = db.session.scalars(listed, params).all()
    if count and total is None:
        total = db.session.connection().execute(counted, params).scalar()

    def cursor(row: Request) -> str:  # "value|id" of the order's column: where the next page starts
        value = order.value_of(row)
        return f"{value.isoformat() if isinstance(value, datetime) else value}|{row.id}"

    page = keyset_page(found, limit, key=cursor)
    return Page(page.items, page.next_key, total)


# A list's two statements, built once per key: building them again for every page cost more than running
# them. The moment and the cursor's values are bound when they run.
_STATEMENTS = Memo(1024)


def _statements(user: User, filters: Filters, sort: str, paged: bool, limit: int, rows: bool, count: bool):
    """(the page's select, its count). Rows with `count` carry the count too, as column `total`: one statement
    and one round trip fewer (the subquery runs once, not per row)."""
    order = SORTS[sort]
    kind, organisation_id = user.organisation.kind, user.organisation_id
    query = policy.scoped(select(Request), Request, user, "request.view")
    if kind != "platform":  # a platform's scope (Request.scope_clause_for) leaves them out already
        query = query.where(issued(Request.status))
    # `is_open` as it is, not `IS 1`: SQLite checks the count's thousand index entries faster with `= 1`.
    if filters.status == "open":
        query = query.where(Request.is_open)
    elif filters.status != "all":
        query = query.where(Request.status == filters.status)
    for name, column in (("request_type", Request.request_type), ("priority", Request.priority),
                         ("category", Request.category)):
        value = getattr(filters, name)
        if value:
            query = query.where(column == value)
    if filters.overdue:
        query = query.where(Request.is_open, Request.deadline <= bindparam("now"))
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
        if kind == "platform":
            matching = matching.where(RequestItem.platform_id == organisation_id)
        query = query.where(Request.id.in_(matching))
    counted = select(func.count()).select_from(Request).where(query.whereclause)
    if rows:
        counterpart, columns = _listed()
        side = Request.agency_id if kind == "platform" else Request.platform_id
        if count:
            columns = (*columns, counted.scalar_subquery().label("total"))
        query = select(*columns).join(counterpart, counterpart.id == side).where(query.whereclause)
    column = order.column
    if paged:
        value, last_id = bindparam("after_value"), bindparam("after_id")
        if order.descending:
            query = query.where(or_(column < value, and_(column == value, Request.id < last_id)))
        else:
            query = query.where(or_(column > value, and_(column == value, Request.id > last_id)))
    ordering = (column.desc(), Request.id.desc()) if order.descending else (column, Request.id)
    return query.order_by(*ordering).limit(limit + 1), counted


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


def _decode_after(after: str, order: Sort):
    try:
        if len(after) > MAX_CURSOR:
            raise ValueError(after)
        value, last_id = after.rsplit("|", 1)
        return order.read(value), int(last_id)
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
