"""Test data for compliance commitments: parties, a template, a commitment walked to a state."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import pyotp

from portal.accounts.models import User
from portal.extensions import db
from tests.factories import Made, Parties

# Every test of signing runs at this instant (time_machine, tick=False): steps are deterministic.
NOW = datetime(2026, 6, 1, 3, 0, 10, tzinfo=timezone.utc)
STEP = int(NOW.timestamp()) // 30

BODY_KO = "{{ platform_name_ko }}은(는) 성적 허위영상물을 24시간 안에 삭제합니다. 연락처: {{ contact_name }}."
BODY_EN = "{{ platform_name_en }} removes sexual deepfakes within 24 hours. Contact: {{ contact_name }}."


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


@dataclass
class World:
    parties: Parties
    secretariat: Made
    template_id: int


def world(make) -> World:
    parties = make.parties()
    secretariat = make.user("secretariat")
    with make.app.app_context():
        db.session.get(User, parties.platform_admin.id).authorised_signatory = True
        db.session.commit()
    template_id = template(make, secretariat)
    return World(parties, secretariat, template_id)


def template(make, secretariat: Made, body_ko: str = BODY_KO, body_en: str = BODY_EN) -> int:
    from portal.commitments import services
    from portal.core.transaction import unit_of_work

    with make.app.test_request_context(), unit_of_work():
        t = services.create_template(db.session.get(User, secretariat.id), title_ko="24시간 삭제 서약",
                                     title_en="24-hour removal commitment", body_ko=body_ko, body_en=body_en)
        return t.id


def commitment(make, w: World, *, send: bool = True, valid_until: date = date(2027, 5, 31)) -> int:
    from sqlalchemy import select

    from portal.accounts.models import Organisation
    from portal.commitments import services
    from portal.core.transaction import unit_of_work

    with make.app.test_request_context():
        with unit_of_work():
            codes = dict(db.session.execute(select(Organisation.id, Organisation.code)).all())
            by = db.session.get(User, w.secretariat.id)
            c = services.create(by, template_id=w.template_id, platform_code=codes[w.parties.platform],
                                agency_code=codes[w.parties.agency], effective_from=date(2026, 6, 1),
                                valid_until=valid_until)
            commitment_id = c.id
        if send:
            with unit_of_work():
                services.send_for_signature(db.session.get(User, w.secretariat.id),
                                            services.get(db.session.get(User, w.secretariat.id), commitment_id))
    return commitment_id


def in_force(make, w: World, **options) -> int:
    """A commitment walked through the real services to in force: signed by the platform's signatory and
    countersigned by the agency's supervisor, each with the code of the step after the (frozen) present."""
    import time

    from portal.commitments import services
    from portal.core.transaction import unit_of_work

    step = int(time.time()) // 30 + 1
    commitment_id = commitment(make, w, **options)
    with make.app.test_request_context():
        with unit_of_work():
            signer = db.session.get(User, w.parties.platform_admin.id)
            services.sign(signer, services.get(signer, commitment_id), name="Jane Doe", title="General Counsel",
                          consent=True, code=code_at(w.parties.platform_admin.totp_secret, step),
                          language="en")
        with unit_of_work():
            supervisor = db.session.get(User, w.parties.supervisor.id)
            services.countersign(supervisor, services.get(supervisor, commitment_id),
                                 code=code_at(w.parties.supervisor.totp_secret, step), language="en")
    return commitment_id
