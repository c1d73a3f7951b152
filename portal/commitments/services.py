"""Compliance commitments: every rule of keeping templates, making a commitment, signing, countersigning,
withdrawing, expiring and renewing it.

Services flush, never commit. Every state change goes through `_move`, a `core.workflow.transition` on the
table `COMMITMENTS`, which re-reads the state under the row's lock, refuses with `Conflict` when the action
no longer applies, and records the audit row.
The canonical document is issued once, when the commitment is sent for signature, and its SHA-256 is
fixed then; a signature is accepted only for that hash, after re-reading the stored bytes, and only with a
fresh TOTP code (`accounts.services.verify_fresh_code`: a step later than any accepted before).
"""
from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from flask import has_request_context, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import NoResultFound

from portal.accounts import services as accounts
from portal.accounts.models import Organisation, User
from portal.commitments import text
from portal.commitments.models import (
    AGENCY_SIDE,
    AWAITING_SIGNATURE,
    DRAFT,
    EXPIRED,
    IN_FORCE,
    PLATFORM_SIDE,
    SIGNED,
    SUPERSEDED,
    WITHDRAWN,
    Commitment,
    CommitmentTemplate,
    Signature,
)
from portal.core import audit, clock, events, policy, workflow
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.core.workflow import Transition
from portal.extensions import db

# The lifecycle: one table of core.workflow transitions, taken by `_move`. Expiring and superseding are the
# system's steps (by=None).
_CHANGED = _l("This commitment has changed meanwhile: reload the page.")
TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("send_for_signature", frozenset({DRAFT}), AWAITING_SIGNATURE, "commitment.create", _CHANGED),
    Transition("sign", frozenset({AWAITING_SIGNATURE}), SIGNED, "commitment.sign", _CHANGED),
    Transition("countersign", frozenset({SIGNED}), IN_FORCE, "commitment.countersign", _CHANGED),
    Transition("expire", frozenset({IN_FORCE}), EXPIRED, None, _CHANGED),
    Transition("supersede", frozenset({IN_FORCE}), SUPERSEDED, None, _CHANGED),
    Transition("withdraw", frozenset({DRAFT, AWAITING_SIGNATURE, SIGNED, IN_FORCE}), WITHDRAWN,
               "commitment.withdraw", _CHANGED),
)}
# Commitments keep no history table of their own: the audit trail is their history. System steps are
# recorded for the countersigning agency.
COMMITMENTS = workflow.Workflow(name="commitment", model=Commitment, transitions=TRANSITIONS.values(),
                                history=lambda *args, **kwargs: None,
                                audit_organisation=lambda commitment, by: commitment.agency_id)
ENDED = frozenset({EXPIRED, SUPERSEDED, WITHDRAWN})

# The sentence a signer consents to, in their language; the record keeps the exact text shown.
CONSENT = {
    "ko": "본인은 위 문서(SHA-256 {sha256})를 읽었으며, {organisation}을(를) 대표하여 그 내용에 동의하고 "
          "서명할 권한이 있음을 확인합니다.",
    "en": "I have read the document above (SHA-256 {sha256}) and, being authorised to do so, I agree to it "
          "and sign it on behalf of {organisation}.",
}
MAX_TERM_DAYS = 5 * 366
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")


# --- Templates ------------------------------------------------------------------------------------------

def templates_latest() -> list[CommitmentTemplate]:
    """The newest version of every template, by code."""
    newest = (select(CommitmentTemplate.code, func.max(CommitmentTemplate.version).label("v"))
              .group_by(CommitmentTemplate.code).subquery())
    return list(db.session.scalars(select(CommitmentTemplate).join(
        newest, (CommitmentTemplate.code == newest.c.code) & (CommitmentTemplate.version == newest.c.v))
        .order_by(CommitmentTemplate.code)))


def get_template(template_id: int) -> CommitmentTemplate:
    template = db.session.get(CommitmentTemplate, template_id)
    if template is None:
        raise NotFound(_l("Commitment template not found."))
    return template


