"""Demo data for `flask --app portal demo seed`: each demo platform's admin is its authorised signatory,
and the secretariat keeps one commitment template."""
from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.commitments import services
from portal.extensions import db

BODY_KO = """{{ platform_name_ko }}은(는) 다음을 서약합니다.
1. 성적 허위영상물 삭제 요청을 접수한 때부터 24시간 안에 삭제하거나 한국에서 접속을 차단합니다.
2. 한국어로 소통할 수 있는 연락 담당자({{ contact_name }}, {{ contact_email }})를 지정합니다.
3. 매월 처리 현황을 {{ agency_name_ko }}에 보고합니다.
이 서약은 {{ effective_from }}부터 {{ valid_until }}까지 효력이 있습니다."""
BODY_EN = """{{ platform_name_en }} commits to the following.
1. To remove sexual deepfakes, or block access to them in Korea, within 24 hours of a request.
2. To designate a Korean-speaking contact ({{ contact_name }}, {{ contact_email }}).
3. To report its handling to {{ agency_name_en }} every month.
This commitment is in force from {{ effective_from }} until {{ valid_until }}."""


def seed_commitments() -> int:
    """Needs the demo organisations and users. Flushes, never commits. Returns the templates made."""
    admins = db.session.scalars(select(User).join(Organisation, User.organisation_id == Organisation.id).where(
        Organisation.kind == "platform", User.role == "platform_admin"))
    for admin in admins:
        admin.authorised_signatory = True
    secretariat = db.session.scalar(select(User).where(User.role == "secretariat").order_by(User.id))
    services.create_template(secretariat, code="removal-24h", title_ko="24시간 삭제 및 연락 담당자 지정 서약",
                             title_en="24-hour removal and designated contact commitment", body_ko=BODY_KO,
                             body_en=BODY_EN)
    return 1
