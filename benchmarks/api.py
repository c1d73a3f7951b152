"""`python -m benchmarks.api [--requests N] [--items M] [--database URL]`

Figures for the API (not a timed test): listing a platform's requests (`GET /api/v1/requests`, first page of
100) with the generated data in the database, and creating a draft with 10,000 items in one
`POST /api/v1/requests`. Through the Flask test client with a bearer token: token lookup, access check,
services, JSON; not the network. Targets: creation <= 3 s; listing 100 p95 <= 50 ms with 100,000 requests.
"""
from __future__ import annotations

import gc
import statistics
import time

from benchmarks.__main__ import _p95, _time, arguments, generated_app
from portal.extensions import db

TARGETS = {"list 100 requests (platform)": 0.050, "create draft with 10,000 items": 3.0}


def _token(email: str) -> str:
    from portal.accounts.models import User
    from portal.api import tokens
    from portal.api.models import SCOPES

    user = db.session.scalar(db.select(User).where(User.email == email))
    _row, text = tokens.create_token(user, "benchmark", list(SCOPES), 30)
    db.session.commit()
    return text


def main():
    args = arguments(__doc__)
    with generated_app(args) as (app, ids):
        with app.test_request_context():
            agent = {"Authorization": "Bearer " + _token(ids["agent_email"])}
            officer = {"Authorization": "Bearer " + _token(ids["officer_email"])}
        with app.app_context():
            from portal.accounts.models import Organisation

            platform_code = db.session.get(Organisation, ids["platform_id"]).code
        client = app.test_client()
        gc.collect()
        gc.freeze()

        results = {}

        def list_page():
            response = client.get("/api/v1/requests?status=all&limit=100", headers=agent)
            assert response.status_code == 200 and len(response.get_json()["requests"]) == 100

        results["list 100 requests (platform)"] = _time(list_page, args.runs)

        def list_second_page():
            first = client.get("/api/v1/requests?status=all&limit=100", headers=agent).get_json()
            response = client.get(f"/api/v1/requests?status=all&limit=100&cursor={first['next_cursor']}",
                                  headers=agent)
            assert response.status_code == 200

        results["list 2 pages of 100 (per run)"] = _time(list_second_page, max(10, args.runs // 4))

        def create(n: int) -> float:
            body = {"platform": platform_code, "request_type": "removal", "category": "deepfake",
                    "priority": "standard", "legal_basis_text": "Benchmark", "summary_ko": "벤치마크",
                    "summary_en": "Benchmark",
                    "items": [{"url": f"https://bench.example/api/{n}/{i}", "sha256": "a" * 64, "note": f"메모 {i}"}
                              for i in range(10_000)]}
            started = time.perf_counter()
            response = client.post("/api/v1/requests", json=body, headers=officer)
            elapsed = time.perf_counter() - started
            assert response.status_code == 201 and response.get_json()["items_added"] == 10_000, response.data[:300]
            return elapsed

        results["create draft with 10,000 items"] = [create(n) for n in range(5)]

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
