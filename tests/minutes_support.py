"""Minutes made through the real services, for the tests of minutes (web and API)."""
from __future__ import annotations

from dataclasses import dataclass

from portal.accounts.models import User
from portal.extensions import db
from tests.consultations_support import consultation
from tests.factories import Made, Parties


@dataclass
class Setting:
    parties: Parties
    secretariat: Made
    consultation_id: int
    minutes_id: int
    section_ids: list[int]


def minutes(make, *, agenda: int = 2, status: str = "draft") -> Setting:
    """A scheduled consultation of an agency with a platform, `agenda` items on its agenda, and its minutes
    drafted by the secretariat, walked to `status` (draft, circulated, approved, published)."""
    from portal.consultations.services import AgendaEntry
    from portal.minutes import services

    parties = make.parties()
    secretariat = make.user("secretariat", make.organisation("secretariat"))
    entries = [AgendaEntry(f"안건 {n}", f"Item {n}") for n in range(1, agenda + 1)]
    meeting = consultation(make, parties.officer, [parties.platform], agenda=entries)
    with make.app.test_request_context():
        by = db.session.get(User, secretariat.id)
        from portal.consultations.models import Consultation

        m = services.create(by, db.session.get(Consultation, meeting.id))
        for step in ("circulate", "approve", "publish"):
            if status == "draft" or (step == "approve" and status == "circulated") or (
                    step == "publish" and status in ("circulated", "approved")):
                break
            getattr(services, step)(by, m)
        db.session.commit()
        return Setting(parties, secretariat, meeting.id, m.id, [s.id for s in m.sections])