def newest_version(code: str) -> CommitmentTemplate:
    return db.session.scalar(select(CommitmentTemplate).where(CommitmentTemplate.code == code)
                             .order_by(CommitmentTemplate.version.desc()).limit(1))


def _template_fields(title_ko: str, title_en: str, body_ko: str, body_en: str) -> dict:
    fields = {"title_ko": (title_ko or "").strip(), "title_en": (title_en or "").strip(),
              "body_ko": body_ko or "", "body_en": body_en or ""}
    for name in ("title_ko", "title_en"):
        if not fields[name] or len(fields[name]) > 300:
            raise ValidationError(name, _l("Enter a title of at most 300 characters."))
    for name in ("body_ko", "body_en"):
        if not fields[name].strip():
            raise ValidationError(name, _l("Enter the text."))
        text.check(name, fields[name])
    return fields


def create_template(by: User, *, title_ko: str, title_en: str, body_ko: str, body_en: str,
                    code: str | None = None) -> CommitmentTemplate:
    """Version 1 of a new template (or the next version of `code` if it exists)."""
    policy.require(by, "commitment_template.manage")
    fields = _template_fields(title_ko, title_en, body_ko, body_en)
    code = (code or f"t-{uuid.uuid4().hex[:12]}").strip().lower()
    if not CODE_RE.match(code):
        raise ValidationError("code", _l("Use 2 to 40 lower-case letters, digits, - or _."))
    previous = newest_version(code)
    template = CommitmentTemplate(code=code, version=(previous.version + 1) if previous else 1,
                                  created_by_id=by.id, created_at=clock.now(), **fields)
    db.session.add(template)
    db.session.flush()
    audit.record("commitment_template.created", template, details={"code": code, "version": template.version})
    return template


def revise_template(by: User, template: CommitmentTemplate, **fields) -> CommitmentTemplate:
    """A change makes a new version; commitments keep pointing to the version they were made from."""
    return create_template(by, code=template.code, **fields)


# --- Reading --------------------------------------------------------------------------------------------

def visible(by: User):
    query = policy.scoped(select(Commitment), Commitment, by, "commitment.view")
    return query.order_by(Commitment.created_at.desc(), Commitment.id.desc())


def get(by: User, commitment_id: int) -> Commitment:
    """The commitment, or NotFound when it does not exist or lies outside `by`'s reach (the same)."""
    commitment = db.session.get(Commitment, commitment_id)
    if commitment is None or not policy.can(by, "commitment.view", commitment):
        raise NotFound(_l("Commitment not found."))
    return commitment


def may_sign(by: User, commitment: Commitment) -> bool:
    return (policy.can(by, "commitment.sign", commitment) and by.authorised_signatory
            and by.organisation_id == commitment.platform_id)


def may_countersign(by: User, commitment: Commitment) -> bool:
    return policy.can(by, "commitment.countersign", commitment) and by.organisation_id == commitment.agency_id


def consent_text(commitment: Commitment, language: str) -> str:
    platform = commitment.platform
    name = platform.name(language)
    return CONSENT["ko" if language == "ko" else "en"].format(sha256=commitment.document_sha256 or "",
                                                              organisation=name)


def record_viewed(by: User, commitment: Commitment) -> None:
    """The signatory saw the exact document: an event of the commitment's evidence."""
    if may_sign(by, commitment) and commitment.status == AWAITING_SIGNATURE:
        audit.record("commitment.viewed", commitment, actor=by,
                     details={"sha256": commitment.document_sha256})


# --- Creating -------------------------------------------------------------------------------------------

def _organisation(field: str, code: str, kind: str) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(
        Organisation.code == (code or "").strip().upper(), Organisation.kind == kind, Organisation.active))
    if organisation is None:
        raise ValidationError(field, _l("No such organisation."))
    return organisation


