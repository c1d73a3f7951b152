"""Test data through the models and services, and a helper that logs in through the real pages."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import pyotp

from portal.accounts.models import Organisation, User
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
