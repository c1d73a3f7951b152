"""Fill a database with N requests and M items quickly (bulk inserts, not the services), shaped like real
use: two agencies, many platforms, most requests closed, some open and overdue, one request with
1,000 items on the benchmark platform."""
from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta, timezone

import pyotp
from sqlalchemy import insert, select

from portal.accounts.models import Organisation, User
from portal.accounts.passwords import hash_password
from portal.extensions import db
from portal.requests.models import CATEGORIES, TYPES, Request, RequestCounter, RequestItem

PASSWORD = "benchmark password 1234"
PLATFORMS = 20
BIG_REQUEST_ITEMS = 1_000
BATCH = 5_000
STATUS_SHARES = [("closed", 0.70), ("responded_fully", 0.06), ("withdrawn", 0.04), ("issued", 0.06),
                 ("acknowledged", 0.08), ("responded_partly", 0.06)]
OPEN = {"issued", "acknowledged", "responded_partly"}


def _status(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for status, share in STATUS_SHARES:
        total += share
        if roll < total:
            return status
    return "closed"


def generate(requests: int, items: int, seed: int = 7) -> dict:
    """Create the data; returns the ids the benchmark needs. Expects empty tables."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    agencies = [Organisation(code=code, kind="agency", name_ko=name, name_en=code, country="KR", timezone="Asia/Seoul")
                for code, name in (("KCSC", "방송통신심의위원회"), ("KNPA", "경찰청"))]
    platforms = [Organisation(code=f"PLAT{n:02d}", kind="platform", name_ko=f"플랫폼 {n}", name_en=f"Platform {n}",
                              country="US", timezone="America/Los_Angeles") for n in range(PLATFORMS)]
    db.session.add_all(agencies + platforms)
    db.session.flush()
    password_hash = hash_password(PASSWORD)
    secret = pyotp.random_base32()
    officer = User(email="officer@bench.invalid", name="Officer", organisation_id=agencies[0].id,
                   role="regulator_officer", password_hash=password_hash, totp_secret=secret, totp_confirmed_at=now)
    agent = User(email="agent@bench.invalid", name="Agent", organisation_id=platforms[0].id, role="platform_agent",
                 password_hash=password_hash, totp_secret=secret, totp_confirmed_at=now, language="en",
                 timezone="America/Los_Angeles")
    db.session.add_all([officer, agent])
    db.session.commit()

    counters: dict[tuple[int, int], int] = {}
    per_request = max(1, (items - BIG_REQUEST_ITEMS) // max(1, requests - 1))
    request_rows, item_rows, next_item_request = [], [], []
    first_id = (db.session.scalar(select(db.func.max(Request.id))) or 0) + 1
    big_id = first_id  # the first request, on the benchmark platform, carries 1,000 items
    for n in range(requests):
        request_id = first_id + n
        agency = agencies[n % 2]
        platform = platforms[0] if n == 0 else platforms[rng.randrange(PLATFORMS)]
        status = "acknowledged" if n == 0 else _status(rng)
        issued = now - timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60)) if status not in OPEN \
            else now - timedelta(minutes=rng.randrange(0, 6 * 24 * 60))
        hours = rng.choice((24, 72))
        year = issued.astimezone(timezone(timedelta(hours=9))).year
        counters[(agency.id, year)] = counters.get((agency.id, year), 0) + 1
        deadline = issued + timedelta(hours=hours)
        request_rows.append({
            "id": request_id, "reference": f"{agency.code}-{year}-{counters[(agency.id, year)]:06d}",
            "agency_id": agency.id, "platform_id": platform.id, "request_type": rng.choice(TYPES),
            "category": rng.choice(CATEGORIES), "priority": "urgent" if hours == 24 else "standard",
            "legal_basis_text": "Benchmark", "summary_ko": "벤치마크 요청", "summary_en": "Benchmark request",
            "status": status, "is_open": status in OPEN, "drafted_by_id": officer.id, "approved_by_id": officer.id,
            "created_at": issued, "updated_at": issued, "submitted_at": issued, "issued_at": issued,
            "notice_ready_at": issued,  # the platform sees a request once its notice exists
            "deadline": deadline, "deadline_start": issued, "deadline_reason": "issued", "deadline_hours": hours,
            "remind_at": deadline - timedelta(hours=hours / 4), "very_overdue_from": deadline + timedelta(hours=hours),
            "item_count": 0,
        })
        count = BIG_REQUEST_ITEMS if n == 0 else per_request
        request_rows[-1]["item_count"] = count
        next_item_request.append((request_id, platform.id, count))
        if len(request_rows) >= BATCH:
            _flush(request_rows, item_rows, next_item_request, rng)
    _flush(request_rows, item_rows, next_item_request, rng)
    for (agency_id, year), last in counters.items():
        db.session.add(RequestCounter(agency_id=agency_id, year=year, last_number=last))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("SELECT setval('requests_id_seq', (SELECT max(id) FROM requests))"))
        db.session.commit()
        # What autovacuum does to a table that has been written: statistics, and the visibility map that
        # lets counts read the index alone (a bulk insert leaves it unset: every count would visit the heap).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
            # Write the loaded pages out now, so that the checkpoint after a bulk load does not run during the
            # measurements. Needs a superuser; without one, skipped.
            try:
                connection.exec_driver_sql("CHECKPOINT")
            except Exception:  # noqa: BLE001 - a role that may not checkpoint measures as before
                pass
    else:
        db.session.execute(db.text("ANALYZE"))
    db.session.commit()
    return {"big_request_id": big_id, "agent_email": agent.email, "officer_email": officer.email,
            "password": PASSWORD, "totp_secret": secret, "platform_id": platforms[0].id}


def _flush(request_rows, item_rows, pending, rng):
    if request_rows:
        db.session.execute(insert(Request), request_rows)
    for request_id, platform_id, count in pending:
        for position in range(1, count + 1):
            url = f"https://cdn{rng.randrange(50)}.example/{request_id}/{position}/{rng.getrandbits(32):08x}"
            item_rows.append({"request_id": request_id, "platform_id": platform_id, "position": position,
                              "url": url, "url_hash": hashlib.sha256(url.encode()).hexdigest(), "note": ""})
            if len(item_rows) >= BATCH * 4:
                db.session.execute(insert(RequestItem), item_rows)
                item_rows.clear()
    if item_rows:
        db.session.execute(insert(RequestItem), item_rows)
    db.session.commit()
    request_rows.clear()
    item_rows.clear()
    pending.clear()