def create(by: User, *, template_id: int, platform_code: str, agency_code: str, effective_from: date,
           valid_until: date, renews: Commitment | None = None) -> Commitment:
    """A commitment in draft from one exact template version, for one platform."""
    policy.require(by, "commitment.create")
    template = db.session.get(CommitmentTemplate, template_id) if template_id else None
    if template is None:
        raise ValidationError("template", _l("No such template."))
    platform = _organisation("platform", platform_code, "platform")
    agency = _organisation("countersigning_agency", agency_code, "agency")
    if by.role == "regulator_supervisor" and agency.id != by.organisation_id:
        raise ValidationError("countersigning_agency", _l("A supervisor makes commitments for their own agency."))
    if not isinstance(effective_from, date) or not isinstance(valid_until, date):
        raise ValidationError("effective_from", _l("Enter the dates."))
    if valid_until <= effective_from or (valid_until - effective_from).days > MAX_TERM_DAYS:
        raise ValidationError("valid_until", _l("The end must follow the start, within five years."))
    now = clock.now()
    commitment = Commitment(reference=f"CMT-{uuid.uuid4().hex[:16]}", template_id=template.id,
                            platform_id=platform.id, agency_id=agency.id, created_by_id=by.id,
                            effective_from=effective_from, valid_until=valid_until, status=DRAFT,
                            renews_id=renews.id if renews is not None else None, created_at=now, updated_at=now)
    db.session.add(commitment)
    db.session.flush()
    commitment.reference = f"CMT-{now.year}-{commitment.id:06d}"
    audit.record("commitment.created", commitment, organisation_id=agency.id,
                 details={"template": template.id, "version": template.version, "platform": platform.code})
    return commitment


def _require_maker(by: User, commitment: Commitment) -> None:
    policy.require(by, "commitment.create")
    if by.role != "secretariat" and by.organisation_id != commitment.agency_id:
        raise NotFound(_l("Commitment not found."))


def placeholder_values(commitment: Commitment) -> dict[str, str]:
    platform, agency = commitment.platform, commitment.agency
    contacts = accounts.active_contacts(platform.id)
    contact = contacts[0] if contacts else None
    return {"platform_name_ko": platform.name_ko, "platform_name_en": platform.name_en,
            "agency_name_ko": agency.name_ko, "agency_name_en": agency.name_en,
            "contact_name": contact.name if contact else "", "contact_email": contact.email if contact else "",
            "effective_from": commitment.effective_from.isoformat(),
            "valid_until": commitment.valid_until.isoformat(), "reference": commitment.reference}


def send_for_signature(by: User, commitment: Commitment) -> None:
    """Render the text and the canonical document once and fix its SHA-256; the platform may now sign."""
    from portal.commitments import evidence

    _require_maker(by, commitment)
    _move(by, commitment, "send_for_signature")
    values = placeholder_values(commitment)
    commitment.text_ko = text.render("body_ko", commitment.template.body_ko, values)
    commitment.text_en = text.render("body_en", commitment.template.body_en, values)
    document = evidence.issue_commitment_document(by, commitment)
    commitment.document_id, commitment.document_sha256 = document.id, document.sha256
    commitment.sent_at = clock.now()
    audit.record("commitment.document_fixed", commitment, details={"sha256": document.sha256})
    events.emit("commitment.awaiting_signature", commitment=commitment)


# --- Signing --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str | None

    @classmethod
    def current(cls) -> Client:
        if not has_request_context():
            return cls(None, None)
        return cls(request.remote_addr, (request.user_agent.string or "")[:300])


def _check_document(commitment: Commitment, offered_sha256: str | None) -> str:
    """The hash fixed before signing, after checking the stored bytes still have it and the signer was
    shown that very document."""
    from portal.core.documents import DocumentError, read_document

    fixed = commitment.document_sha256
    if not fixed or commitment.document is None:
        raise Conflict(_l("This commitment has no document to sign yet."))
    try:
        data = read_document(commitment.document)
    except DocumentError:
        raise Conflict(_l("The document of this commitment cannot be read; it cannot be signed."))
    if hashlib.sha256(data).hexdigest() != fixed or commitment.document.sha256 != fixed:
        raise Conflict(_l("The document of this commitment has changed; it cannot be signed."))
    if offered_sha256 is not None and offered_sha256.strip().lower() != fixed:
        raise Conflict(_l("The document has changed since you opened it: reload the page."))
    return fixed


