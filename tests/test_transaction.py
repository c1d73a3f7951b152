"""The unit of work (portal/core/transaction.py), through the public surface: small routes, a command and
jobs registered by the tests themselves.

A request commits once when it answers below 400 and rolls back otherwise; a GET may not write while it
renders (its deferred writes run after the page); `after()` work survives a rollback; CLI commands and
worker jobs each roll back alone; on SQLite a reader never waits for a writer's lock.
"""
import itertools
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from portal.accounts.models import Organisation
from portal.core import jobs, policy, transaction
from portal.core.exceptions import Conflict, PermissionDenied
from portal.extensions import db
from tests.conftest import PG_URL

_codes = itertools.count(1)


def _organisation(code: str) -> Organisation:
    return Organisation(code=code, kind="platform", name_ko="시험", name_en="Test", country="US",
                        timezone="UTC")


def _code() -> str:
    return f"UOW{next(_codes)}"


def _exists(app, code: str) -> bool:
    with app.app_context():
        return bool(db.session.scalar(select(func.count()).select_from(Organisation)
                                      .where(Organisation.code == code)))


def _route(app, rule: str, methods=("GET",)):
    """Register a public test-only view (before the app's first request)."""
    def decorate(view):
        view = policy.access(policy.PUBLIC)(view)
        app.add_url_rule(rule, endpoint=f"uow_{view.__name__}", view_func=view, methods=list(methods))
        return view
    return decorate


# --- Reads -----------------------------------------------------------------------------------------------

def test_a_write_in_a_get_that_is_not_deferred_is_refused(app, client):
    code, refused = _code(), []

    @_route(app, "/uow/write-in-read")
    def write_in_read():
        db.session.add(_organisation(code))
        try:
            db.session.flush()
        except DBAPIError as exc:  # SQLite: query_only; PostgreSQL: a read-only transaction
            refused.append(exc)
            raise
        return "written"

    response = client.get("/uow/write-in-read")
    assert response.status_code == 500
    assert len(refused) == 1 and "read" in str(refused[0].orig).lower()  # "readonly" / "read-only"
    assert not _exists(app, code)


def test_a_deferred_write_in_a_get_runs_after_the_page_and_is_committed(app, client):
    code, ran = _code(), []

    def record():
        db.session.add(_organisation(code))
        ran.append(code)

    @_route(app, "/uow/deferred")
    def deferred():
        transaction.write(record)
        return "before" if not ran else "during"  # the write has not run while the page is built

    response = client.get("/uow/deferred")
    assert response.status_code == 200 and response.data == b"before"
    assert ran == [code] and _exists(app, code)


def test_a_deferred_write_that_cannot_get_the_database_leaves_the_page_as_built(app, client, caplog):
    def locked():
        raise OperationalError("UPDATE sessions", {}, sqlite3.OperationalError("database is locked"))

    @_route(app, "/uow/deferred-locked")
    def deferred_locked():
        transaction.write(locked)
        return "the page"

    response = client.get("/uow/deferred-locked")
    assert response.status_code == 200 and response.data == b"the page"
    assert "deferred writes of GET /uow/deferred-locked failed" in caplog.text


def test_a_get_is_read_only_while_it_renders(app, client):
    seen = []

    @_route(app, "/uow/reading")
    def reading_view():
        seen.append(transaction.reading())
        return "ok"

    client.get("/uow/reading")
    client.head("/uow/reading")
    assert seen == [True, True]


def test_reads_and_writes_in_turn_on_the_same_connection_keep_their_modes(app, client):
    # SQLite's query_only is set only when it changes (core/transaction): a GET after a POST on the
    # connection the POST used is still refused a write, and a POST after a GET still writes.
    codes, refused = [_code() for _ in range(3)], []

    @_route(app, "/uow/turns", methods=("GET", "POST"))
    def turns():
        code = codes.pop(0)
        db.session.add(_organisation(code))
        try:
            db.session.flush()
        except DBAPIError:
            refused.append(code)
            raise
        return code

    written = [client.post("/uow/turns").data.decode(), None, None]
    assert client.get("/uow/turns").status_code == 500
    written[2] = client.post("/uow/turns").data.decode()
    assert len(refused) == 1 and not _exists(app, refused[0])
    assert all(_exists(app, code) for code in (written[0], written[2]))

def test_a_connection_put_in_autocommit_by_its_caller_may_write_after_a_read(app, client):
    # PostgreSQL reads run in autocommit on a read-only session (core/transaction): a connection its caller
    # asks to be in autocommit (VACUUM, which no transaction may hold) is neither read-only nor in a transaction.
    @_route(app, "/uow/read-before-vacuum")
    def read_before_vacuum():
        db.session.scalar(select(func.count()).select_from(Organisation))
        return "read"

    assert client.get("/uow/read-before-vacuum").status_code == 200
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            if db.engine.dialect.name == "postgresql":
                connection.exec_driver_sql("VACUUM ANALYZE organisations")
            connection.execute(Organisation.__table__.insert().values(
                code="UOWVAC", kind="platform", name_ko="시험", name_en="Test", country="US", timezone="UTC"))
    assert _exists(app, "UOWVAC")
    assert client.get("/uow/read-before-vacuum").status_code == 200  # and the next read is a read again


