"""Demo consultations for `flask --app portal demo seed`: one finding a time, one scheduled plenary."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.consultations import services
from portal.core import clock
from portal.extensions import db


def _at(days: int, hour_kst: int) -> datetime:
    day = (clock.now().astimezone(clock.KST) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour_kst, tzinfo=clock.KST)


def seed_consultations() -> int:
    """Needs the demo organisations and users. Flushes, never commits."""
    officer = _user("KCSC", "regulator_officer")
    secretariat = db.session.scalar(select(User).where(User.role == "secretariat").order_by(User.id))
    bilateral = services.create(
        officer, kind="bilateral", title_ko="GLOBCHAT 딥페이크 삭제 지연 양자 협의",
        title_en="Bilateral consultation with GLOBCHAT on deepfake removal delays", format="video",
        video_url="https://meet.example.org/kcsc-globchat", timezone="Asia/Seoul", duration_minutes=60,
        platform_codes=["GLOBCHAT"], slots=[_at(9, 10), _at(10, 16), _at(12, 9)],
        purpose_ko="24시간 내 삭제 요청 처리 현황 점검", purpose_en="Review of the handling of 24-hour removal requests")
    services.propose(officer, bilateral)
    plenary = services.create(
        secretariat, kind="plenary", title_ko="디지털 성범죄 협의체 정기회의", title_en="Regular plenary of the body",
        format="hybrid", location="서울특별시 중구 세종대로 209 정부서울청사", room="19층 대회의실",
        video_url="https://meet.example.org/plenary", timezone="Asia/Seoul", duration_minutes=120,
        platform_codes=["GLOBCHAT", "VIDSTREAM"], agency_codes=["KCSC", "KNPA"], slots=[_at(21, 10)],
        agenda=[services.AgendaEntry("플랫폼별 처리 현황 보고", "Report of each platform's handling"),
                services.AgendaEntry("자율 규제 이행 약속 갱신", "Renewal of compliance commitments")])
    services.propose(secretariat, plenary)
    services.schedule(secretariat, plenary, slot_id=plenary.slots[0].id)
    return 2


def _user(code: str, role: str) -> User:
    organisation = db.session.scalar(select(Organisation).where(Organisation.code == code))
    return db.session.scalar(select(User).where(User.organisation_id == organisation.id, User.role == role)
                             .order_by(User.id))
