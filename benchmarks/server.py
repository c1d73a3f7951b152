"""`python -m benchmarks.server [--requests N] [--items M] [--database URL] [--duration S]`

The inbox under a real server: gunicorn (2 workers, `wsgi:app`) over the generated data, loaded with `wrk`
(8 connections, a logged-in session cookie) on the platform inbox; then the page latency of that reader while
a writer holds the database's write lock (SQLite `BEGIN IMMEDIATE`; on PostgreSQL a transaction holding an
EXCLUSIVE lock on `requests`, which blocks every writer of requests but no reader), and while a
supervisor of another platform's agency issues a request of 10,000 items (its notice is rendered and signed).
Needs `wrk` (`apt-get install -y wrk`). Prints the figures; record them in benchmarks/README.md.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import pyotp
from sqlalchemy import select

from benchmarks.__main__ import arguments, generated_app
from portal.extensions import db

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 2
CONNECTIONS = 8
BIG_ITEMS = 10_000


# --- The server --------------------------------------------------------------------------------------------

@contextmanager
def gunicorn(app, workers: int = WORKERS, target: str = "wsgi:app"):
    """gunicorn serving `target` (the portal's `wsgi:app` over the app's database, or the bare Flask app of
    benchmarks/hello.py) on a free loopback port: yields (host, port)."""
    instance = Path(app.instance_path)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    settings = {"SECRET_KEY": "benchmark", "SQLALCHEMY_DATABASE_URI": uri, "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False, "PUBLIC_BASE_URL": "http://portal.bench"}
    (instance / "config.py").write_text("".join(f"{key} = {value!r}\n" for key, value in settings.items()))
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_") and key != "DATABASE_URL"}
    env.update({"PORTAL_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT)})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    sock.set_inheritable(True)
    host, port = sock.getsockname()
    log = instance / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"fd://{sock.fileno()}",
             "--timeout", "600", "--graceful-timeout", "10", "--log-level", "warning", target],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, pass_fds=(sock.fileno(),))
    sock.close()
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                if _get(host, port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield host, port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _get(host, port, path, headers=None, timeout=120) -> tuple[int, float]:
    """Status and seconds of one GET, on a new connection."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        started = time.perf_counter()
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def _call(host, port, method, path, headers=None, body: bytes | None = None, timeout=600):
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Set-Cookie"), response.getheader("Location"), response.read()
    finally:
        connection.close()


def login_cookie(host, port, email: str, password: str, secret: str) -> str:
    """The `Cookie:` value of a session logged in through the real pages (password, then TOTP)."""
    form = {"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en"}
    status, cookie, _, _ = _call(host, port, "POST", "/login", form,
                                 urllib.parse.urlencode({"email": email, "password": password}).encode())
    assert status == 302 and cookie, f"login: {status}"
    jar = cookie.split(";", 1)[0]
    code = pyotp.TOTP(secret).now()
    status, cookie, location, _ = _call(host, port, "POST", "/login/code", {**form, "Cookie": jar},
                                        urllib.parse.urlencode({"code": code}).encode())
    assert status == 302 and "/login" not in (location or ""), f"code: {status} {location}"
    jar = cookie.split(";", 1)[0] if cookie else jar
    # The first page puts the form token (CSRF) in the session, and a browser keeps the cookie it is given:
    # without this, every page of the load test would make a new token and send a new cookie.
    status, cookie, _, _ = _call(host, port, "GET", "/requests/", {"Cookie": jar, "Accept-Language": "en"})
    assert status == 200, f"first page: {status}"
    return cookie.split(";", 1)[0] if cookie else jar


# --- wrk ---------------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, cookie: str, duration: int, connections: int = CONNECTIONS) -> dict:
    """Requests/s, p50 and p99 (ms) of `wrk --latency`, and the count of answers that were not 2xx/3xx."""
    output = subprocess.run(
        ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{duration}s", "--timeout", "30s", "--latency",
         "-H", f"Cookie: {cookie}", "-H", "Accept-Language: en", url],
        capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rate": rate, "p50": p50, "p99": p99, "requests": total, "not_ok": int(bad.group(1)) if bad else 0,
            "output": output}


# --- A reader beside a writer ------------------------------------------------------------------------------

