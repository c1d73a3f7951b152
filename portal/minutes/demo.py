"""Demo minutes for `flask --app portal demo seed`: the draft minutes of the demo plenary, with a first
text, a decision and one action item of a platform, so the minutes page and the owner's home page show
something to try."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.consultations.models import Consultation
from portal.core import clock
from portal.extensions import db
from portal.minutes import actions, services


def seed_minutes() -> int:
    """Needs the demo consultations (portal/consultations/demo.py). Flushes, never commits."""
    secretariat = db.session.scalar(select(User).where(User.role == "secretariat").order_by(User.id))
    plenary = db.session.scalar(select(Consultation).where(Consultation.kind == "plenary")
                                .order_by(Consultation.id))
    if secretariat is None or plenary is None:
        return 0
    minutes = services.create(secretariat, plenary)
    first = minutes.sections[0]
    services.save_section(
        secretariat, minutes, first.id, based_on=minutes.revision,
        text_ko="각 플랫폼이 지난 분기 삭제 요청 처리 현황을 보고하였습니다.",
        text_en="Each platform reported how it handled removal requests in the last quarter.")
    services.add_decision(secretariat, minutes, first.id, "분기별 처리 현황 보고를 계속한다.",
                          "Quarterly reports of each platform's handling continue.")
    due = (clock.now().astimezone(clock.KST) + timedelta(days=35)).date()
    actions.add(secretariat, minutes, first.id, text_ko="24시간 내 처리율 개선 계획 제출",
                text_en="Submit a plan to raise the share of requests handled within 24 hours",
                owner_code="GLOBCHAT", due_on=due)
    return 1
