"""Demo requests for `flask --app portal demo seed`: a few in each state, made through the services so
they carry real references, deadlines, history and audit rows."""
from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.extensions import db
from portal.requests import notices, services
from portal.requests.models import LegalBasis
from portal.requests.urls import parse_lines

LEGAL_BASES = [
    ("NETWORK-44-7", "정보통신망 이용촉진 및 정보보호 등에 관한 법률 제44조의7",
     "Act on Promotion of Information and Communications Network Utilization, Art. 44-7"),
    ("SEXCRIME-14-2", "성폭력범죄의 처벌 등에 관한 특례법 제14조의2 (허위영상물 등의 반포등)",
     "Act on Special Cases concerning the Punishment of Sexual Crimes, Art. 14-2 (false video material)"),
    ("CHILDPROT-11", "아동·청소년의 성보호에 관한 법률 제11조", "Act on the Protection of Children and Youth "
     "against Sex Offences, Art. 11"),
    ("TELECOM-22-5", "전기통신사업법 제22조의5 (불법촬영물등 유통방지)",
     "Telecommunications Business Act, Art. 22-5 (prevention of distribution of illegal filmed material)"),
]

# (agency, platform, state, type, category, priority, number of items)
DEMO_REQUESTS = [
    ("KCSC", "GLOBCHAT", "draft", "removal", "deepfake", "standard", 3),
    ("KCSC", "GLOBCHAT", "awaiting_approval", "removal", "ncii", "urgent", 2),
    ("KCSC", "GLOBCHAT", "issued", "removal", "deepfake", "urgent", 5),
    ("KCSC", "VIDSTREAM", "acknowledged", "blocking", "ncii", "standard", 4),
    ("KNPA", "VIDSTREAM", "issued", "preservation", "csam", "urgent", 2),
    ("KNPA", "GLOBCHAT", "responded_partly", "removal", "deepfake", "standard", 3),
    ("KNPA", "VIDSTREAM", "closed", "information", "other", "standard", 1),
]


def ensure_legal_bases() -> None:
    known = set(db.session.scalars(select(LegalBasis.code)))
    for code, name_ko, name_en in LEGAL_BASES:
        if code not in known:
            db.session.add(LegalBasis(code=code, name_ko=name_ko, name_en=name_en))
    db.session.flush()


def seed_requests() -> int:
    """Create the demo requests; needs the demo organisations and users. Flushes, never commits."""
    ensure_legal_bases()
    basis = db.session.scalar(select(LegalBasis).where(LegalBasis.code == "SEXCRIME-14-2"))
    made = 0
    for number, (agency_code, platform_code, state, kind, category, priority, count) in enumerate(DEMO_REQUESTS, 1):
        agency = db.session.scalar(select(Organisation).where(Organisation.code == agency_code))
        platform = db.session.scalar(select(Organisation).where(Organisation.code == platform_code))
        officer, supervisor = _user(agency, "regulator_officer"), _user(agency, "regulator_supervisor")
        agent = _user(platform, "platform_agent")
        req = services.create_draft(
            officer, platform_id=platform.id, request_type=kind, category=category, priority=priority,
            legal_basis_id=basis.id, legal_basis_text="",
            summary_ko=f"시연용 요청 {number}: 게시물 {count}건에 대한 조치를 요청합니다.",
            summary_en=f"Demo request {number}: action requested on {count} posts.")
        addresses = "\n".join(f"https://{platform_code.lower()}.example/demo/{number}/{n}" for n in range(1, count + 1))
        services.add_items(officer, req, parse_lines(addresses))
        if state == "draft":
            made += 1
            continue
        services.submit_for_approval(officer, req)
        if state != "awaiting_approval":
            services.issue_request(supervisor, req)
            notices.prepare_notice_now(req)  # the platform acts on it in this same command
        if state in ("acknowledged", "responded_partly", "closed"):
            services.acknowledge(agent, req)
        if state in ("responded_partly", "closed"):
            items = services.items_page(req)
            answered = items[:1] if state == "responded_partly" else items
            services.set_outcomes(agent, req, [item.id for item in answered], "removed")
            services.submit_response(agent, req)
        if state == "closed":
            services.close(officer, req)
        made += 1
    return made


def _user(organisation: Organisation, role: str) -> User:
    return db.session.scalar(select(User).where(User.organisation_id == organisation.id, User.role == role)
                             .order_by(User.id))
