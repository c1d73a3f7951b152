"""`python -m benchmarks [--requests N] [--items M] [--database URL]`

Builds a fresh database (SQLite in a temporary folder, or the PostgreSQL database given, whose tables
are dropped and made again), fills it with `benchmarks.generate`, then times through the test client:
the platform inbox, a request page with 1,000 items, and a 10,000-line CSV validated and saved. Prints
p50/p95 and the targets; record them in benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import gc
import io
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pyotp
from sqlalchemy import text

from portal import create_app
from portal.extensions import db

TARGETS = {"inbox": 0.050, "request page (1,000 items)": 0.150, "CSV of 10,000 lines": 3.0}


def _app(url: str | None, instance: Path):
    config = {"TESTING": True, "SECRET_KEY": "benchmark", "INSTANCE_PATH": str(instance), "WTF_CSRF_ENABLED": False,
              "RATELIMIT_ENABLED": False, "PUBLIC_BASE_URL": "http://portal.bench",
              "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{instance / 'bench.sqlite3'}"}
    return create_app(config)


def _reset(app):
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        db.create_all()


def _login(client, email, password, secret, app):
    from portal.accounts.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        user.totp_last_step = 0
        db.session.commit()
    client.post("/login", data={"email": email, "password": password})
    response = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and "/login" not in response.location, "login failed"


def _time(call, runs: int) -> list[float]:
    call()  # warm-up: templates compiled, caches filled
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return timings


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def arguments(description: str) -> argparse.Namespace:
    """The options every benchmark over the generated data takes."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--database", help="PostgreSQL URL (its tables are replaced); default: a new SQLite file")
    parser.add_argument("--runs", type=int, default=100)
    return parser.parse_args()


@contextmanager
def generated_app(args: argparse.Namespace):
    """An app over a fresh database filled by `benchmarks.generate`: yields (app, ids of the made data)."""
    from benchmarks.generate import generate

    with tempfile.TemporaryDirectory() as folder:
        app = _app(args.database, Path(folder))
        _reset(app)
        started = time.perf_counter()
        with app.app_context():
            ids = generate(args.requests, args.items)
            dialect = db.engine.dialect.name
        print(f"{dialect}: generated {args.requests:,} requests and {args.items:,} items "
              f"in {time.perf_counter() - started:.0f} s")
        yield app, ids


def main():
    args = arguments(__doc__)
    with generated_app(args) as (app, ids):

        results = {}
        agent = app.test_client()
        _login(agent, ids["agent_email"], ids["password"], ids["totp_secret"], app)

        def request_page():
            assert agent.get(f"/requests/{ids['big_request_id']}").status_code == 200

        # Python's full garbage collections over everything the app loaded make the slowest runs; a server
        # freezes the loaded objects once after start-up (gc.freeze(), as wsgi.py should do), so measure
        # both ways for the heaviest page and then freeze.
        results["request page (1,000 items), no gc.freeze"] = _time(request_page, max(20, args.runs // 2))
        gc.collect()
        gc.freeze()

        def inbox():
            assert agent.get("/requests/").status_code == 200

        def inbox_mixed():
            for query in ("/requests/?status=all", "/requests/?overdue=y", "/requests/?priority=urgent&status=all",
                          "/requests/?status=closed"):
                assert agent.get(query).status_code == 200

        results["inbox"] = _time(inbox, args.runs)
        mixed = _time(inbox_mixed, max(5, args.runs // 4))
        results["inbox, filters (4 pages per run)"] = [t / 4 for t in mixed]
        results["request page (1,000 items)"] = _time(request_page, max(20, args.runs // 2))

        officer = app.test_client()
        _login(officer, ids["officer_email"], ids["password"], ids["totp_secret"], app)
        platform = ids["platform_id"]
        csv = "url,sha256,md5,pdq,note\n" + "".join(
            f"https://bench.example/upload/{n},{'a' * 64},,,메모 {n}\n" for n in range(10_000))
        payload = csv.encode("cp949")

        def csv_upload():
            response = officer.post("/requests/new", data={
                "platform_id": platform, "request_type": "removal", "category": "deepfake", "priority": "standard",
                "legal_basis_id": "", "legal_basis_text": "Benchmark", "summary_ko": "벤치마크",
                "summary_en": "Benchmark"})
            draft = response.location.split("/")[-3]
            started = time.perf_counter()
            response = officer.post(f"/requests/{draft}/items/add",
                                    data={"csv_file": (io.BytesIO(payload), "items.csv")},
                                    content_type="multipart/form-data")
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
            return time.perf_counter() - started

        results["CSV of 10,000 lines"] = [csv_upload() for _ in range(5)]

        print(f"{'measure':44} {'runs':>5} {'p50 ms':>9} {'p95 ms':>9} {'target':>9}")
        for name, timings in results.items():
            target = TARGETS.get(name)
            print(f"{name:44} {len(timings):5d} {statistics.median(timings) * 1000:9.1f} {_p95(timings) * 1000:9.1f} "
                  f"{(f'{target * 1000:.0f}' if target else '-'):>9}")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
