"""The unit of work: one transaction per HTTP request, CLI command and worker job.

Views and services never commit or roll back. An HTTP request commits once, after the view, when nothing
was raised and the answer is below 400; otherwise everything it flushed is rolled back. CLI commands and
worker jobs run inside `unit_of_work()`, which does the same around a block.

GET and HEAD only read: their transaction begins deferred on SQLite (WAL lets them read while a writer
writes) and is read-only on both: SQLite's `PRAGMA query_only`; on PostgreSQL a read-only session whose
statements run without BEGIN and COMMIT (autocommit), so a write while a page renders is an error, not a
hidden lock. The few writes a read must make
(the audit row of a view or a download, a session's last-seen time) are handed to `write()`: in a read they
run after the page is built, in one short transaction of their own; elsewhere they run at once.

A refusal that must be kept although the request fails (an access denial's audit row) is handed to
`after()`: it runs in its own transaction after the request's own one ended, whichever way.

Slow work that needs the change committed first (rendering a large notice) is handed to `after_commit()`:
it runs only once the unit of work has committed, with no transaction open, and opens its own (short)
ones -- `read_only()` to gather what it needs without a lock, `unit_of_work()` to record the result. It is
dropped when the unit rolls back; its failures are logged, and a job catches up on what it left undone.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, Response, g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.extensions import db

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# True while a GET or HEAD builds its answer; read by the engine when a transaction begins.
_reading: ContextVar[bool] = ContextVar("portal_reading", default=False)


def reading() -> bool:
    """Whether the current unit of work may only read."""
    return _reading.get()


def write(work: Callable[[], object]) -> None:
    """Run `work` now when writing; in a read, after the answer is built, in a short write transaction."""
    if reading():
        g.setdefault("_deferred_writes", []).append(work)
    else:
        work()


def after(work: Callable[[], object]) -> None:
    """Run `work` in a transaction of its own once the request's own transaction has ended either way."""
    g.setdefault("_deferred_writes", []).append(work)


def discard() -> None:
    """Drop what a refused service flushed, so the rest of the request sees the state before it."""
    db.session.rollback()


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit once when the block ends normally, roll back when it raises (CLI commands, worker jobs)."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    run_after_commit()


# --- After the commit ---------------------------------------------------------------------------------------

_AFTER_COMMIT = "portal.after_commit"  # waiting for the transaction to commit
_COMMITTED = "portal.committed_work"   # its transaction committed: to run once the unit has ended


def after_commit(work: Callable[[], object]) -> None:
    """Run `work` once the current transaction has committed (never if it rolls back), outside it."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(work)


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    waiting = session.info.pop(_AFTER_COMMIT, None)
    if waiting:
        session.info.setdefault(_COMMITTED, []).extend(waiting)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def run_after_commit() -> None:
    """Run the work handed to `after_commit()` whose transaction committed; each failure is logged."""
    while True:
        committed = db.session.info.pop(_COMMITTED, None)
        if not committed:
            return
        for work in committed:
            try:
                work()
            except Exception:  # the job that catches up retries it; the committed change stands
                log.exception("work after commit failed")
                if db.session().in_transaction():
                    db.session.rollback()


@contextmanager
def read_only() -> Iterator[None]:
    """A short read-only transaction (no write lock on SQLite, READ ONLY on PostgreSQL), ended on exit."""
    if db.session().in_transaction():
        raise RuntimeError("read_only() begins its own transaction: end the open one first")
    token = _reading.set(True)
    try:
        yield
    finally:
        db.session.rollback()
        _reading.reset(token)


# --- HTTP requests ---------------------------------------------------------------------------------------

def _begin_request() -> None:
    g._unit_token = _reading.set(request.method in READ_METHODS)


def _end_request(response: Response) -> Response:
    if g.get("_unit_done"):  # after_request runs again for the 500 of a failed commit
        return response
    g._unit_done = True
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    _run_deferred()
    run_after_commit()
    return response


def _run_deferred() -> None:
    deferred = g.pop("_deferred_writes", [])
    if not deferred:
        return
    token = _reading.set(False)
    try:
        with unit_of_work():
            for work in deferred:
                work()
    except SQLAlchemyError:
        # The answer is built and correct; a bookkeeping write that could not get the database (a writer
        # held SQLite's lock past the busy timeout) must not turn it into a 500. It is logged, loudly.
        log.exception("deferred writes of %s %s failed", request.method, request.path)
    finally:
        _reading.reset(token)


def _teardown_request(exc: BaseException | None) -> None:
    token = g.pop("_unit_token", None)
    if token is None:  # a request context that dispatched nothing (a test's or a shell's)
        return
    if exc is not None or not g.pop("_unit_done", False):
        db.session.rollback()
    g.pop("_deferred_writes", None)
    _reading.reset(token)


# --- Engine: how transactions begin ---------------------------------------------------------------------

_QUERY_ONLY = "portal.query_only"  # the SQLite connection's query_only as last set (its record's info)
_READ_ONLY = "portal.read_only"  # the PostgreSQL session's default as last set

def configure_engine(engine: Engine) -> None:
    """Begin read transactions read-only, and write transactions on SQLite with the writer's lock."""
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin_sqlite(conn):
            # Writers take the lock when they begin, so two never both read a counter or the audit head
            # and then collide; readers begin deferred and never wait for a writer (WAL).
            # On the driver's own connection: through SQLAlchemy's execution each was a tenth of a page.
            # A connection its caller put in autocommit is left so (no BEGIN), and may write.
            own = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
            driver = conn.connection.driver_connection
            read = reading() and not own
            # Set only when it changes: like every flag pragma, query_only expires the connection's prepared
            # statements, and each page's first statements were compiled again (a tenth of a millisecond).
            if conn.connection.info.get(_QUERY_ONLY) is not read:
                driver.execute(f"PRAGMA query_only = {'ON' if read else 'OFF'}")
                conn.connection.info[_QUERY_ONLY] = read
            if not own:
                driver.execute("BEGIN" if read else "BEGIN IMMEDIATE")
    elif engine.dialect.name == "postgresql":
        @event.listens_for(engine, "begin")
        def _on_begin_postgresql(conn):
            # A read's statements run in autocommit on a read-only session: no BEGIN and no COMMIT, two of a
            # page's four round trips. Under READ COMMITTED each statement of a transaction sees its own
            # snapshot anyway, so a page reads what it read before. The session's mode is set only when it
            # changes (a statement of its own); a write's transaction begins as psycopg begins it.
            driver = conn.connection.driver_connection
            # A connection its caller put in autocommit (VACUUM, CREATE DATABASE) is left so, and may write.
            own = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
            read = reading() and not own
            if conn.connection.info.get(_READ_ONLY) is not read:
                driver.autocommit = True
                driver.execute(f"SET SESSION CHARACTERISTICS AS TRANSACTION READ {'ONLY' if read else 'WRITE'}")
                conn.connection.info[_READ_ONLY] = read
            driver.autocommit = read or own


def init_app(app: Flask) -> None:
    """Register before any other before_request that may touch the database."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin_request)
    app.after_request_funcs.setdefault(None, []).append(_end_request)
    app.teardown_request(_teardown_request)
    with app.app_context():
        configure_engine(db.engine)
