"""Accounts: login with mandatory TOTP, server-side sessions, invitations, password reset, organisations,
designated contacts.

Services flush and never commit; the view (or CLI command) commits once. Refusals are domain errors.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from portal.accounts.models import (
    ORGANISATION_KINDS,
    DesignatedContact,
    Invitation,
    Organisation,
    PasswordReset,
    RecoveryCode,
    User,
    UserSession,
)
from portal.accounts import recipients
from portal.accounts.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from portal.core import audit, clock, links, outbox, policy, transaction
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.extensions import db
from portal.i18n import Number

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


def load_session(token: str) -> User | None:
    """The user behind a session token, if the session is open, not idle too long and not too old."""
    if not token:
        return None
    session = db.session.scalar(select(UserSession).where(UserSession.token_hash == token_digest(token)))
    if session is None or not session.is_open:
        return None
    now = clock.now()
    user = session.user
    # This runs while a page reads: the bookkeeping is a write of its own (core/transaction).
    ending = ("deactivated" if not user.active else "absolute_timeout" if now >= session.expires_at
              else "idle_timeout" if now - session.last_seen_at >= current_app.config["SESSION_IDLE_TIMEOUT"]
              else None)
    if ending:
        transaction.write(lambda: close_session(db.session.get(UserSession, session.id), ending))
        return None
    # Record activity at most once a minute: enough for a 30-minute idle limit, far fewer writes.
    if (now - session.last_seen_at).total_seconds() >= 60:
        transaction.write(lambda: db.session.execute(
            update(UserSession).where(UserSession.id == session.id).values(last_seen_at=now)))
    session.token = token
    user.current_session = session
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


# --- Organisations, invitations, administration ---------------------------------------------------------

def create_organisation(by: User, *, code: str, kind: str, name_ko: str, name_en: str,
                        country: str, timezone: str) -> Organisation:
    policy.require(by, "organisation.manage")
    code = (code or "").strip().upper()
    if not (2 <= len(code) <= 12 and code.isascii() and code.isalnum()):
        raise ValidationError("code", _l("Use 2 to 12 Latin letters or digits."))
    if db.session.scalar(select(Organisation.id).where(Organisation.code == code)):
        raise ValidationError("code", _l("This code is already used by another organisation."))
    if kind not in ORGANISATION_KINDS:
        raise ValidationError("kind", _l("Choose a kind of organisation."))
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ValidationError("country", _l("Use the two-letter country code (ISO 3166-1), e.g. KR or US."))
    if not clock.is_valid_zone(timezone):
        raise ValidationError("timezone", _l("Choose a time zone from the list."))
    if not name_ko.strip() or not name_en.strip():
        raise ValidationError("name_ko" if not name_ko.strip() else "name_en", _l("This field is required."))
    organisation = Organisation(code=code, kind=kind, name_ko=name_ko.strip(), name_en=name_en.strip(),
                                country=country, timezone=timezone)
    db.session.add(organisation)
    db.session.flush()
    audit.record("organisation.created", organisation, actor=by, details={"code": code, "kind": kind})
    return organisation


def role_fits(role: str, organisation: Organisation) -> bool:
    kind = policy.ROLES.get(role, "?")
    return kind is None or kind == organisation.kind


def invite(by: User, *, email: str, name: str, organisation: Organisation, role: str,
           language: str) -> Invitation:
    """Invite someone to an organisation with a role. A single-use link valid 72 hours goes out by e-mail."""
    policy.require(by, "user.invite", organisation)
    email = normalise_email(email)
    if role not in policy.INVITABLE_ROLES.get(by.role, ()):
        raise ValidationError("role", _l("You cannot give this role."))
    if not role_fits(role, organisation):
        raise ValidationError("role", _l("This role does not fit this kind of organisation."))
    if not organisation.active:
        raise ValidationError("organisation", _l("This organisation is deactivated."))
    if language not in current_app.config["LANGUAGES"]:
        raise ValidationError("language", _l("Choose Korean or English."))
    existing = db.session.scalar(select(User).where(User.email == email))
    # Say that the account exists only to whom can see it anyway. For an account outside the inviter's reach
    # the invitation is recorded as usual but no link goes out: the inviter learns nothing, and the account
    # (its owner still logs in as before) cannot be taken over or disturbed.
    hidden = existing is not None and not policy.can(by, "user.view", existing)
    if existing is not None and not hidden:
        raise ValidationError("email", _l("An account with this e-mail address already exists."))
    now = clock.now()
    # A new invitation to the same address replaces any that is still open in the same organisation (and
    # only there: no one withdraws another organisation's invitation by inviting the same address).
    db.session.execute(
        update(Invitation).where(Invitation.email == email, Invitation.organisation_id == organisation.id,
                                 Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=token_digest(token), email=email, name=name.strip(), organisation_id=organisation.id,
        role=role, language=language, invited_by_id=by.id, created_at=now,
        expires_at=now + current_app.config["INVITATION_VALIDITY"],
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record("user.invited", invitation, actor=by, organisation_id=by.organisation_id,
                 details={"organisation": organisation.code, "role": role})
    if hidden:
        # Filed under the account's organisation, not the inviter's: its administrators see the attempt.
        audit.record("invitation.existing_account", existing, actor=by, organisation_id=existing.organisation_id,
                     details={"organisation": organisation.code, "invitation": invitation.id})
        return invitation
    outbox.enqueue_email(
        "invitation", recipient=email, language=language, invitation=invitation, inviter=by,
        organisation=organisation, link=links.absolute("accounts.accept_invitation", token=token),
        expires_at=invitation.expires_at,
    )
    return invitation


def invitation_for(token: str) -> Invitation:
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == token_digest(token)))
    if (invitation is None or invitation.accepted_at is not None or invitation.revoked_at is not None
            or invitation.expires_at <= clock.now()):
        raise NotFound(_l("This invitation is invalid, has already been used or has expired. "
                          "Ask the person who invited you for a new one."))
    return invitation


def accept_invitation(token: str, *, password: str, timezone: str) -> User:
    """Create the account from an invitation. The user then enrols two-factor authentication."""
    invitation = invitation_for(token)
    check_password_policy(password, "password")
    if not clock.is_valid_zone(timezone):
        raise ValidationError("timezone", _l("Choose a time zone from the list."))
    if db.session.scalar(select(User.id).where(User.email == invitation.email)):
        raise Conflict(_l("An account with this e-mail address already exists."))
    user = User(
        email=invitation.email, name=invitation.name, organisation_id=invitation.organisation_id,
        role=invitation.role, language=invitation.language, timezone=timezone,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    invitation.accepted_at = clock.now()
    db.session.flush()
    audit.record("invitation.accepted", invitation, actor=user)
    return user


def _require_manageable(by: User, user: User, permission: str) -> None:
    """One may act on accounts only within reach and only of roles one could give (a platform admin
    never acts on a system administrator)."""
    policy.require(by, permission, user)
    if user.role not in policy.INVITABLE_ROLES.get(by.role, ()):
        raise policy.PermissionDenied(permission, user)


def deactivate_user(by: User, user: User) -> None:
    _require_manageable(by, user, "user.deactivate")
    if user.id == by.id:
        raise Conflict(_l("You cannot deactivate your own account."))
    if not user.active:
        raise Conflict(_l("This account is already deactivated."))
    user.active = False
    close_sessions(user, "deactivated", by=by)
    cancel_reset_links(user)
    revoke_api_tokens(user, "deactivated", by=by)
    audit.record("user.deactivated", user, actor=by)


def reactivate_user(by: User, user: User) -> None:
    _require_manageable(by, user, "user.deactivate")
    if user.active:
        raise Conflict(_l("This account is already active."))
    user.active = True
    audit.record("user.reactivated", user, actor=by)


def reset_two_factor(by: User, user: User) -> None:
    """Clear a user's authenticator and recovery codes; they enrol again at their next login."""
    _require_manageable(by, user, "user.reset_2fa")
    user.totp_secret, user.totp_confirmed_at = None, None
    db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=clock.now())
    )
    close_sessions(user, "2fa_reset", by=by)
    revoke_api_tokens(user, "2fa_reset", by=by)
    audit.record("2fa.reset", user, actor=by)


