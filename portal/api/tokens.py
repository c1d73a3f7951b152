"""Personal API tokens: made by their user, shown once, stored hashed, revocable by the user and admins.

A token acts as its user (role and organisation); it stops working when it expires, is revoked, or its
user is deactivated.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.accounts.models import User
from portal.api.models import SCOPES, ApiToken
from portal.core import audit, clock, policy, transaction
from portal.core.exceptions import NotFound, ValidationError
from portal.extensions import db

# A recognisable prefix lets secret scanners find leaked tokens.
TOKEN_PREFIX = "pcp_"
MAX_NAME = 100
VALIDITY_DAYS = (30, 90, 180, 365)
# Last use is written at most this often, so a busy integration does not write on every call.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(by: User, name: str, scopes: list[str], valid_days: int) -> tuple[ApiToken, str]:
    """A new token of `by`; returns the row and the token text, which is never available again."""
    policy.require(by, "account.manage_own")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationError("name", _l("Give the token a name of at most %(max)s characters.", max=MAX_NAME))
    chosen = sorted(set(scopes or ()))
    if not chosen or any(scope not in SCOPES for scope in chosen):
        raise ValidationError("scopes", _l("Choose at least one scope."))
    if valid_days not in VALIDITY_DAYS:
        raise ValidationError("valid_days", _l("Choose how long the token stays valid."))
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(user_id=by.id, name=name, prefix=text[:len(TOKEN_PREFIX) + 6], token_hash=token_hash(text),
                     scopes=" ".join(chosen), created_at=now, expires_at=now + timedelta(days=valid_days))
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", token, actor=by,
                 details={"name": name, "scopes": chosen, "expires_at": token.expires_at.isoformat()})
    return token, text


def tokens_of(user: User) -> list[ApiToken]:
    return db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                              .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())).all()


def tokens_for_admin(by: User) -> list[ApiToken]:
    """Tokens an administrator may revoke: every one (system admin) or its organisation's (platform admin)."""
    policy.require(by, "api_token.revoke_any")
    query = select(ApiToken).join(User, User.id == ApiToken.user_id).where(ApiToken.revoked_at.is_(None))
    if by.role in policy.OWN_ORGANISATION_ONLY.get("api_token.revoke_any", ()):
        query = query.where(User.organisation_id == by.organisation_id)
    return db.session.scalars(query.order_by(User.email, ApiToken.created_at.desc()).limit(1000)).all()


def revoke_token(by: User, token_id: int) -> ApiToken:
    """Its own user revokes a token, or an administrator within reach does. Outside reach: not found."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_l("Token not found."))
    if token.user_id != by.id:
        if not policy.can(by, "api_token.revoke_any", token):
            raise NotFound(_l("Token not found."))
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by_id = clock.now(), by.id
        audit.record("api_token.revoked", token, actor=by, organisation_id=by.organisation_id,
                     details={"owner": token.user_id})
    return token


def authenticate(text: str | None, ip: str | None = None) -> ApiToken | None:
    """The usable token with this text, or None. Notes its last use."""
    if not text or not text.startswith(TOKEN_PREFIX) or len(text) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(text)))
    now = clock.now()
    if token is None or not token.is_usable(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION or token.last_used_ip != ip:
        # Bookkeeping of its own: a GET of the API only reads (core/transaction).
        transaction.write(lambda: db.session.execute(
            update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now, last_used_ip=ip)))
    return token