# --- Writes ----------------------------------------------------------------------------------------------

def test_a_post_commits_once_after_the_view(app, client):
    first, second, commits = _code(), _code(), []

    @_route(app, "/uow/post", methods=("POST",))
    def post():
        db.session.add(_organisation(first))
        db.session.flush()
        db.session.add(_organisation(second))
        db.session.flush()
        return "ok"

    with app.app_context():
        engine = db.engine
    listener = lambda _conn: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        response = client.post("/uow/post")
    finally:
        event.remove(engine, "commit", listener)
    assert response.status_code == 200 and len(commits) == 1
    assert _exists(app, first) and _exists(app, second)


def test_a_view_that_raises_rolls_back(app, client):
    code = _code()

    @_route(app, "/uow/raises", methods=("POST",))
    def raises():
        db.session.add(_organisation(code))
        db.session.flush()
        raise RuntimeError("something broke after the flush")

    assert client.post("/uow/raises").status_code == 500
    assert not _exists(app, code)


def test_a_domain_error_no_view_caught_rolls_back(app, client):
    code = _code()

    @_route(app, "/uow/conflict", methods=("POST",))
    def conflict():
        db.session.add(_organisation(code))
        db.session.flush()
        raise Conflict("no longer applies")

    assert client.post("/uow/conflict").status_code == 303  # flashed, back where the user was
    assert not _exists(app, code)


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_a_view_that_answers_an_error_status_rolls_back(app, client, status):
    code = _code()

    @_route(app, "/uow/answers", methods=("POST",))
    def answers():
        db.session.add(_organisation(code))
        db.session.flush()
        return "refused", status

    assert client.post("/uow/answers").status_code == status
    assert not _exists(app, code)


def test_after_work_runs_although_the_request_rolled_back(app, client):
    rolled_back, kept = _code(), _code()

    @_route(app, "/uow/after", methods=("POST",))
    def after_view():
        db.session.add(_organisation(rolled_back))
        db.session.flush()
        transaction.after(lambda: db.session.add(_organisation(kept)))
        raise PermissionDenied("test.denied")

    assert client.post("/uow/after").status_code == 403
    assert not _exists(app, rolled_back) and _exists(app, kept)


# --- Commands and jobs -------------------------------------------------------------------------------------

def test_a_cli_command_that_raises_rolls_back(app, runner, monkeypatch):
    # demo seed flushes organisations, users and tokens, then seeds the requests: let that step fail.
    import portal.requests.demo

    def failing_seed_requests():
        raise RuntimeError("seeding requests failed")

    monkeypatch.setattr(portal.requests.demo, "seed_requests", failing_seed_requests)
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert not _exists(app, "KCSC")
    assert not Path(app.instance_path, "demo-credentials.json").exists()


@pytest.fixture
def own_jobs(monkeypatch):
    """Jobs registered by a test stay in it: the registry is restored afterwards."""
    monkeypatch.setattr(jobs, "_jobs", {})
    return jobs


def test_a_job_that_raises_rolls_back_and_the_next_job_still_runs(app, runner, own_jobs):
    failed, done = _code(), _code()

    def failing():
        db.session.add(_organisation(failed))
        db.session.flush()
        raise RuntimeError("job failed after its flush")

    def succeeding():
        db.session.add(_organisation(done))
        return {"added": 1}

    own_jobs.register("uow-failing", failing, order=1)
    own_jobs.register("uow-succeeding", succeeding, order=2)
    result = runner.invoke(args=["worker", "--iterations", "1", "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert "uow-failing failed" in result.output and "uow-succeeding {'added': 1}" in result.output
    assert not _exists(app, failed) and _exists(app, done)


# --- SQLite: readers and the writer's lock ------------------------------------------------------------------

@pytest.mark.skipif(bool(PG_URL), reason="SQLite's write lock; PostgreSQL readers never take one")
def test_on_sqlite_a_reader_is_not_blocked_while_another_connection_holds_the_write_lock(app, client):
    with app.app_context():
        path = db.engine.url.database
    code, locked, release, problems = _code(), threading.Event(), threading.Event(), []

    def writer():
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")  # the writer's lock, held until released
            connection.execute("INSERT INTO organisations (code, kind, name_ko, name_en, country, timezone, "
                               "active, created_at) VALUES (?, 'platform', '시험', 'Test', 'US', 'UTC', 1, "
                               "'2026-01-01 00:00:00')", (code,))
            locked.set()
            release.wait(60)
            connection.execute("ROLLBACK")
        except Exception as exc:  # reported to the test below
            problems.append(exc)
            locked.set()
        finally:
            connection.close()

    @_route(app, "/uow/count")
    def count():
        return str(db.session.scalar(select(func.count()).select_from(Organisation)
                                     .where(Organisation.code == code)))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert locked.wait(10) and not problems
        response = client.get("/uow/count")  # would wait for the lock (busy timeout) if reads took it
    finally:
        release.set()
        thread.join(10)
    assert problems == []
    assert response.status_code == 200 and response.data == b"0"  # the writer's row is not committed
