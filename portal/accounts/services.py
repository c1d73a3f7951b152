"""Accounts: login with mandatory TOTP, server-side sessions, password reset, preferences; organisations,
invitations and designated contacts in portal.accounts.administration.

Services flush and never commit; the view (or CLI command) commits once. Refusals are domain errors.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from functools import cache

import pyotp
from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import defer

from portal.accounts.models import (
    PasswordReset,
    RecoveryCode,
    User,
    UserSession,
)
from portal.accounts.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from portal.core import audit, clock, links, outbox, transaction
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.extensions import db

TOTP_STEP = 30
RECOVERY_CODE_COUNT = 10

# One message for an unknown e-mail, a wrong password, a deactivated and a locked account.
LOGIN_REFUSED = _l("The e-mail address or password is incorrect, or the account is temporarily locked. "
                   "Try again later or reset your password.")
CODE_REFUSED = _l("This code is not valid. Enter the current 6-digit code from your authenticator app "
                  "or an unused recovery code.")


class LoginRefused(Exception):
    message = LOGIN_REFUSED


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


# The shape of an e-mail address, checked where one is entered (an invitation, a designated contact). The
# address is proven only by mail reaching it; no whitespace, so nothing can be smuggled into mail headers.
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _client() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    return request.remote_addr, (request.user_agent.string or "")[:300]


# --- Password step ------------------------------------------------------------------------------------

def authenticate(email: str, password: str) -> User:
    """First factor. Returns the user, or records the failure and raises LoginRefused."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    now = clock.now()
    if user is None:
        verify_password(None, password)  # same work as for a real account
        audit.record("login.failure", details={"reason": "unknown_account"})
        raise LoginRefused()
    if user.locked_until and user.locked_until > now:
        verify_password(None, password)
        audit.record("login.failure", user, actor=user, details={"reason": "locked"})
        raise LoginRefused()
    if not verify_password(user.password_hash, password):
        register_failure(user, "wrong_password")
        raise LoginRefused()
    if not user.active or not user.organisation.active:
        audit.record("login.failure", user, actor=user, details={"reason": "deactivated"})
        raise LoginRefused()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record("login.password_ok", user, actor=user)
    return user


