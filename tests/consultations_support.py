"""Consultations made through the real services, for the tests of consultations and minutes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.accounts.models import Organisation, User
from portal.core import clock
from portal.extensions import db
from tests.factories import Made

# Far enough ahead that every test's "now" is before it, near enough to be within the year allowed.
DAYS_AHEAD = 20


def future(days: int = DAYS_AHEAD, hour_kst: int = 10) -> datetime:
    """A whole hour in KST, `days` from today."""
    day = (clock.now().astimezone(clock.KST) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour_kst, tzinfo=clock.KST).astimezone(clock.UTC)


@dataclass
class Meeting:
    id: int
    uid: str
    slot_ids: list[int]


def consultation(make, organiser: Made, platform_ids: list[int], *, status: str = "scheduled", kind: str = "bilateral",
                 slots: list[datetime] | None = None, **details) -> Meeting:
    """A consultation by `organiser`, walked to `status` (draft, proposed, scheduled) through the services."""
    from portal.consultations import services

    slots = slots or [future(), future(DAYS_AHEAD + 1)]
    with make.app.test_request_context():
        by = db.session.get(User, organiser.id)
        codes = [db.session.get(Organisation, pid).code for pid in platform_ids]
        fields = dict(title_ko="정기 협의", title_en="Regular consultation", format="video",
                      video_url="https://meet.example.org/abc", timezone="Asia/Seoul", duration_minutes=90)
        fields.update(details)
        c = services.create(by, kind=kind, platform_codes=codes, slots=slots, **fields)
        if status in ("proposed", "scheduled"):
            services.propose(by, c)
        if status == "scheduled":
            services.schedule(by, c, slot_id=c.slots[0].id)
        db.session.commit()
        return Meeting(c.id, c.uid, [s.id for s in c.slots])
