"""Racing transitions against a real server: 8 threads call the API of one gunicorn (4 workers) at once.

Each test makes its data through the factories and commits it, then 8 threads wait at a barrier and fire
the same transition (or withdraw against close) with bearer tokens. Exactly one call may succeed; the
others must be a clean 409, never a 5xx, and the request must carry exactly one of what the transition
makes (notice, acknowledgement, pending extension, final document).

On PostgreSQL the server uses the run's test database (PORTAL_TEST_DATABASE_URL; each test's `app` fixture
truncates its tables first). On SQLite it uses a database file of this module, copied from the template once:
there every writer takes the database's lock, so the test is cheap and proves the same rules.

Run only these: `pytest -m concurrency`.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.core.documents import Document
from portal.extensions import db
from portal.requests.models import ExtensionRequest, Request, RequestCounter, RequestEvent
from portal.requests.notices import CLOSURE, NOTICE, WITHDRAWAL
from tests.api_support import token_for
from tests.conftest import EnglishClient, PG_URL, _config, _truncate_all

pytestmark = pytest.mark.concurrency

ROOT = Path(__file__).resolve().parents[1]
THREADS = 8
WORKERS = 4


@dataclass
class Server:
    host: str
    port: int
    uri: str
    instance: Path
    process: subprocess.Popen
    log: Path


def _free_socket() -> socket.socket:
    """A listening socket on a free loopback port, handed to gunicorn (`fd://`): no race for the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _server_config(uri: str) -> dict:
    """The tests' settings (conftest `_config`), as an instance/config.py the server reads."""
    return {key: value for key, value in _config(uri, "").items() if key != "INSTANCE_PATH"}