def register_failure(user: User, reason: str) -> None:
    """Count a failed attempt; the fifth in a row locks the account (and only it) for a while."""
    config = current_app.config
    user.failed_logins += 1
    audit.record("login.failure", user, actor=user, details={"reason": reason})
    if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
        user.locked_until = clock.now() + config["LOGIN_LOCKOUT"]
        user.failed_logins = 0
        audit.record("account.locked", user, actor=user,
                     details={"minutes": int(config["LOGIN_LOCKOUT"].total_seconds() // 60)})


def is_locked(user: User) -> bool:
    return bool(user.locked_until and user.locked_until > clock.now())


# --- Second factor ------------------------------------------------------------------------------------

def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step (with one step of skew either side) whose code equals `code`, if any."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP)
    step_now = int(at.timestamp()) // TOTP_STEP
    for step in (step_now - 1, step_now, step_now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_second_factor(user: User, code: str) -> str:
    """Check a TOTP code or a recovery code. Returns "totp" or "recovery"; raises ValidationError.

    A TOTP code is accepted once: its step must be later than the last accepted one.
    """
    if is_locked(user) or not user.two_factor_enrolled:
        raise ValidationError("code", CODE_REFUSED)
    step = _matching_step(user.totp_secret, code, clock.now())
    if step is not None and step > user.totp_last_step:
        user.totp_last_step = step
        audit.record("2fa.success", user, actor=user, details={"method": "totp"})
        return "totp"
    if step is not None:
        audit.record("2fa.replay_refused", user, actor=user)
    elif _use_recovery_code(user, code):
        audit.record("2fa.recovery_code_used", user, actor=user, details={"left": recovery_codes_left(user)})
        return "recovery"
    register_failure(user, "wrong_code")
    raise ValidationError("code", CODE_REFUSED)


def verify_fresh_code(user: User, code: str, purpose: str) -> int:
    """Step-up: a TOTP code entered now for `purpose` (e.g. "commitment.sign"). Returns its time step.

    The code must belong to a step later than any code this user had accepted before, for login or for
    anything else; the user's row is locked while `totp_last_step` is read and moved, so two concurrent
    uses of one code end in one success. Recovery codes are not accepted. Raises ValidationError("code").
    """
    last_step = db.session.scalar(select(User.totp_last_step).where(User.id == user.id).with_for_update())
    if is_locked(user) or not user.two_factor_enrolled or last_step is None:
        raise ValidationError("code", CODE_REFUSED)
    step = _matching_step(user.totp_secret, code, clock.now())
    if step is None or step <= last_step:
        audit.record("2fa.step_up_refused", user, actor=user,
                     details={"purpose": purpose, "reason": "replayed" if step is not None else "wrong_code"})
        raise ValidationError("code", CODE_REFUSED)
    user.totp_last_step = step
    audit.record("2fa.step_up", user, actor=user, details={"purpose": purpose, "step": step})
    return step


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _use_recovery_code(user: User, code: str) -> bool:
    digest = token_digest(_normalise_recovery(code))
    row = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None)
        )
    )
    if row is None:
        return False
    row.used_at = clock.now()
    return True


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def start_enrolment(user: User) -> str:
    """Give the user a fresh, unconfirmed TOTP secret (kept until confirmed by a code)."""
    if user.two_factor_enrolled:
        raise Conflict(_l("Two-factor authentication is already set up for this account."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret, interval=TOTP_STEP).provisioning_uri(
        name=user.email, issuer_name="Platform Cooperation Portal"
    )


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Confirm the secret with a code; returns 10 recovery codes, shown once and stored hashed."""
    if user.two_factor_enrolled:
        raise Conflict(_l("Two-factor authentication is already set up for this account."))
    step = _matching_step(user.totp_secret or "", code, clock.now())
    if step is None or step <= user.totp_last_step:
        register_failure(user, "wrong_enrolment_code")
        raise ValidationError("code", CODE_REFUSED)
    user.totp_last_step = step
    user.totp_confirmed_at = clock.now()
    codes = _new_recovery_codes(user)
    audit.record("2fa.enrolled", user, actor=user)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=clock.now())
    )
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits each, single use, behind the password
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=token_digest(raw)))
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    codes = _new_recovery_codes(user)
    audit.record("2fa.recovery_codes_regenerated", user)
    return codes


# --- Sessions -----------------------------------------------------------------------------------------

def open_session(user: User) -> UserSession:
    """Start a server-side session after both factors. The plain token is on the returned object only."""
    now = clock.now()
    token = secrets.token_urlsafe(32)
    ip, agent = _client()
    session = UserSession(
        token_hash=token_digest(token), user_id=user.id, created_at=now, last_seen_at=now,
        expires_at=now + current_app.config["SESSION_ABSOLUTE_TIMEOUT"], ip=ip, user_agent=agent,
    )
    session.token = token
    db.session.add(session)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.flush()
    user.current_session = session
    audit.record("login.success", session, actor=user)
    return session


@cache  # every page runs it: built once, on first use (not at import, before the mappers are configured)
def _session_by_token():
    # The user with its organisation as objects (every page uses them); of the session, the columns its
    # checks read (User.current_session loads the object for the pages that act on it). The TOTP secret is
    # decrypted only when a code is checked.
    return (select(User, UserSession.id, UserSession.revoked_at, UserSession.expires_at, UserSession.last_seen_at)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.token_hash == bindparam("token_hash"))
            .options(defer(User.totp_secret)))


def load_session(token: str) -> User | None:
    """The user behind a session token, if the session is open, not idle too long and not too old."""
    if not token:
        return None
    found = db.session.execute(_session_by_token(), {"token_hash": token_digest(token)}).first()
    if found is None or found.revoked_at is not None:
        return None
    now = clock.now()
    user, session_id = found.User, found.id
    # This runs while a page reads: the bookkeeping is a write of its own (core/transaction).
    ending = ("deactivated" if not user.active else "absolute_timeout" if now >= found.expires_at
              else "idle_timeout" if now - found.last_seen_at >= current_app.config["SESSION_IDLE_TIMEOUT"]
              else None)
    if ending:
        transaction.write(lambda: close_session(db.session.get(UserSession, session_id), ending))
        return None
    # Record activity at most once a minute: enough for a 30-minute idle limit, far fewer writes.
    if (now - found.last_seen_at).total_seconds() >= 60:
        transaction.write(lambda: db.session.execute(
            update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)))
    user.current_session_id, user.session_token = session_id, token
    return user


def close_session(session: UserSession, reason: str, by: User | None = None) -> None:
    if session.revoked_at is not None:
        return
    session.revoked_at = clock.now()
    session.revoked_reason = reason
    audit.record("session.revoked", session, actor=by or session.user, details={"reason": reason})


def close_sessions(user: User, reason: str, *, keep: UserSession | None = None, by: User | None = None) -> int:
    sessions = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    ).all()
    closed = 0
    for session in sessions:
        if keep is not None and session.id == keep.id:
            continue
        close_session(session, reason, by=by)
        closed += 1
    return closed


def open_sessions(user: User) -> list[UserSession]:
    return db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
               UserSession.expires_at > clock.now())
        .order_by(UserSession.last_seen_at.desc())
    ).all()


def revoke_own_session(user: User, session_id: int) -> None:
    session = db.session.get(UserSession, session_id)
    if session is None or session.user_id != user.id:
        raise NotFound(_l("Session not found."))
    close_session(session, "revoked_by_user", by=user)


# --- Passwords and preferences ---------------------------------------------------------------------------

def change_password(user: User, current: str, new: str, *, revoke_tokens: bool = True) -> None:
    """Change the password; every other session of the user ends, and every reset link still open. The
    user's API tokens are revoked too unless they choose to keep them."""
    if not verify_password(user.password_hash, current):
        raise ValidationError("current_password", _l("The current password is incorrect."))
    check_password_policy(new, "new_password")
    user.password_hash = hash_password(new)
    user.password_changed_at = clock.now()
    close_sessions(user, "password_changed", keep=user.current_session)
    cancel_reset_links(user)
    if revoke_tokens:
        revoke_api_tokens(user, "password_changed", by=user)
    audit.record("password.changed", user, details={"api_tokens_revoked": revoke_tokens})


def cancel_reset_links(user: User) -> int:
    """Every password reset link of the user still open stops working (used or not, it is spent)."""
    result = db.session.execute(
        update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=clock.now())
    )
    return result.rowcount or 0


def revoke_api_tokens(user: User, reason: str, *, by: User | None = None) -> int:
    """Revoke every API token of the user still open; one audit row each (the token's id, not its text)."""
    from portal.api.models import ApiToken  # the API builds on accounts, not the other way round

    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    actor = by or user
    now = clock.now()
    for token in tokens:
        token.revoked_at, token.revoked_by_id = now, actor.id
        audit.record("api_token.revoked", token, actor=actor, organisation_id=actor.organisation_id,
                     details={"owner": user.id, "reason": reason})
    return len(tokens)


def update_preferences(user: User, language: str, timezone: str) -> None:
    if language not in current_app.config["LANGUAGES"]:
        raise ValidationError("language", _l("Choose Korean or English."))
    if not clock.is_valid_zone(timezone):
        raise ValidationError("timezone", _l("Choose a time zone from the list."))
    user.language, user.timezone = language, timezone
    audit.record("account.preferences_changed", user, details={"language": language, "timezone": timezone})


def set_language(user: User, language: str) -> None:
    """The language switcher: the user's own setting wins over the session, so it is saved there."""
    if language not in current_app.config["LANGUAGES"]:
        raise ValidationError("language", _l("Choose Korean or English."))
    user.language = language


def request_password_reset(email: str) -> None:
    """Send a reset link if an active account has this e-mail. Says nothing either way."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        audit.record("password.reset_requested", details={"known": False})
        return
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(PasswordReset(
        token_hash=token_digest(token), user_id=user.id, created_at=now,
        expires_at=now + current_app.config["PASSWORD_RESET_VALIDITY"],
    ))
    audit.record("password.reset_requested", user, actor=user, details={"known": True})
    outbox.enqueue_email(
        "password_reset", recipient=user.email, language=user.language, user_id=user.id,
        user=user, link=links.absolute("accounts.reset_password", token=token),
        valid_hours=int(current_app.config["PASSWORD_RESET_VALIDITY"].total_seconds() // 3600),
    )


def _reset_for(token: str) -> PasswordReset:
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= clock.now() or not reset.user.active:
        raise NotFound(_l("This link is invalid or has expired. Ask for a new one."))
    return reset


def check_reset_token(token: str) -> None:
    _reset_for(token)


def reset_password(token: str, new: str) -> User:
    """Set a new password from a reset link. Every session, every other reset link and every API token of
    the user ends; the next login still asks for the code."""
    reset = _reset_for(token)
    check_password_policy(new, "password")
    user = reset.user
    reset.used_at = clock.now()
    user.password_hash = hash_password(new)
    user.password_changed_at = clock.now()
    user.failed_logins, user.locked_until = 0, None
    close_sessions(user, "password_reset")
    cancel_reset_links(user)  # a second link asked for earlier must not work after this one
    revoke_api_tokens(user, "password_reset")
    audit.record("password.reset", user, actor=user)
    return user


# Administration lives in its own module; its services stay reachable here, where callers look for them.
from portal.accounts.administration import (  # noqa: E402
    accept_invitation,
    active_contacts,
    add_contact,
    change_role,
    create_organisation,
    deactivate_user,
    invitation_for,
    invite,
    reactivate_user,
    reset_two_factor,
    revoke_invitation,
    role_fits,
    set_contact_active,
    update_contact,
)