def _signature(by: User, commitment: Commitment, side: str, *, name: str, title: str, language: str,
               step: int, sha256: str) -> Signature:
    client = Client.current()
    signature = Signature(commitment=commitment, side=side, user_id=by.id, organisation_id=by.organisation_id,
                          name=name, title=title, language=language,
                          consent_text=consent_text(commitment, language), signed_at=clock.now(), ip=client.ip,
                          user_agent=client.user_agent, totp_step=step, document_sha256=sha256)
    db.session.add(signature)
    return signature


def _name_and_title(name: str, title: str) -> tuple[str, str]:
    name, title = (name or "").strip(), (title or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("name", _l("Enter your full name (at most 200 characters)."))
    if not title or len(title) > 200:
        raise ValidationError("title", _l("Enter your title (at most 200 characters)."))
    return name, title


def sign(by: User, commitment: Commitment, *, name: str, title: str, consent: bool, code: str,
         language: str, document_sha256: str | None = None) -> Signature:
    """The platform's authorised signatory signs the exact document, after a fresh TOTP code."""
    from portal.commitments import evidence

    policy.require(by, "commitment.sign", commitment)
    if by.organisation_id != commitment.platform_id:
        raise NotFound(_l("Commitment not found."))
    if not by.authorised_signatory:
        raise policy.PermissionDenied("commitment.sign", commitment)
    name, title = _name_and_title(name, title)
    if consent is not True:
        raise ValidationError("consent", _l("Confirm the consent sentence to sign."))
    _lock_checked(commitment, "sign")
    sha256 = _check_document(commitment, document_sha256)
    step = accounts.verify_fresh_code(by, code, "commitment.sign")
    signature = _signature(by, commitment, PLATFORM_SIDE, name=name, title=title, language=language, step=step,
                           sha256=sha256)
    _move(by, commitment, "sign", {"sha256": sha256, "step": step})
    commitment.signed_at = signature.signed_at
    db.session.flush()
    signed = evidence.sign_for_platform(by, commitment, signature)
    commitment.signed_document_id = signed.id
    audit.record("commitment.platform_signature_applied", commitment, details={"sha256": signed.sha256})
    return signature


def countersign(by: User, commitment: Commitment, *, code: str, language: str,
                document_sha256: str | None = None) -> Signature:
    """A supervisor of the countersigning agency countersigns; the commitment is in force and its
    evidence certificate is issued."""
    from portal.commitments import evidence

    policy.require(by, "commitment.countersign", commitment)
    if by.organisation_id != commitment.agency_id:
        raise NotFound(_l("Commitment not found."))
    _lock_checked(commitment, "countersign")
    sha256 = _check_document(commitment, document_sha256)
    step = accounts.verify_fresh_code(by, code, "commitment.countersign")
    signature = _signature(by, commitment, AGENCY_SIDE, name=by.name, title=in_language(_l("Supervisor"), language),
                           language=language, step=step, sha256=sha256)
    _move(by, commitment, "countersign", {"sha256": sha256, "step": step})
    commitment.in_force_at = signature.signed_at
    db.session.flush()
    signed = evidence.countersign_for_agency(by, commitment, signature)
    commitment.signed_document_id = signed.id
    audit.record("commitment.agency_signature_applied", commitment, details={"sha256": signed.sha256})
    if commitment.renews is not None and commitment.renews.status == IN_FORCE:
        _move(None, commitment.renews, "supersede", {"renewal": commitment.id})
        commitment.renews.ended_at = clock.now()
    certificate = evidence.issue_certificate(by, commitment)
    commitment.certificate_id = certificate.id
    events.emit("commitment.in_force", commitment=commitment)
    return signature


def withdraw(by: User, commitment: Commitment, reason: str) -> None:
    policy.require(by, "commitment.withdraw", commitment)
    if by.organisation_id != commitment.agency_id:
        raise NotFound(_l("Commitment not found."))
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000:
        raise ValidationError("reason", _l("Give the reason (at most 2,000 characters)."))
    _move(by, commitment, "withdraw", {"reason_length": len(reason)})
    commitment.withdraw_reason = reason
    commitment.ended_at = clock.now()


def may_renew(by: User, commitment: Commitment) -> bool:
    """Whether `by` may renew it now: the secretariat or a supervisor of the countersigning agency, while the
    commitment is in force and has no renewal yet."""
    return (commitment.status == IN_FORCE and policy.can(by, "commitment.create")
            and (by.role == "secretariat" or by.organisation_id == commitment.agency_id)
            and renewal_of(commitment) is None)


def renewal_of(commitment: Commitment) -> Commitment | None:
    return db.session.scalar(select(Commitment).where(Commitment.renews_id == commitment.id))


def renewal_term(commitment: Commitment) -> tuple[date, date]:
    """The term a renewal proposes: from the day after this one ends, as long as this one (a term of whole
    years gives whole years again, leap days or not)."""
    start = commitment.valid_until + timedelta(days=1)
    years = start.year - commitment.effective_from.year
    if years > 0 and _years_later(commitment.effective_from, years) == start:
        return start, _years_later(start, years) - timedelta(days=1)
    return start, start + (commitment.valid_until - commitment.effective_from)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def renew(by: User, commitment: Commitment, *, effective_from: date | None = None,
          valid_until: date | None = None) -> Commitment:
    """A renewal: a new draft from the newest version of the same template, which supersedes this one once
    countersigned. Without dates, the term of `renewal_term`. A commitment is renewed once (the row's
    `renews` is unique): a second renewal, or one of a commitment no longer in force, is a Conflict."""
    _require_maker(by, commitment)
    if _lock(commitment) != IN_FORCE:
        raise Conflict(_l("Only a commitment in force can be renewed."))
    existing = renewal_of(commitment)
    if existing is not None:
        raise Conflict(_l("This commitment already has a renewal: %(reference)s.", reference=existing.reference))
    proposed = renewal_term(commitment)
    newest = newest_version(commitment.template.code)
    renewal = create(by, template_id=newest.id, platform_code=commitment.platform.code,
                     agency_code=commitment.agency.code, effective_from=effective_from or proposed[0],
                     valid_until=valid_until or proposed[1], renews=commitment)
    audit.record("commitment.renewed", commitment, details={"renewal": renewal.id, "version": newest.version})
    return renewal


def set_signatory(by: User, user: User, authorised: bool) -> None:
    """The platform admin names (or un-names) a user of the platform as authorised signatory."""
    policy.require(by, "signatory.manage", user)
    if user.organisation.kind != "platform" or user.role not in policy.PLATFORM:
        raise ValidationError("user", _l("Only a platform's users can sign its commitments."))
    user.authorised_signatory = bool(authorised)
    audit.record("user.signatory_set" if authorised else "user.signatory_unset", user)


# --- The lifecycle --------------------------------------------------------------------------------------

def _move(by: User | None, commitment: Commitment, action: str, details: dict | None = None) -> None:
    """Apply `action` under the row's lock, or refuse with Conflict when the state no longer allows it."""
    try:
        workflow.transition(COMMITMENTS, commitment, action, by, **(details or {}))
    except NoResultFound:
        raise NotFound(_l("Commitment not found.")) from None


def _lock_checked(commitment: Commitment, action: str) -> None:
    """Lock the row and refuse with Conflict unless `action` still applies to its state as stored now."""
    _lock(commitment)
    if not COMMITMENTS.applies(commitment, action):
        raise Conflict(TRANSITIONS[action].refusal)


def _lock(commitment: Commitment) -> str:
    """Lock the row for the rest of the unit of work and return its state as stored now
    (`core.workflow.lock`: FOR UPDATE on PostgreSQL, the writer's lock on SQLite; the row is re-read)."""
    try:
        workflow.lock(commitment)
    except NoResultFound:
        raise NotFound(_l("Commitment not found.")) from None
    return commitment.status


def in_language(value, language: str) -> str:
    with force_locale(language):
        return str(value)