class Reader(threading.Thread):
    """Reads `path` again and again with `cookie` until stopped; notes each page's latency."""

    def __init__(self, host, port, path, cookie):
        super().__init__(daemon=True)
        self.args_ = (host, port, path, {"Cookie": cookie, "Accept-Language": "en"})
        self.latencies: list[float] = []
        self.statuses: set[int] = set()
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            status, seconds = _get(*self.args_)
            self.statuses.add(status)
            self.latencies.append(seconds)
            time.sleep(0.05)

    def stop(self) -> dict:
        self.stopping.set()
        self.join(timeout=600)
        values = sorted(self.latencies)
        return {"pages": len(values), "p50": statistics.median(values) * 1000, "max": values[-1] * 1000,
                "statuses": sorted(self.statuses)}


@contextmanager
def write_lock(app, seconds: float):
    """Another connection holds the writer's lock for `seconds` (see the module's docstring)."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        connection = sqlite3.connect(uri.split("sqlite:///", 1)[1], isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    with app.app_context():
        with db.engine.connect() as connection:
            transaction = connection.begin()
            connection.exec_driver_sql("LOCK TABLE requests IN EXCLUSIVE MODE")
            try:
                yield
            finally:
                transaction.rollback()


def _held(reader_factory, hold, seconds: float) -> dict:
    reader = reader_factory()
    reader.start()
    time.sleep(1.0)  # a few pages before the writer, for the baseline
    with hold():
        time.sleep(seconds)
    time.sleep(0.5)
    return reader.stop()


def _tokens(app, ids) -> dict:
    """API tokens of the officer and of a new supervisor of the same agency."""
    from portal.accounts.models import User
    from portal.api import tokens
    from portal.api.models import SCOPES

    with app.test_request_context():
        officer = db.session.scalar(select(User).where(User.email == ids["officer_email"]))
        supervisor = User(email="supervisor@bench.invalid", name="Supervisor", organisation_id=officer.organisation_id,
                          role="regulator_supervisor", password_hash=officer.password_hash,
                          totp_secret=officer.totp_secret, totp_confirmed_at=officer.totp_confirmed_at)
        db.session.add(supervisor)
        db.session.flush()
        texts = {}
        for name, user in (("officer", officer), ("supervisor", supervisor)):
            _row, texts[name] = tokens.create_token(user, "benchmark", list(SCOPES), 30)
        db.session.commit()
        return texts


def issue_big_request(app, host, port, ids, platform_code: str, count: int = BIG_ITEMS) -> dict:
    """Draft, submit and approve a request of `count` items through the API; returns the approval's seconds."""
    texts = _tokens(app, ids)
    json_headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    officer = {**json_headers, "Authorization": f"Bearer {texts['officer']}"}
    supervisor = {**json_headers, "Authorization": f"Bearer {texts['supervisor']}"}
    body = {"platform": platform_code, "request_type": "removal", "category": "deepfake", "priority": "standard",
            "legal_basis_text": "Benchmark", "summary_ko": "벤치마크", "summary_en": "Benchmark",
            "items": [{"url": f"https://bench.example/big/{i}", "sha256": "a" * 64, "note": f"메모 {i}"}
                      for i in range(count)]}
    status, _, _, raw = _call(host, port, "POST", "/api/v1/requests", officer, json.dumps(body).encode())
    assert status == 201, raw[:300]
    request_id = json.loads(raw)["request"]["id"]
    status, _, _, raw = _call(host, port, "POST", f"/api/v1/requests/{request_id}/submit", officer, b"{}")
    assert status == 200, raw[:300]
    started = time.perf_counter()
    status, _, _, raw = _call(host, port, "POST", f"/api/v1/requests/{request_id}/approve", supervisor, b"{}")
    seconds = time.perf_counter() - started
    assert status == 200, raw[:300]
    return {"request_id": request_id, "reference": json.loads(raw)["reference"], "seconds": seconds}


def notice_items(app, reference: str) -> int | None:
    """How many of the big request's addresses its stored notice lists (read with pdftotext), if installed."""
    from portal.core.documents import Document, documents_root
    from portal.requests.notices import NOTICE

    if shutil.which("pdftotext") is None:
        return None
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.kind == NOTICE, Document.reference == reference))
        path = documents_root() / document.storage_path
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return len(set(re.findall(r"https://bench\.example/big/(\d+)", text.replace("\n", ""))))


