"""Database types shared by every domain: aware UTC timestamps. How transactions begin: core/transaction."""
from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from portal.core.clock import UTC


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always gives back aware UTC datetimes (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: the portal stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect, coltype):
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        general = super().result_processor(dialect, coltype)

        # SQLite gives back the naive UTC text SQLAlchemy stored ("2026-11-25 05:00:00.000000"): read with its
        # zone in one call. The dialect's reader and then `replace(tzinfo=)`, whose keyword parsing alone
        # costs more than the reading, were a tenth of a list page's instructions.
        def process(value):
            if value is None:
                return None
            try:
                return datetime.fromisoformat(value + "+00:00")
            except (TypeError, ValueError):  # not that text (a value written with its offset): the general way
                return general(value)
        return process

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def one_of(column: str, values) -> str:
    """The SQL of a CHECK constraint that keeps `column` within `values` (a domain's fixed vocabulary)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def insert_or_update(model, session):
    """An INSERT of `model` that can say what to do ON CONFLICT (`on_conflict_do_update`), in the dialect of
    the database `session` uses (SQLite or PostgreSQL, the two the portal runs on)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)
