"""Administration of accounts: organisations, invitations, deactivation and roles, designated contacts.

Services flush and never commit; refusals are domain errors (see portal.accounts.services).
"""
from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.accounts.models import (
    ORGANISATION_KINDS,
    DesignatedContact,
    Invitation,
    Organisation,
    RecoveryCode,
    User,
)
from portal.accounts import recipients
from portal.accounts.passwords import check_password_policy, hash_password
from portal.accounts.services import (
    EMAIL_SHAPE,
    cancel_reset_links,
    close_sessions,
    normalise_email,
    revoke_api_tokens,
    token_digest,
)
from portal.core import audit, clock, links, outbox, policy
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.extensions import db
from portal.i18n import Number


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
