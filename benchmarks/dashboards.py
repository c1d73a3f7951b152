"""`python -m benchmarks.dashboards [--requests N] [--items M] [--database URL] [--runs R]`

Figures for the role dashboards (not a timed test): `GET /home` of an officer, a supervisor, a platform
agent and the secretariat over the generated data (100,000 requests by default), through the Flask test
client with a logged-in user (session, access check, the counts' queries, the template). Target: p95 under
50 ms for each. One request in nine has a message from each side, half of them read by the officer and the
agent, so the unread-messages count has work to do. Also the scorecard page of every platform for the last 30 days and for two years, for
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


MESSAGE_EVERY = 9  # odd, so requests of both agencies (they alternate by id) carry messages


def _add_messages(ids: dict) -> None:
    """A message from each side on one request in nine; the officer and the agent read every other."""
    from sqlalchemy import insert, select

    from portal.accounts.models import User
    from portal.requests.models import Request, RequestMessage, RequestRead

    officer = db.session.scalar(select(User).where(User.email == ids["officer_email"]))
    agent = db.session.scalar(select(User).where(User.email == ids["agent_email"]))
    now = clock.now()
    rows = db.session.execute(select(Request.id, Request.agency_id, Request.platform_id)
                              .where(Request.id % MESSAGE_EVERY == 0)).all()
    messages, marks, next_id = [], [], (db.session.scalar(select(db.func.max(RequestMessage.id))) or 0) + 1
    for n, (request_id, agency_id, platform_id) in enumerate(rows):
        for author, side, other in ((officer.id, agency_id, platform_id), (agent.id, platform_id, agency_id)):
            messages.append({"id": next_id, "request_id": request_id, "author_id": author, "organisation_id": side,
                             "recipient_organisation_id": other, "body": "Benchmark message", "created_at": now})
            next_id += 1
        if n % 4 < 2:  # half, on both agencies' requests
            marks += [{"user_id": user.id, "request_id": request_id, "last_read_message_id": next_id - 1,
                       "read_at": now} for user in (officer, agent)]
    for start in range(0, len(messages), 5_000):
        db.session.execute(insert(RequestMessage), messages[start:start + 5_000])
    for start in range(0, len(marks), 5_000):
        db.session.execute(insert(RequestRead), marks[start:start + 5_000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("SELECT setval('request_messages_id_seq', (SELECT max(id) FROM request_messages))"))
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()
    print(f"added {len(messages):,} messages and {len(marks):,} read marks")


def main():
    args = arguments(__doc__)
    with generated_app(args) as (app, ids):
        with app.app_context():
            emails = _add_users(ids)
            _add_messages(ids)
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