def main():
    sys.argv, duration, big_items = _own_options(sys.argv)
    args = arguments(__doc__)
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    with generated_app(args) as (app, ids):
        from portal.accounts.models import Organisation, User

        with app.app_context():
            dialect = db.engine.dialect.name
            agent = db.session.scalar(select(User).where(User.email == ids["agent_email"]))
            agent.totp_last_step = 0
            other = db.session.scalar(select(Organisation).where(Organisation.code == "PLAT01")).code
            db.session.commit()
            db.engine.dispose()
        results = {}
        load = os.getloadavg()
        # The yardstick, under the same gunicorn settings in the same run: a bare Flask "hello".
        with gunicorn(app, target="benchmarks.hello:app") as (host, port):
            wrk(f"http://{host}:{port}/", "", 3)
            results["bare Flask"] = wrk(f"http://{host}:{port}/", "", duration)
        with gunicorn(app) as (host, port):
            cookie = login_cookie(host, port, ids["agent_email"], ids["password"], ids["totp_secret"])
            status, _ = _get(host, port, "/requests/", {"Cookie": cookie, "Accept-Language": "en"})
            assert status == 200, f"the inbox answered {status}: not logged in?"
            base = f"http://{host}:{port}"
            wrk(base + "/requests/", cookie, 3)  # warm-up: templates compiled in both workers
            results["inbox, 1 connection"] = wrk(base + "/requests/", cookie, max(5, duration // 3), connections=1)
            # The same page with no row (a reference nobody has): what the session, the queries and the
            # page's frame cost before any row, the floor of every signed-in page.
            for name, path in (("inbox", "/requests/"), ("inbox, all statuses", "/requests/?status=all"),
                               ("inbox with no row", "/requests/?ref=ZZ-0000-000000")):
                results[name] = wrk(base + path, cookie, duration)
            reader = lambda: Reader(host, port, "/requests/", cookie)  # noqa: E731
            results["reader while the write lock is held 5 s"] = _held(reader, lambda: write_lock(app, 5), 5)
            issued: dict = {}

            @contextmanager
            def big():
                issued.update(issue_big_request(app, host, port, ids, other, big_items))
                yield

            results["reader while the big request is issued"] = _held(reader, big, 0)
            results["issuing the big request"] = issued
            results["items listed in its notice"] = notice_items(app, issued["reference"])
            errors = [line for line in (Path(app.instance_path) / "gunicorn.log").read_text().splitlines()
                      if "Error" in line or "error" in line]

        print(f"\n{dialect}, gunicorn {WORKERS} workers, wrk {CONNECTIONS} connections, {duration} s each "
              f"(load average at the start {load[0]:.1f}, at the end {os.getloadavg()[0]:.1f}):")
        for name in ("bare Flask", "inbox, 1 connection", "inbox", "inbox, all statuses", "inbox with no row"):
            r = results[name]
            print(f"  {name:40} {r['rate']:8.1f} req/s   p50 {r['p50']:8.1f} ms   p99 {r['p99']:8.1f} ms   "
                  f"({r['requests']} requests, {r['not_ok']} not 2xx/3xx)")
        ratio = results["inbox"]["rate"] / results["bare Flask"]["rate"]
        print(f"  inbox / bare Flask at {CONNECTIONS} connections: {ratio:.1%} (goal at least 10 %: "
              f"{'met' if ratio >= 0.10 else 'NOT met'}); inbox p99 {results['inbox']['p99']:.1f} ms (goal under 100 ms: "
              f"{'met' if results['inbox']['p99'] < 100 else 'NOT met'})")
        print(f"  inbox with no row / bare Flask: {results['inbox with no row']['rate'] / results['bare Flask']['rate']:.1%}"
              " (the floor: session, queries and the page's frame)")
        for name in ("reader while the write lock is held 5 s", "reader while the big request is issued"):
            r = results[name]
            print(f"  {name:44} {r['pages']} pages, p50 {r['p50']:.1f} ms, slowest {r['max']:.1f} ms, "
                  f"statuses {r['statuses']}")
        print(f"  approving the request of {big_items:,} items took {issued['seconds']:.1f} s; its notice lists "
              f"{results['items listed in its notice']} distinct items")
        if errors:
            print("  errors the server logged:\n    " + "\n    ".join(errors[-10:]))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _own_options(argv: list[str]) -> tuple[list[str], int, int]:
    """`--duration S` (seconds of each wrk run, default 30) and `--big-items N` (default 10,000), taken out
    before the shared parser sees the rest."""
    argv, found = list(argv), {"--duration": 30, "--big-items": BIG_ITEMS}
    for option in found:
        if option in argv:
            at = argv.index(option)
            found[option] = int(argv[at + 1])
            del argv[at:at + 2]
    return argv, found["--duration"], found["--big-items"]


if __name__ == "__main__":
    main()