def change_role(by: User, user: User, role: str) -> None:
    _require_manageable(by, user, "user.deactivate")
    if role not in policy.INVITABLE_ROLES.get(by.role, ()) or not role_fits(role, user.organisation):
        raise ValidationError("role", _l("You cannot give this role."))
    if user.id == by.id:
        raise Conflict(_l("You cannot change your own role."))
    old = user.role
    user.role = role
    close_sessions(user, "role_changed", by=by)
    audit.record("user.role_changed", user, actor=by, details={"from": old, "to": role})


def revoke_invitation(by: User, invitation: Invitation) -> None:
    """Withdraw an open invitation: its link stops working at once."""
    policy.require(by, "user.invite", invitation)
    if invitation.accepted_at is not None:
        raise Conflict(_l("This invitation has already been accepted."))
    if invitation.revoked_at is not None:
        raise Conflict(_l("This invitation has already been withdrawn."))
    invitation.revoked_at = clock.now()
    audit.record("invitation.revoked", invitation, actor=by, details={"organisation": invitation.organisation.code})


# --- Designated contacts -------------------------------------------------------------------------------------

MAX_CONTACT_NOTES = 2_000


def _contact_fields(organisation: Organisation, *, name: str, email: str, language: str, timezone: str,
                    notes: str, contact: DesignatedContact | None = None) -> dict:
    """The cleaned fields of a contact, or ValidationError on the first bad one."""
    name, email, notes = (name or "").strip(), normalise_email(email), (notes or "").strip()
    if not name:
        raise ValidationError("name", _l("This field is required."))
    if len(name) > 200:
        raise ValidationError("name", _l("Use at most %(n)s characters.", n=200))
    if len(email) > 254 or not EMAIL_SHAPE.match(email):
        raise ValidationError("email", _l("Enter an e-mail address such as name@example.org."))
    if language not in current_app.config["LANGUAGES"]:
        raise ValidationError("language", _l("Choose Korean or English."))
    if not clock.is_valid_zone(timezone):
        raise ValidationError("timezone", _l("Choose a time zone from the list."))
    if len(notes) > MAX_CONTACT_NOTES:
        raise ValidationError("notes", _l("Use at most %(n)s characters.", n=Number(MAX_CONTACT_NOTES)))
    same = select(DesignatedContact.id).where(DesignatedContact.organisation_id == organisation.id,
                                              DesignatedContact.email == email)
    if contact is not None:
        same = same.where(DesignatedContact.id != contact.id)
    if db.session.scalar(same):
        raise ValidationError("email", _l("This address is already a designated contact of this organisation."))
    return {"name": name, "email": email, "language": language, "timezone": timezone, "notes": notes}


