"""`python -m benchmarks.dashboards [--requests N] [--items M] [--database URL] [--runs R]`

Figures for the role dashboards (not a timed test): `GET /home` of an officer, a supervisor, a platform
agent and the secretariat over the generated data (100,000 requests by default), through the Flask test
client with a logged-in user (session, access check, the counts' queries, the template). Target: p95 under
50 ms for each. Also the scorecard page of every platform for the last 30 days and for two years, for
information (a report, not a home page).
"""
from __future__ import annotations

import gc
import statistics
from datetime import timedelta

from benchmarks.__main__ import _login, _p95, _time, arguments, generated_app
from portal.core import clock
from portal.extensions import db

TARGET = 0.050


def _add_users(ids: dict) -> dict[str, str]:
    """A supervisor, a platform admin and a secretariat user beside the generated officer and agent."""
    from portal.accounts.models import Organisation, User

    officer = db.session.scalar(db.select(User).where(User.email == ids["officer_email"]))
    secretariat = Organisation(code="SEC", kind="secretariat", name_ko="사무국", name_en="Secretariat", country="KR",
                               timezone="Asia/Seoul")
    db.session.add(secretariat)
    db.session.flush()
    emails = {"regulator_officer": officer.email, "platform_agent": ids["agent_email"]}
    for role, organisation_id in (("regulator_supervisor", officer.organisation_id),
                                  ("secretariat", secretariat.id)):
        user = User(email=f"{role}@bench.invalid", name=role, organisation_id=organisation_id, role=role,
                    password_hash=officer.password_hash, totp_secret=ids["totp_secret"],
                    totp_confirmed_at=clock.now())
        db.session.add(user)
        emails[role] = user.email
    db.session.commit()
    return emails


def main():
    args = arguments(__doc__)
    with generated_app(args) as (app, ids):
        with app.app_context():
            emails = _add_users(ids)
        gc.collect()
        gc.freeze()
        results = {}
        for role, email in emails.items():
            client = app.test_client()
            _login(client, email, ids["password"], ids["totp_secret"], app)

            def home(client=client):
                assert client.get("/home").status_code == 200

            results[f"home of {role}"] = _time(home, args.runs)
        secretariat = app.test_client()
        _login(secretariat, emails["secretariat"], ids["password"], ids["totp_secret"], app)
        today = clock.now().astimezone(clock.KST).date()
        for label, days in (("scorecard, 30 days (info)", 30), ("scorecard, two years (info)", 730)):
            start = (today - timedelta(days=days)).isoformat()
            end = (today + timedelta(days=1)).isoformat()

            def scorecard(start=start, end=end):
                assert secretariat.get(f"/reports/?from={start}&to={end}").status_code == 200

            results[label] = _time(scorecard, max(3, args.runs // 20))

        print(f"{'measure':44} {'runs':>5} {'p50 ms':>9} {'p95 ms':>9} {'target':>9}")
        for name, timings in results.items():
            target = TARGET if name.startswith("home") else None
            print(f"{name:44} {len(timings):5d} {statistics.median(timings) * 1000:9.1f} {_p95(timings) * 1000:9.1f} "
                  f"{(f'{target * 1000:.0f}' if target else '-'):>9}")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