def _wait_healthy(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.process.returncode}):\n{server.log.read_text()[-3000:]}")
        try:
            status, _body = _call(server, "GET", "/healthz", None, timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer in {timeout} s:\n{server.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(database_template, tmp_path_factory):
    """gunicorn with 4 workers over the module's database, started once and stopped cleanly."""
    instance = tmp_path_factory.mktemp("race-instance")
    if PG_URL:
        uri = PG_URL
    else:
        path = instance / "portal.sqlite3"
        shutil.copyfile(database_template, path)
        uri = f"sqlite:///{path}"
    lines = [f"{key} = {value!r}" for key, value in _server_config(uri).items()]
    (instance / "config.py").write_text("\n".join(lines) + "\n")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PORTAL_") and key != "DATABASE_URL"}
    env.update({"PORTAL_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT)})
    sock = _free_socket()
    host, port = sock.getsockname()
    log = instance / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--preload", "--bind",
             f"fd://{sock.fileno()}", "--graceful-timeout", "5", "--timeout", "60", "--log-level", "warning",
             "portal:create_app()"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, pass_fds=(sock.fileno(),))
    sock.close()  # gunicorn holds its own copy
    running = Server(host, port, uri, instance, process, log)
    try:
        _wait_healthy(running)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)  # graceful: workers finish what they serve, then exit
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def app(server, database_template, tmp_path):
    """The test's app over the server's database (this module's own `app`: the server sees what it makes)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    application = create_app(_config(server.uri, instance))
    application.test_client_class = EnglishClient
    with application.app_context():
        if PG_URL:
            _truncate_all()
        db.engine.dispose()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _call(server: Server, method: str, path: str, token: str | None, body: dict | None = None,
          timeout: float = 60) -> tuple[int, dict | None]:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        headers = {"Accept": "application/json", "Accept-Language": "en"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, {"raw": raw[:500].decode("utf-8", "replace")}
    finally:
        connection.close()


def _race(server: Server, calls: list[tuple[str, str, dict | None]]) -> list[tuple[int, dict | None]]:
    """Each (token, path, body) POSTed from its own thread, all released at once by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def fire(index: int, token: str, path: str, body: dict | None) -> None:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
        connection.connect()  # connected before the barrier: only the requests race
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "Accept-Language": "en",
                   "Content-Type": "application/json"}
        payload = json.dumps(body or {}).encode()
        try:
            barrier.wait(timeout=30)
            connection.request("POST", path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            try:
                results[index] = (response.status, json.loads(raw) if raw else None)
            except ValueError:
                results[index] = (response.status, {"raw": raw[:500].decode("utf-8", "replace")})
        except Exception as exc:  # noqa: BLE001 -- reported below as a failed call, not a hung thread
            results[index] = (0, {"exception": repr(exc)})
        finally:
            connection.close()

    threads = [threading.Thread(target=fire, args=(n, *call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return results


def _assert_one_success(results, server: Server) -> int:
    """Exactly one 2xx, every other a 409 with the API's error body; returns the index of the winner."""
    statuses = [status for status, _ in results]
    log = server.log.read_text()[-3000:] if any(s >= 500 or s == 0 for s in statuses) else ""
    assert not [s for s in statuses if s >= 500 or s == 0], f"server errors: {results}\n{log}"
    winners = [n for n, status in enumerate(statuses) if 200 <= status < 300]
    assert len(winners) == 1, f"{len(winners)} calls succeeded, not 1: {statuses}"
    for n, (status, body) in enumerate(results):
        if n != winners[0]:
            assert status == 409, (status, body)
            assert body and body.get("error"), body
    return winners[0]


def _tokens(app, user, count: int = THREADS) -> list[str]:
    return [token_for(app, user) for _ in range(count)]


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _events(request_id: int, action: str) -> int:
    return _count(RequestEvent, RequestEvent.request_id == request_id, RequestEvent.action == action)


def test_approve_at_once_issues_one_notice_and_one_reference(app, make, server):
    parties = make.parties()
    request_id = make.request(parties, "awaiting_approval")
    tokens = _tokens(app, parties.supervisor)
    results = _race(server, [(token, f"/api/v1/requests/{request_id}/approve", None) for token in tokens])
    winner = _assert_one_success(results, server)
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert req.status == "issued"
        assert results[winner][1]["reference"] == req.reference
        assert _events(request_id, "issue") == 1
        # One number allocated, one signed notice: no orphans that would still pass /verify.
        assert db.session.scalar(select(func.sum(RequestCounter.last_number))
                                 .where(RequestCounter.agency_id == parties.agency)) == 1
        notices = db.session.scalars(select(Document).where(Document.kind == NOTICE,
                                                            Document.issuer_organisation_id == parties.agency)).all()
        assert [d.reference for d in notices] == [req.reference]


def test_acknowledge_at_once_records_one_acknowledgement(app, make, server):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    agents = [parties.agent, parties.platform_admin] * (THREADS // 2)
    tokens = [token_for(app, user) for user in agents]
    results = _race(server, [(token, f"/api/v1/requests/{request_id}/acknowledge", None) for token in tokens])
    _assert_one_success(results, server)
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert req.status == "acknowledged" and req.acknowledged_at is not None
        assert _events(request_id, "acknowledge") == 1


def test_extension_requests_at_once_leave_one_pending(app, make, server):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    tokens = _tokens(app, parties.agent)
    calls = [(token, f"/api/v1/requests/{request_id}/extension", {"reason": f"More time, please ({n})"})
             for n, token in enumerate(tokens)]
    results = _race(server, calls)
    winner = _assert_one_success(results, server)
    assert results[winner][0] == 201
    with app.app_context():
        pending = db.session.scalars(select(ExtensionRequest).where(ExtensionRequest.request_id == request_id)).all()
        assert [(e.status, e.id) for e in pending] == [("pending", results[winner][1]["id"])]
        assert _events(request_id, "extension_requested") == 1


def test_withdraw_racing_close_ends_once_with_one_document(app, make, server):
    parties = make.parties()
    request_id = make.request(parties, "responded_fully")
    tokens = _tokens(app, parties.officer)
    calls = [(token, f"/api/v1/requests/{request_id}/withdraw", {"reason": "No longer needed"}) if n % 2 else
             (token, f"/api/v1/requests/{request_id}/close", None) for n, token in enumerate(tokens)]
    results = _race(server, calls)
    winner = _assert_one_success(results, server)
    won = "withdraw" if winner % 2 else "close"
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert req.status == ("withdrawn" if won == "withdraw" else "closed")
        assert _events(request_id, "withdraw") + _events(request_id, "close") == 1
        final = db.session.scalars(select(Document.kind).where(Document.reference == req.reference,
                                                               Document.kind.in_((WITHDRAWAL, CLOSURE)))).all()
        assert final == [WITHDRAWAL if won == "withdraw" else CLOSURE]