def add_contact(by: User, organisation: Organisation, *, name: str, email: str, language: str, timezone: str,
                notes: str = "") -> DesignatedContact:
    """Name an address of a platform that escalations also go to. A platform admin: their own platform only."""
    policy.require(by, "contact.manage", organisation)
    if organisation.kind != "platform":
        raise ValidationError("organisation", _l("Only platforms have designated contacts."))
    fields = _contact_fields(organisation, name=name, email=email, language=language, timezone=timezone,
                             notes=notes)
    now = clock.now()
    contact = DesignatedContact(organisation_id=organisation.id, created_at=now, updated_at=now, **fields)
    db.session.add(contact)
    db.session.flush()
    audit.record("contact.created", contact, actor=by,
                 details={"organisation": organisation.code, "language": language, "timezone": timezone})
    return contact


def update_contact(by: User, contact: DesignatedContact, *, name: str, email: str, language: str, timezone: str,
                   notes: str = "") -> list[str]:
    """Change a contact; returns the names of the fields that changed (recorded, not their values)."""
    policy.require(by, "contact.manage", contact)
    fields = _contact_fields(contact.organisation, name=name, email=email, language=language,
                             timezone=timezone, notes=notes, contact=contact)
    changed = sorted(key for key, value in fields.items() if getattr(contact, key) != value)
    if not changed:
        return []
    for key in changed:
        setattr(contact, key, fields[key])
    contact.updated_at = clock.now()
    audit.record("contact.updated", contact, actor=by,
                 details={"organisation": contact.organisation.code, "changed": changed})
    return changed


def set_contact_active(by: User, contact: DesignatedContact, active: bool) -> None:
    """Deactivate a contact (no more e-mail to it, kept for the record) or make it active again."""
    policy.require(by, "contact.manage", contact)
    if contact.active == active:
        raise Conflict(_l("This contact is already active.") if active
                       else _l("This contact is already deactivated."))
    contact.active = active
    contact.updated_at = clock.now()
    audit.record("contact.reactivated" if active else "contact.deactivated", contact, actor=by,
                 details={"organisation": contact.organisation.code})


def active_contacts(organisation_id: int) -> list[DesignatedContact]:
    """The active designated contacts of an organisation, by id: whom an escalation also reaches."""
    return recipients.designated_contacts_of(organisation_id)
