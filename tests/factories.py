"""Test data through the models and services, and a helper that logs in through the real pages."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import pyotp

from portal.accounts.models import DesignatedContact, Organisation, User
from portal.accounts.passwords import hash_password
from portal.core import clock
from portal.extensions import db

PASSWORD = "correct horse battery staple"
KIND_OF_ROLE = {
    "regulator_officer": "agency",
    "regulator_supervisor": "agency",
    "platform_agent": "platform",
    "platform_admin": "platform",
    "secretariat": "secretariat",
    "system_admin": "secretariat",
}
_counter = itertools.count(1)
# Hashing is deliberately slow; one hash serves every factory user with the default password.
_DEFAULT_HASH = None


@dataclass
class Made:
    """What a test needs of a user it made: ids and secrets, not an ORM object bound to a session."""
    id: int
    email: str
    password: str
    totp_secret: str | None
    organisation_id: int
    role: str


class Factories:
    def __init__(self, app):
        self.app = app

    def organisation(self, kind: str = "platform", code: str | None = None, **fields) -> int:
        with self.app.app_context():
            n = next(_counter)
            organisation = Organisation(
                code=code or f"{kind[:3].upper()}{n}", kind=kind,
                name_ko=fields.pop("name_ko", f"기관 {n}"), name_en=fields.pop("name_en", f"Organisation {n}"),
                country=fields.pop("country", "KR" if kind != "platform" else "US"),
                timezone=fields.pop("timezone", "Asia/Seoul" if kind != "platform" else "America/Los_Angeles"),
                **fields,
            )
            db.session.add(organisation)
            db.session.commit()
            return organisation.id

    def user(self, role: str = "platform_agent", organisation: int | None = None, *, enrolled: bool = True,
             password: str = PASSWORD, language: str = "en", timezone: str = "Asia/Seoul", **fields) -> Made:
        global _DEFAULT_HASH
        if organisation is None:
            organisation = self.organisation(KIND_OF_ROLE[role])
        with self.app.app_context():
            if password == PASSWORD:
                _DEFAULT_HASH = _DEFAULT_HASH or hash_password(PASSWORD)
                password_hash = _DEFAULT_HASH
            else:
                password_hash = hash_password(password)
            n = next(_counter)
            secret = pyotp.random_base32() if enrolled else None
            user = User(
                email=fields.pop("email", f"user{n}@example.test"), name=fields.pop("name", f"User {n}"),
                organisation_id=organisation, role=role, language=language, timezone=timezone,
                password_hash=password_hash, totp_secret=secret,
                totp_confirmed_at=clock.now() if enrolled else None, **fields,
            )
            db.session.add(user)
            db.session.commit()
            return Made(user.id, user.email, password, secret, organisation, role)

    def contact(self, organisation: int, *, language: str = "en", timezone: str = "Asia/Seoul",
                active: bool = True, **fields) -> int:
        """A designated contact of a platform; returns its id."""
        with self.app.app_context():
            n = next(_counter)
            contact = DesignatedContact(
                organisation_id=organisation, name=fields.pop("name", f"Contact {n}"),
                email=fields.pop("email", f"contact{n}@example.test"), language=language, timezone=timezone,
                notes=fields.pop("notes", ""), active=active, **fields)
            db.session.add(contact)
            db.session.commit()
            return contact.id


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


class Auth:
    """Logs in through the real login pages (password, then TOTP)."""

    def __init__(self, client, make: Factories):
        self.client = client
        self.make = make

    def login(self, user: Made, client=None):
        client = client or self.client
        # A code is accepted once per 30-second step; let this helper log the same user in again.
        with self.make.app.app_context():
            db.session.get(User, user.id).totp_last_step = 0
            db.session.commit()
        response = client.post("/login", data={"email": user.email, "password": user.password})
        assert response.status_code == 302, response.data
        response = client.post("/login/code", data={"code": current_code(user.totp_secret)})
        assert response.status_code == 302 and "/login" not in response.location, response.data
        return response

    def as_role(self, role: str, organisation: int | None = None) -> Made:
        user = self.make.user(role, organisation)
        self.login(user)
        return user

    def logout(self, client=None):
        return (client or self.client).post("/logout")


# ==========================================================================================================
# Formal requests (portal/requests): parties to a request and requests walked to a given state through the
# real services, so each made request has the events, audit rows and deadline a real one would have.
# ==========================================================================================================

@dataclass
class Parties:
    agency: int
    platform: int
    officer: Made
    supervisor: Made
    agent: Made
    platform_admin: Made


# The steps that take a new draft to each state through the services.
_PATHS = {
    "draft": (),
    "awaiting_approval": ("submit",),
    "issued": ("submit", "issue"),
    "acknowledged": ("submit", "issue", "acknowledge"),
    "responded_partly": ("submit", "issue", "acknowledge", "answer_first", "respond"),
    "responded_fully": ("submit", "issue", "acknowledge", "answer_all", "respond"),
    "closed": ("submit", "issue", "acknowledge", "answer_all", "respond", "close"),
    "withdrawn": ("submit", "issue", "withdraw"),
}


class Factories(Factories):  # noqa: F811 -- the accounts factories, extended with requests
    def parties(self, *, agency_code: str | None = None, platform_timezone: str = "America/Los_Angeles",
                language: str = "en", platform: int | None = None) -> Parties:
        """An agency (officer, supervisor) and a platform (agent, admin); `platform` reuses one."""
        n = next(_counter)
        agency = self.organisation("agency", code=agency_code or f"AG{n}")
        platform = platform or self.organisation("platform", timezone=platform_timezone)
        return Parties(
            agency=agency, platform=platform,
            officer=self.user("regulator_officer", agency, language=language),
            supervisor=self.user("regulator_supervisor", agency, language=language),
            agent=self.user("platform_agent", platform, language=language, timezone=platform_timezone),
            platform_admin=self.user("platform_admin", platform, language=language, timezone=platform_timezone),
        )

    def request(self, parties: Parties | None = None, status: str = "issued", *,
                urls: tuple[str, ...] = ("https://example.com/a", "https://example.com/b"),
                request_type: str = "removal", category: str = "deepfake", priority: str = "standard",
                reason: str = "test reason") -> int:
        """A request of `parties` (made if not given) walked to `status`; returns its id."""
        from portal.core.transaction import unit_of_work
        from portal.requests import services
        from portal.requests.urls import parse_lines

        parties = parties or self.parties()
        with self.app.test_request_context():
            officer, supervisor = db.session.get(User, parties.officer.id), db.session.get(User, parties.supervisor.id)
            agent = db.session.get(User, parties.agent.id)
            # Each step in its own unit of work, as each is its own HTTP request: the notice is prepared
            # after the commit that issues, and the platform reaches the request only then.
            with unit_of_work():
                req = services.create_draft(
                    officer, platform_id=parties.platform, request_type=request_type, category=category,
                    priority=priority, legal_basis_id=None, legal_basis_text="Act on Test, Art. 1",
                    summary_ko="시험 요청", summary_en="Test request")
                if urls:
                    services.add_items(officer, req, parse_lines("\n".join(urls)))
            for step in _PATHS[status]:
                with unit_of_work():
                    if step == "submit":
                        services.submit_for_approval(officer, req)
                    elif step == "issue":
                        services.issue_request(supervisor, req)
                    elif step == "acknowledge":
                        services.acknowledge(agent, req)
                    elif step in ("answer_first", "answer_all"):
                        items = services.items_page(req, 0, 1 if step == "answer_first" else 10_000)
                        services.set_outcomes(agent, req, [item.id for item in items], "removed")
                    elif step == "respond":
                        services.submit_response(agent, req)
                    elif step == "close":
                        services.close(officer, req)
                    elif step == "withdraw":
                        services.withdraw(officer, req, reason)
            return req.id
