"""`python -m benchmarks.notice_issue [--items N] [--database URL]`: issuing a large request while others read.

Not a test. In a fresh database (SQLite in a temporary folder, or the PostgreSQL database given, whose
tables are replaced) it drafts a request of N items (default 10,000) and has its supervisor approve it
through the web view (`POST /requests/<id>/issue`: reference, state change and commit, then the notice
rendered with the real WeasyPrint, signed, stored and announced after the commit). Meanwhile another
process -- a separate gunicorn worker, in effect -- logs in as another platform's agent and reads its inbox
over and over. It prints how long the issue took (and when its commit was visible), how long the reader's
pages took meanwhile (max against the 1 s target), and checks that the stored notice lists every item.
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pyotp

from benchmarks.__main__ import _app, _login, _reset
from portal.accounts.models import Organisation, User
from portal.accounts.passwords import hash_password
from portal.core import clock, documents
from portal.core.transaction import unit_of_work
from portal.extensions import db

PASSWORD = "benchmark password 1234"
TARGET = 1.0


def _user(email, role, organisation_id, secret):
    return User(email=email, name=email.split("@")[0], organisation_id=organisation_id, role=role,
                password_hash=hash_password(PASSWORD), totp_secret=secret, totp_confirmed_at=clock.now(),
                language="en")


def _reader(url, folder, secret, stop, ready, out):
    """Another platform's agent reading its inbox until told to stop; sends back each page's time."""
    app = _app(url, Path(folder))
    client = app.test_client()
    _login(client, "reader@bench.invalid", PASSWORD, secret, app)
    timings = []
    ready.set()
    while not stop.is_set():
        started = time.perf_counter()
        response = client.get("/requests/")
        assert response.status_code == 200
        timings.append((time.time(), time.perf_counter() - started))
    out.put(timings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="PostgreSQL URL (its tables are replaced); default: a new SQLite file")
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()

    from portal.requests import notices, services
    from portal.requests.models import Request
    from portal.requests.urls import parse_lines

    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = _app(url, Path(folder))
        _reset(app)
        secrets = {name: pyotp.random_base32() for name in ("officer", "supervisor", "reader")}
        with app.test_request_context(), unit_of_work():
            agency = Organisation(code="KCSC", kind="agency", name_ko="방송통신심의위원회",
                                  name_en="Korea Communications Standards Commission", country="KR",
                                  timezone="Asia/Seoul")
            platform = Organisation(code="VIDSTREAM", kind="platform", name_ko="비드스트림",
                                    name_en="VidStream Inc.", country="US", timezone="America/Los_Angeles")
            other = Organisation(code="OTHER", kind="platform", name_ko="다른 플랫폼", name_en="Other Platform",
                                 country="IE", timezone="Europe/Dublin")
            db.session.add_all([agency, platform, other])
            db.session.flush()
            officer = _user("officer@bench.invalid", "regulator_officer", agency.id, secrets["officer"])
            db.session.add_all([officer, _user("supervisor@bench.invalid", "regulator_supervisor", agency.id,
                                               secrets["supervisor"]),
                                _user("reader@bench.invalid", "platform_agent", other.id, secrets["reader"])])
            db.session.flush()
            req = services.create_draft(officer, platform_id=platform.id, request_type="removal",
                                        category="deepfake", priority="urgent", legal_basis_id=None,
                                        legal_basis_text="정보통신망법 제44조의7", summary_ko="대량 요청",
                                        summary_en="A large request")
            lines = "\n".join(f"https://video.example.com/watch/{n:06d}?list=PL{n * 7919:09d}" for n in range(args.items))
            services.add_items(officer, req, parse_lines(lines))
            services.submit_for_approval(officer, req)
            request_id = req.id
        with app.app_context():
            db.engine.dispose()

        context = multiprocessing.get_context("fork")
        stop, ready, out = context.Event(), context.Event(), context.Queue()
        reader = context.Process(target=_reader, args=(url, folder, secrets["reader"], stop, ready, out))
        reader.start()
        ready.wait(60)
        time.sleep(1)  # a few pages before, for the baseline

        client = app.test_client()
        _login(client, "supervisor@bench.invalid", PASSWORD, secrets["supervisor"], app)
        started_wall, started = time.time(), time.perf_counter()
        response = client.post(f"/requests/{request_id}/issue")
        issue_seconds = time.perf_counter() - started
        finished_wall = time.time()
        assert response.status_code in (302, 303), response.status_code
        time.sleep(1)
        stop.set()
        timings = out.get(timeout=60)
        reader.join(60)

        with app.app_context():
            req = db.session.get(Request, request_id)
            [notice] = [d for d in documents.documents_for(db.session.get(User, req.approved_by_id),
                                                           reference=req.reference) if d.kind == notices.NOTICE]
            path = documents.documents_root() / notice.storage_path
            text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                                  text=True).stdout
            listed = sum(1 for n in range(args.items) if f"/watch/{n:06d}?" in text)
            size, ready_at, issued_at = notice.size, req.notice_ready_at, req.issued_at
            dialect = db.engine.dialect.name
            db.session.remove()
            db.engine.dispose()

        during = [seconds for at, seconds in timings if started_wall <= at <= finished_wall]
        before = [seconds for at, seconds in timings if at < started_wall]
        print(f"{dialect}; request of {args.items:,} items")
        print(f"issue (POST, commit, then notice rendered, signed, stored, announced): {issue_seconds:.1f} s; "
              f"notice ready {(ready_at - issued_at).total_seconds():.1f} s after the issuing commit")
        print(f"notice: {size / 1e6:.1f} MB, lists {listed:,} of {args.items:,} items"
              f"{' (every item)' if listed == args.items else ' -- MISSING ITEMS'}")
        if before:
            print(f"reader's inbox before: {len(before)} pages, p50 {statistics.median(before) * 1000:.0f} ms")
        if during:
            worst = max(during)
            print(f"reader's inbox while issuing: {len(during)} pages, p50 {statistics.median(during) * 1000:.0f} ms, "
                  f"max {worst * 1000:.0f} ms (target < {TARGET * 1000:.0f} ms: {'met' if worst < TARGET else 'NOT MET'})")
        else:
            print("reader's inbox while issuing: no page finished during the issue -- NOT MET")


if __name__ == "__main__":
    main()
