"""One way to page through lists.

Keyset pages for everything long (requests, items, audit events, outbox): the query asks for one row more
than a page, and whether that row came back says if another page follows; the next page starts after the
key of the last row shown, so a page never shifts when rows are added. Numbered pages only for short lists
that people browse by number (users), with the number kept in range.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select

from portal.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    items: list[T]
    next_key: object | None  # where the next page starts (after this key); None on the last page
    previous_key: object | None = None  # for lists paged both ways: where the page before this one ends

    @property
    def more(self) -> bool:
        return self.next_key is not None


def keyset_page(rows: Sequence[T], limit: int, key: Callable[[T], object]) -> KeysetPage[T]:
    """The page of `rows` fetched with `limit + 1`: at most `limit` of them, and the key to go on from."""
    shown = list(rows[:limit])
    return KeysetPage(shown, key(shown[-1]) if len(rows) > limit and shown else None)


@dataclass(frozen=True)
class NumberedPage(Generic[T]):
    items: list[T]
    number: int
    pages: int
    total: int


def numbered_page(query: Select, number: int, per_page: int) -> NumberedPage:
    """Page `number` (from 1, kept within the pages there are) of the entities `query` selects."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(1, number), pages)
    items = list(db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)).all())
    return NumberedPage(items, number, pages, total)
