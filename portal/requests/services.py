"""Formal requests: every rule of drafting, issuing, answering and following up a request.

Services flush and never commit; the view (or CLI command) commits once. Each refusal is a domain error:
`PermissionDenied` (outside the user's reach: answered 404), `Conflict` (the action does not fit the
request's state), `ValidationError` (bad input). Each state change, view and download is audited, and
notifications (e-mails, and the platform's webhooks: see `webhooks.announce`) go to the outbox in the same
transaction.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, insert, or_, select, update

from portal.accounts.models import DesignatedContact, Organisation, User
from portal.accounts.services import active_contacts
from portal.core import audit, clock, outbox, policy
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.extensions import db
from portal.requests import attachments as files
from portal.requests import deadlines, notices
from portal.requests.models import (
    ACKNOWLEDGED,
    AWAITING_APPROVAL,
    CATEGORIES,
    CLOSED,
    DRAFT,
    FINAL_OUTCOMES,
    ISSUED,
    OPEN,
    OUTCOMES,
    PRIORITIES,
    RESPONDED_FULLY,
    RESPONDED_PARTLY,
    TYPES,
    UNISSUED,
    WITHDRAWN,
    Attachment,
    ExtensionRequest,
    InternalNote,
    LegalBasis,
    Request,
    RequestCounter,
    RequestEvent,
    RequestItem,
    RequestMessage,
)
from portal.requests.urls import MAX_ITEMS, ParseResult
from portal.webhooks import services as webhooks

log = logging.getLogger(__name__)

MAX_TEXT = 10_000
MAX_REASON = 2_000


class ItemsRefused(ValidationError):
    """Some lines of a list of items are not valid; nothing was saved. `errors` name the lines."""

    def __init__(self, errors, message=None):
        super().__init__("items", message or _l("Nothing was saved: correct the lines listed below."))
        self.errors = errors


# --- The state machine ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: decided by the service (submit_response)
    refusal: object


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({DRAFT}), AWAITING_APPROVAL,
                         _l("Only a draft can be submitted for approval.")),
    "send_back": Transition(frozenset({AWAITING_APPROVAL}), DRAFT,
                            _l("Only a request awaiting approval can be sent back.")),
    "issue": Transition(frozenset({AWAITING_APPROVAL}), ISSUED,
                        _l("Only a request awaiting approval can be approved and issued.")),
    "withdraw": Transition(frozenset({ISSUED, ACKNOWLEDGED, RESPONDED_PARTLY, RESPONDED_FULLY}), WITHDRAWN,
                           _l("Only an issued request that is not closed can be withdrawn.")),
    "acknowledge": Transition(frozenset({ISSUED}), ACKNOWLEDGED,
                              _l("Only a newly issued request can be acknowledged.")),
    "respond": Transition(frozenset({ACKNOWLEDGED, RESPONDED_PARTLY}), None,
                          _l("A response can be submitted only for an acknowledged request.")),
    "close": Transition(frozenset({RESPONDED_PARTLY, RESPONDED_FULLY}), CLOSED,
                        _l("Only a request the platform has answered can be closed.")),
    "reopen": Transition(frozenset({RESPONDED_PARTLY, RESPONDED_FULLY, CLOSED}), ACKNOWLEDGED,
                         _l("Only an answered or closed request can be reopened.")),
}
# States in which the platform may record outcomes (after acknowledging, before the response is final).
OUTCOME_STATES = frozenset({ACKNOWLEDGED, RESPONDED_PARTLY})


def allowed_actions(req: Request) -> set[str]:
    return {name for name, transition in TRANSITIONS.items() if req.status in transition.sources}


def _transition(by: User | None, req: Request, action: str, *, target: str | None = None,
                reason: str | None = None, internal: bool = False, details: dict | None = None) -> None:
    transition = TRANSITIONS[action]
    if req.status not in transition.sources:
        raise Conflict(transition.refusal)
    _set_status(by, req, action, target or transition.target, reason=reason, internal=internal, details=details)


def _set_status(by, req: Request, action: str, target: str, *, reason=None, internal=False, details=None):
    now = clock.now()
    source = req.status
    req.status, req.is_open, req.updated_at = target, target in OPEN, now
    _event(by, req, action, source, target, reason=reason, internal=internal, at=now)
    audit.record(f"request.{action}", req, actor=by, organisation_id=by.organisation_id if by else None,
                 details={"from": source, "to": target, **({"reason": reason} if reason else {}),
                          **(details or {})})


def _event(by, req: Request, action: str, source=None, target=None, *, reason=None, internal=False, at=None):
    db.session.add(RequestEvent(request_id=req.id, actor_id=by.id if by else None, action=action,
                                from_status=source, to_status=target, reason=reason, internal=internal,
                                occurred_at=at or clock.now()))


def _reason(text: str | None, field: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(field, _l("Give a reason."))
    if len(text) > MAX_REASON:
        raise ValidationError(field, _l("Keep the reason under %(max)d characters.", max=MAX_REASON))
    return text


# --- Reach -----------------------------------------------------------------------------------------------

def get_request(user: User, request_id: int, permission: str = "request.view") -> Request:
    """The request if `user` may reach it for `permission`; another organisation's is not found (404)."""
    req = db.session.get(Request, request_id)
    if req is None:
        raise NotFound(_l("Request not found."))
    policy.require(user, permission, req)
    return req


def record_view(user: User, req: Request) -> None:
    audit.record("request.viewed", req, actor=user)


def record_item_view(user: User, req: Request, item: RequestItem) -> None:
    audit.record("request.item_viewed", req, actor=user, details={"item": item.id})


# --- Drafting (agencies) -------------------------------------------------------------------------------

def platforms() -> list[Organisation]:
    return db.session.scalars(select(Organisation).where(Organisation.kind == "platform",
                                                         Organisation.active.is_(True))
                              .order_by(Organisation.code)).all()


def legal_bases(include_inactive: bool = False) -> list[LegalBasis]:
    query = select(LegalBasis).order_by(LegalBasis.code)
    if not include_inactive:
        query = query.where(LegalBasis.active.is_(True))
    return db.session.scalars(query).all()


def _clean_fields(fields: dict) -> dict:
    clean = {}
    platform = db.session.get(Organisation, fields.get("platform_id") or 0)
    if platform is None or platform.kind != "platform" or not platform.active:
        raise ValidationError("platform_id", _l("Choose a platform."))
    clean["platform_id"] = platform.id
    for name, values, message in (
        ("request_type", TYPES, _l("Choose a type of request.")),
        ("category", CATEGORIES, _l("Choose a category.")),
        ("priority", PRIORITIES, _l("Choose a priority.")),
    ):
        if fields.get(name) not in values:
            raise ValidationError(name, message)
        clean[name] = fields[name]
    basis_id = fields.get("legal_basis_id") or None
    if basis_id is not None:
        basis = db.session.get(LegalBasis, basis_id)
        if basis is None or not basis.active:
            raise ValidationError("legal_basis_id", _l("Choose a legal basis from the list."))
    text = (fields.get("legal_basis_text") or "").strip()
    if basis_id is None and not text:
        raise ValidationError("legal_basis_id", _l("Choose a legal basis or describe it."))
    clean["legal_basis_id"], clean["legal_basis_text"] = basis_id, text[:MAX_TEXT]
    for name in ("summary_ko", "summary_en"):
        value = (fields.get(name) or "").strip()
        if not value:
            raise ValidationError(name, _l("This field is required."))
        if len(value) > MAX_TEXT:
            raise ValidationError(name, _l("Keep this under %(max)d characters.", max=MAX_TEXT))
        clean[name] = value
    return clean


def create_draft(by: User, **fields) -> Request:
    """A new draft of `by`'s agency. Fields: platform_id, request_type, category, priority,
    legal_basis_id, legal_basis_text, summary_ko, summary_en."""
    policy.require(by, "request.draft")
    if by.organisation.kind != "agency":
        raise policy.PermissionDenied("request.draft")
    clean = _clean_fields(fields)
    now = clock.now()
    req = Request(agency_id=by.organisation_id, drafted_by_id=by.id, status=DRAFT, is_open=False,
                  created_at=now, updated_at=now, **clean)
    db.session.add(req)
    db.session.flush()
    _event(by, req, "drafted", None, DRAFT, internal=True, at=now)
    audit.record("request.drafted", req, actor=by)
    return req


def _editable(by: User, req: Request) -> None:
    policy.require(by, "request.draft", req)
    if req.status != DRAFT:
        raise Conflict(_l("Only a draft can be changed. Ask the supervisor to send it back first."))


def update_draft(by: User, req: Request, **fields) -> None:
    _editable(by, req)
    clean = _clean_fields(fields)
    if clean["platform_id"] != req.platform_id:
        db.session.execute(update(RequestItem).where(RequestItem.request_id == req.id)
                           .values(platform_id=clean["platform_id"]))
    for name, value in clean.items():
        setattr(req, name, value)
    req.updated_at = clock.now()
    audit.record("request.draft_updated", req, actor=by)


def delete_draft(by: User, req: Request) -> None:
    """Drafts can be deleted; a request that was ever issued cannot (it can be withdrawn)."""
    _editable(by, req)
    for attachment in db.session.scalars(select(Attachment).where(Attachment.request_id == req.id)):
        files.path_of(attachment.stored_name).unlink(missing_ok=True)
    audit.record("request.draft_deleted", req, actor=by, details={"items": req.item_count})
    for model in (RequestItem, RequestMessage, InternalNote, Attachment, ExtensionRequest, RequestEvent):
        db.session.execute(delete(model).where(model.request_id == req.id))
    db.session.delete(req)
    db.session.flush()


@dataclass
class ItemsAdded:
    added: int
    merged: int  # duplicates in the list and addresses the request already had


def add_items(by: User, req: Request, parsed: ParseResult) -> ItemsAdded:
    """Add parsed items to a draft. Any line in error refuses the whole list (nothing half-saved)."""
    _editable(by, req)
    if parsed.errors:
        raise ItemsRefused(parsed.errors)
    existing = set(db.session.scalars(select(RequestItem.url_hash).where(RequestItem.request_id == req.id)))
    new = [item for item in parsed.items if item.url_hash not in existing]
    merged = parsed.duplicates + len(parsed.items) - len(new)
    if len(existing) + len(new) > MAX_ITEMS:
        raise ItemsRefused([], _l("A request holds at most %(max)d items; this list would make it %(n)d.",
                                  max=MAX_ITEMS, n=len(existing) + len(new)))
    if not new:
        return ItemsAdded(0, merged)
    position = db.session.scalar(select(func.coalesce(func.max(RequestItem.position), 0))
                                 .where(RequestItem.request_id == req.id))
    rows = []
    for offset, item in enumerate(new, start=1):
        rows.append({"request_id": req.id, "platform_id": req.platform_id, "position": position + offset,
                     "url": item.url, "url_hash": item.url_hash, "sha256": item.sha256, "md5": item.md5,
                     "pdq": item.pdq, "note": item.note})
    db.session.execute(insert(RequestItem), rows)
    req.item_count = len(existing) + len(new)
    req.updated_at = clock.now()
    audit.record("request.items_added", req, actor=by, details={"added": len(new), "merged": merged})
    return ItemsAdded(len(new), merged)


def remove_items(by: User, req: Request, item_ids: list[int]) -> int:
    _editable(by, req)
    removed = 0
    for chunk in _chunks(item_ids):
        removed += db.session.execute(
            delete(RequestItem).where(RequestItem.request_id == req.id, RequestItem.id.in_(chunk))
        ).rowcount
    req.item_count = db.session.scalar(select(func.count()).where(RequestItem.request_id == req.id))
    req.updated_at = clock.now()
    audit.record("request.items_removed", req, actor=by, details={"removed": removed})
    return removed


def _chunks(values, size: int = 500):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def submit_for_approval(by: User, req: Request) -> None:
    policy.require(by, "request.draft", req)
    if req.status == DRAFT and req.item_count == 0 and req.request_type != "information":
        raise Conflict(_l("Add at least one item before submitting the request."))
    _transition(by, req, "submit")
    req.submitted_at = clock.now()
    for supervisor in _agency_supervisors(req, exclude=by.id):
        _notify("request_awaiting_approval", supervisor, req, by=by)


def send_back(by: User, req: Request, reason: str) -> None:
    """A supervisor returns the request to its drafter, with the reason."""
    policy.require(by, "request.approve", req)
    reason = _reason(reason)
    _transition(by, req, "send_back", reason=reason, internal=True)
    if req.drafted_by.active:
        _notify("request_sent_back", req.drafted_by, req, by=by, reason=reason)


def issue_request(by: User, req: Request) -> None:
    """Four-eyes: a supervisor of the same agency who did not draft it approves and issues the request.

    Issuing gives the reference number and starts the deadline clock; the notice is prepared right after
    the commit, and the platform is told once it exists (see portal.requests.notices).
    """
    policy.require(by, "request.approve", req)
    if req.drafted_by_id == by.id:
        raise Conflict(_l("A request must be approved by a supervisor other than the person who drafted it."))
    if req.status not in TRANSITIONS["issue"].sources:
        raise Conflict(TRANSITIONS["issue"].refusal)
    now = clock.now()
    req.reference = allocate_reference(req.agency, now)
    req.approved_by_id, req.issued_at = by.id, now
    deadlines.start_clock(req, now, "issued")
    _transition(by, req, "issue", details={"reference": req.reference})
    # The notice is prepared after this commits; the platform is told (announce_issued) once it is stored.
    notices.issue_notice(by, req)


@notices.when_notice_ready
def announce_issued(req: Request) -> None:
    """Tell the platform of an issued request, once its signed notice is stored (portal.requests.notices)."""
    for user in _platform_users(req):
        _notify("request_issued", user, req)
    webhooks.announce("request.issued", req)


def allocate_reference(agency: Organisation, at: datetime) -> str:
    """The next reference of `agency` for the year (KST) of `at`: `KCSC-2026-000123`.

    UPDATE first: the row lock (PostgreSQL) or the write lock held since BEGIN IMMEDIATE (SQLite) makes
    concurrent issuers wait for each other, so no number is given twice. The year's first number is an
    upsert, so two first issuers cannot both insert. Numbers of rolled-back transactions are not kept,
    and a committed number is never given again.
    """
    year = at.astimezone(clock.KST).year
    number = db.session.execute(
        update(RequestCounter)
        .where(RequestCounter.agency_id == agency.id, RequestCounter.year == year)
        .values(last_number=RequestCounter.last_number + 1)
        .returning(RequestCounter.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if number is None:
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        statement = upsert(RequestCounter).values(agency_id=agency.id, year=year, last_number=1)
        statement = statement.on_conflict_do_update(
            index_elements=[RequestCounter.agency_id, RequestCounter.year],
            set_={"last_number": RequestCounter.last_number + 1},
        ).returning(RequestCounter.last_number)
        number = db.session.execute(statement).scalar_one()
    return f"{agency.code}-{year}-{number:06d}"


def withdraw(by: User, req: Request, reason: str) -> None:
    """An issued request cannot be deleted; it can be withdrawn with a reason."""
    policy.require(by, "request.withdraw", req)
    reason = _reason(reason)
    _transition(by, req, "withdraw", reason=reason)
    req.withdrawn_at = clock.now()
    notices.issue_withdrawal_notice(by, req, reason)
    for user in _platform_users(req):
        _notify("request_withdrawn", user, req, reason=reason)


# --- Answering (platforms) --------------------------------------------------------------------------------

def acknowledge(by: User, req: Request) -> None:
    policy.require(by, "request.respond", req)
    _transition(by, req, "acknowledge")
    req.acknowledged_at = clock.now()
    for user in _agency_followers(req):
        _notify("request_acknowledged", user, req, by=by)


def set_outcomes(by: User, req: Request, item_ids: list[int], outcome: str, decline_reason: str | None = None) -> int:
    """Record one outcome for one or many items of the request. Declining needs a reason."""
    policy.require(by, "request.respond", req)
    if req.status not in OUTCOME_STATES:
        raise Conflict(_l("Outcomes can be recorded after acknowledging the request and before the "
                          "response is complete."))
    if outcome not in OUTCOMES:
        raise ValidationError("outcome", _l("Choose an outcome."))
    reason = _reason(decline_reason, "decline_reason") if outcome == "declined" else None
    ids = sorted({int(i) for i in item_ids})
    if not ids:
        raise ValidationError("items", _l("Select at least one item."))
    now = clock.now()
    changed = 0
    for chunk in _chunks(ids):
        changed += db.session.execute(
            update(RequestItem).where(RequestItem.request_id == req.id, RequestItem.id.in_(chunk))
            .values(outcome=outcome, decline_reason=reason, outcome_at=now, outcome_by_id=by.id)
            .execution_options(synchronize_session=False)
        ).rowcount
    if changed != len(ids):
        raise ValidationError("items", _l("Some selected items are not part of this request."))
    req.updated_at = now
    audit.record("request.outcomes_set", req, actor=by, details={"outcome": outcome, "items": changed})
    return changed


def submit_response(by: User, req: Request) -> str:
    """Submit the outcomes so far: fully answered when every item has a final outcome, partly otherwise."""
    policy.require(by, "request.respond", req)
    if req.status not in TRANSITIONS["respond"].sources:
        raise Conflict(TRANSITIONS["respond"].refusal)
    answered, final = db.session.execute(
        select(func.count(RequestItem.outcome),
               func.count(RequestItem.id).filter(RequestItem.outcome.in_(FINAL_OUTCOMES)))
        .where(RequestItem.request_id == req.id)
    ).one()
    if req.item_count and not answered:
        raise Conflict(_l("Record an outcome for at least one item before submitting the response."))
    target = RESPONDED_FULLY if final == req.item_count else RESPONDED_PARTLY
    _transition(by, req, "respond", target=target, details={"answered": answered, "final": final,
                                                           "items": req.item_count})
    req.responded_at = clock.now()
    for user in _agency_followers(req):
        _notify("request_responded", user, req, by=by)
    return target


def request_extension(by: User, req: Request, reason: str, requested_until: datetime | None = None) -> ExtensionRequest:
    policy.require(by, "request.respond", req)
    if req.status not in OPEN:
        raise Conflict(_l("An extension can be asked only while the request is open."))
    if _pending_extension(req) is not None:
        raise Conflict(_l("An extension request is already waiting for a decision."))
    reason = _reason(reason)
    if requested_until is not None and requested_until <= req.deadline:
        raise ValidationError("requested_until", _l("Choose a time after the current deadline."))
    extension = ExtensionRequest(request_id=req.id, requested_by_id=by.id, reason=reason,
                                 requested_until=requested_until, status="pending", created_at=clock.now())
    db.session.add(extension)
    db.session.flush()
    _event(by, req, "extension_requested", reason=reason)
    audit.record("request.extension_requested", req, actor=by, details={"extension": extension.id})
    for supervisor in _agency_supervisors(req):
        _notify("extension_requested", supervisor, req, by=by, extension=extension)
    return extension


def _pending_extension(req: Request) -> ExtensionRequest | None:
    return db.session.scalar(select(ExtensionRequest).where(ExtensionRequest.request_id == req.id,
                                                            ExtensionRequest.status == "pending"))


def get_extension(req: Request, extension_id: int) -> ExtensionRequest:
    extension = db.session.get(ExtensionRequest, extension_id)
    if extension is None or extension.request_id != req.id:
        raise NotFound(_l("Extension request not found."))
    return extension


def _decidable(by: User, req: Request, extension: ExtensionRequest) -> None:
    policy.require(by, "request.decide_extension", req)
    if extension.request_id != req.id:
        raise NotFound(_l("Extension request not found."))
    if extension.status != "pending":
        raise Conflict(_l("This extension request has already been decided."))
    if req.status not in OPEN:
        raise Conflict(_l("The request is no longer open."))


def grant_extension(by: User, req: Request, extension: ExtensionRequest, new_deadline: datetime,
                    reason: str | None = None) -> None:
    """A supervisor of the agency grants more time: the new deadline replaces the old one."""
    _decidable(by, req, extension)
    now = clock.now()
    if new_deadline is None or new_deadline.tzinfo is None:
        raise ValidationError("new_deadline", _l("Give the new deadline."))
    if new_deadline <= max(req.deadline, now):
        raise ValidationError("new_deadline", _l("The new deadline must be later than the current one."))
    extension.status, extension.decided_by_id, extension.decided_at = "granted", by.id, now
    extension.decision_reason = (reason or "").strip()[:MAX_REASON] or None
    extension.previous_deadline, extension.new_deadline = req.deadline, new_deadline
    deadlines.extend(req, new_deadline, now)
    req.updated_at = now
    _event(by, req, "extension_granted", reason=extension.decision_reason)
    audit.record("request.extension_granted", req, actor=by,
                 details={"extension": extension.id, "previous_deadline": extension.previous_deadline.isoformat(),
                          "new_deadline": req.deadline.isoformat()})
    notices.issue_extension_decision(by, req, extension)
    for user in _platform_users(req):
        _notify("extension_decided", user, req, extension=extension)


def refuse_extension(by: User, req: Request, extension: ExtensionRequest, reason: str) -> None:
    _decidable(by, req, extension)
    reason = _reason(reason)
    extension.status, extension.decided_by_id, extension.decided_at = "refused", by.id, clock.now()
    extension.decision_reason = reason
    _event(by, req, "extension_refused", reason=reason)
    audit.record("request.extension_refused", req, actor=by, details={"extension": extension.id})
    notices.issue_extension_decision(by, req, extension)
    for user in _platform_users(req):
        _notify("extension_decided", user, req, extension=extension)


# --- Follow-up (agencies) -----------------------------------------------------------------------------

def close(by: User, req: Request) -> None:
    policy.require(by, "request.close", req)
    _transition(by, req, "close")
    req.closed_at = clock.now()
    notices.issue_closure_certificate(by, req)
    for user in _platform_users(req):
        _notify("request_closed", user, req)
    webhooks.announce("request.closed", req)


def reopen(by: User, req: Request, reason: str) -> None:
    """Back to the platform with a reason; the deadline clock starts again from the policy."""
    policy.require(by, "request.close", req)
    reason = _reason(reason)
    _transition(by, req, "reopen", reason=reason)
    now = clock.now()
    req.closed_at = None
    deadlines.start_clock(req, now, "reopened")
    for user in _platform_users(req):
        _notify("request_reopened", user, req, reason=reason)


# --- Thread, notes, attachments -------------------------------------------------------------------------

def _body(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError("body", _l("Write a message."))
    if len(text) > MAX_TEXT:
        raise ValidationError("body", _l("Keep this under %(max)d characters.", max=MAX_TEXT))
    return text


def post_message(by: User, req: Request, body: str) -> RequestMessage:
    """A message both sides read. Once issued; before that the platform does not know the request."""
    policy.require(by, "request.message", req)
    if req.status in UNISSUED:
        raise Conflict(_l("Messages can be exchanged once the request is issued."))
    message = RequestMessage(request_id=req.id, author_id=by.id, organisation_id=by.organisation_id,
                             body=_body(body), created_at=clock.now())
    db.session.add(message)
    db.session.flush()
    audit.record("request.message_posted", req, actor=by, details={"message": message.id})
    recipients = _platform_users(req) if by.organisation_id == req.agency_id else _agency_followers(req)
    for user in recipients:
        _notify("message_posted", user, req, by=by)
    if by.organisation_id == req.agency_id:  # the platform's own messages are not announced back to it
        webhooks.announce("request.message", req, message=message)
    return message


def add_note(by: User, req: Request, body: str) -> InternalNote:
    policy.require(by, "request.note", req)
    note = InternalNote(request_id=req.id, author_id=by.id, body=_body(body), created_at=clock.now())
    db.session.add(note)
    db.session.flush()
    audit.record("request.note_added", req, actor=by, details={"note": note.id})
    return note


def add_attachment(by: User, req: Request, stream, filename: str) -> Attachment:
    """Store a document attached to the request (PDF, plain text or CSV, checked by its bytes)."""
    policy.require(by, "request.attach", req)
    if req.status in (CLOSED, WITHDRAWN):
        raise Conflict(_l("Nothing can be attached to a closed or withdrawn request."))
    if by.organisation_id == req.platform_id and req.status in UNISSUED:
        raise Conflict(_l("Nothing can be attached to this request now."))
    checked = files.check(stream, filename)
    stored = files.store(checked)
    attachment = Attachment(request_id=req.id, uploaded_by_id=by.id, organisation_id=by.organisation_id,
                            filename=checked.label, stored_name=stored,
                            content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
                            created_at=clock.now())
    db.session.add(attachment)
    db.session.flush()
    audit.record("request.attachment_added", req, actor=by,
                 details={"attachment": attachment.id, "sha256": checked.sha256, "size": checked.size})
    return attachment


def open_attachment(by: User, req: Request, attachment_id: int):
    """The attachment and its file, after the access check; the download is audited."""
    policy.require(by, "request.view", req)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.request_id != req.id:
        raise NotFound(_l("Attachment not found."))
    audit.record("request.attachment_downloaded", req, actor=by,
                 details={"attachment": attachment.id, "sha256": attachment.sha256})
    return attachment, files.path_of(attachment.stored_name)


# --- Lists and lookups ---------------------------------------------------------------------------------

@dataclass
class Filters:
    status: str = "open"  # "open", "all", or one status
    request_type: str | None = None
    priority: str | None = None
    category: str | None = None
    overdue: bool = False
    url_hash: str | None = None
    reference: str | None = None
    updated_since: datetime | None = None  # aware; the API's clients poll for changes with it


@dataclass
class Page:
    requests: list[Request]
    next_after: str | None


PAGE_SIZE = 50


def list_requests(user: User, filters: Filters, after: str | None = None, limit: int | None = None) -> Page:
    """Requests `user` may see, by deadline then id, one keyset page at a time (`after`: "deadline|id")."""
    limit = limit or PAGE_SIZE
    query = policy.scoped(select(Request), Request, user, "request.view")
    query = query.where(Request.status.notin_(UNISSUED))
    if filters.status == "open":
        query = query.where(Request.is_open.is_(True))
    elif filters.status != "all":
        query = query.where(Request.status == filters.status)
    for name, column in (("request_type", Request.request_type), ("priority", Request.priority),
                         ("category", Request.category)):
        value = getattr(filters, name)
        if value:
            query = query.where(column == value)
    if filters.overdue:
        query = query.where(Request.is_open.is_(True), Request.deadline <= clock.now())
    if filters.reference:
        query = query.where(Request.reference == filters.reference)
    if filters.updated_since:
        query = query.where(Request.updated_at >= filters.updated_since)
    if filters.url_hash:
        matching = select(RequestItem.request_id).where(RequestItem.url_hash == filters.url_hash)
        if user.organisation.kind == "platform":
            matching = matching.where(RequestItem.platform_id == user.organisation_id)
        query = query.where(Request.id.in_(matching))
    if after:
        deadline, last_id = _decode_after(after)
        query = query.where(or_(Request.deadline > deadline,
                                and_(Request.deadline == deadline, Request.id > last_id)))
    rows = db.session.scalars(query.order_by(Request.deadline, Request.id).limit(limit + 1)).all()
    next_after = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_after = f"{rows[-1].deadline.isoformat()}|{rows[-1].id}"
    return Page(rows, next_after)


def _decode_after(after: str):
    try:
        deadline, last_id = after.rsplit("|", 1)
        return datetime.fromisoformat(deadline), int(last_id)
    except ValueError:
        raise ValidationError("after", _l("This page link is not valid.")) from None


def unissued_requests(user: User, limit: int = 100) -> list[Request]:
    """An agency's drafts and requests awaiting approval, newest first (bounded)."""
    query = policy.scoped(select(Request), Request, user, "request.draft")
    return db.session.scalars(query.where(Request.status.in_(UNISSUED))
                              .order_by(Request.updated_at.desc(), Request.id.desc()).limit(limit)).all()


def items_page(req: Request, after_position: int = 0, limit: int = 1000) -> list[RequestItem]:
    return db.session.scalars(select(RequestItem).where(RequestItem.request_id == req.id,
                                                        RequestItem.position > after_position)
                              .order_by(RequestItem.position).limit(limit)).all()


ITEM_COLUMNS = (RequestItem.id, RequestItem.position, RequestItem.url, RequestItem.url_hash, RequestItem.sha256,
                RequestItem.md5, RequestItem.pdq, RequestItem.note, RequestItem.outcome, RequestItem.decline_reason)


def item_rows(req: Request, after_position: int = 0, limit: int = 1000):
    """Items for display: plain rows, not tracked entities (a page shows up to 1,000)."""
    return db.session.execute(select(*ITEM_COLUMNS).where(RequestItem.request_id == req.id,
                                                          RequestItem.position > after_position)
                              .order_by(RequestItem.position).limit(limit)).all()


def get_item(req: Request, item_id: int) -> RequestItem:
    item = db.session.get(RequestItem, item_id)
    if item is None or item.request_id != req.id:
        raise NotFound(_l("Item not found."))
    return item


def earlier_requests(user: User, req: Request, url_hashes: list[str]) -> dict[str, list[tuple[int, str]]]:
    """For each address, the other issued requests to the same platform that `user` may see and that
    carried it: {url_hash: [(request id, reference), ...]}."""
    found: dict[str, list[tuple[int, str]]] = {}
    for chunk in _chunks(url_hashes):
        query = (select(RequestItem.url_hash, Request.id, Request.reference)
                 .join(Request, Request.id == RequestItem.request_id)
                 .where(RequestItem.platform_id == req.platform_id, RequestItem.url_hash.in_(chunk),
                        RequestItem.request_id != req.id, Request.status.notin_(UNISSUED))
                 .order_by(Request.issued_at))
        query = policy.scoped(query, Request, user, "request.view")
        for url_hash, request_id, reference in db.session.execute(query):
            found.setdefault(url_hash, []).append((request_id, reference))
    return found


def history(user: User, req: Request) -> list[RequestEvent]:
    query = select(RequestEvent).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id)
    if user.organisation_id != req.agency_id:
        query = query.where(RequestEvent.internal.is_(False))
    return db.session.scalars(query).all()


def messages(req: Request) -> list[RequestMessage]:
    return db.session.scalars(select(RequestMessage).where(RequestMessage.request_id == req.id)
                              .order_by(RequestMessage.id)).all()


def notes(user: User, req: Request) -> list[InternalNote]:
    if not policy.can(user, "request.note", req):
        return []
    return db.session.scalars(select(InternalNote).where(InternalNote.request_id == req.id)
                              .order_by(InternalNote.id)).all()


def attachments_of(req: Request) -> list[Attachment]:
    return db.session.scalars(select(Attachment).where(Attachment.request_id == req.id)
                              .order_by(Attachment.id)).all()


def extensions_of(req: Request) -> list[ExtensionRequest]:
    return db.session.scalars(select(ExtensionRequest).where(ExtensionRequest.request_id == req.id)
                              .order_by(ExtensionRequest.id)).all()


def outcome_counts(req: Request) -> dict[str | None, int]:
    return dict(db.session.execute(select(RequestItem.outcome, func.count())
                                   .where(RequestItem.request_id == req.id).group_by(RequestItem.outcome)).all())


# --- Deadlines: the tick --------------------------------------------------------------------------------

def tick(now: datetime | None = None) -> dict[str, int]:
    """Mark overdue and very overdue requests, send reminders and escalations; each once per deadline.

    Idempotent and safe to run concurrently: each mark is claimed with a conditional UPDATE, and only
    the run whose UPDATE changed the row sends the notifications.
    """
    now = now or clock.now()
    counts = {"reminded": 0, "overdue": 0, "very_overdue": 0}
    # A request whose notice is still being prepared is not the platform's yet: no reminders either.
    open_ = and_(Request.is_open.is_(True), Request.notice_ready_at.isnot(None))
    for request_id in db.session.scalars(select(Request.id).where(
            open_, Request.reminded_at.is_(None), Request.remind_at <= now, Request.deadline > now)):
        if _claim(request_id, Request.reminded_at, now):
            req = db.session.get(Request, request_id, populate_existing=True)
            _event(None, req, "reminder_sent", at=now)
            audit.record("request.reminder_sent", req, actor=None, organisation_id=req.platform_id)
            for user in _platform_users(req):
                _notify("deadline_reminder", user, req)
            webhooks.announce("request.deadline_approaching", req, occurred_at=now)
            counts["reminded"] += 1
    for request_id in db.session.scalars(select(Request.id).where(
            open_, Request.overdue_at.is_(None), Request.deadline <= now)):
        if _claim(request_id, Request.overdue_at, now):
            req = db.session.get(Request, request_id, populate_existing=True)
            _event(None, req, "overdue", at=now)
            audit.record("request.overdue", req, actor=None, organisation_id=req.platform_id)
            for user in _unique(_platform_users(req) + _issuing_supervisor(req)):
                _notify("deadline_overdue", user, req)
            webhooks.announce("request.overdue", req, occurred_at=now)
            counts["overdue"] += 1
    for request_id in db.session.scalars(select(Request.id).where(
            open_, Request.very_overdue_at.is_(None), Request.very_overdue_from <= now)):
        if _claim(request_id, Request.very_overdue_at, now):
            req = db.session.get(Request, request_id, populate_existing=True)
            _event(None, req, "very_overdue", at=now)
            audit.record("request.very_overdue", req, actor=None, organisation_id=req.platform_id)
            # Escalation: the platform's administrators and designated contacts, and the supervisor who issued it.
            users = _unique(_platform_users(req, roles=("platform_admin",)) + _issuing_supervisor(req))
            for user in users:
                _notify("deadline_escalation", user, req)
            for contact in _contacts(req, skip={user.email for user in users}):
                _notify_contact("deadline_escalation", contact, req)
            counts["very_overdue"] += 1
    return counts


def _claim(request_id: int, column, now: datetime) -> bool:
    result = db.session.execute(
        update(Request).where(Request.id == request_id, column.is_(None)).values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# --- Notifications --------------------------------------------------------------------------------------

def _unique(users: list[User]) -> list[User]:
    seen, result = set(), []
    for user in users:
        if user.id not in seen:
            seen.add(user.id)
            result.append(user)
    return result


def _platform_users(req: Request, roles=("platform_agent", "platform_admin")) -> list[User]:
    return db.session.scalars(select(User).where(User.organisation_id == req.platform_id, User.active.is_(True),
                                                 User.role.in_(roles)).order_by(User.id)).all()


def _agency_supervisors(req: Request, exclude: int | None = None) -> list[User]:
    query = select(User).where(User.organisation_id == req.agency_id, User.active.is_(True),
                               User.role == "regulator_supervisor").order_by(User.id)
    if exclude is not None:
        query = query.where(User.id != exclude)
    return db.session.scalars(query).all()


def _issuing_supervisor(req: Request) -> list[User]:
    return [req.approved_by] if req.approved_by is not None and req.approved_by.active else []


def _agency_followers(req: Request) -> list[User]:
    """The drafter and the supervisor who issued it."""
    users = [u for u in (req.drafted_by, req.approved_by) if u is not None and u.active]
    return _unique(users)


def _contacts(req: Request, skip: set[str]) -> list[DesignatedContact]:
    """The platform's active designated contacts, but none whose address already gets the e-mail as a user."""
    return [contact for contact in active_contacts(req.platform_id) if contact.email not in skip]


def request_link(req: Request) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for("requests.detail", request_id=req.id)
    with current_app.test_request_context():
        return base + url_for("requests.detail", request_id=req.id)


def _notify(template: str, user: User, req: Request, **context) -> None:
    """Queue an e-mail about `req` to `user` in their language and zone. Never with item addresses."""
    outbox.enqueue_email(template, recipient=user.email, language=user.language, user_id=user.id,
                         req=req, recipient_user=user, link=request_link(req), **context)


def _notify_contact(template: str, contact: DesignatedContact, req: Request, **context) -> None:
    """Queue an e-mail about `req` to a designated contact, in its language and zone (a contact carries the
    name, language and time zone the templates read from a recipient). Never with item addresses."""
    outbox.enqueue_email(template, recipient=contact.email, language=contact.language, req=req,
                         recipient_user=contact, link=request_link(req), **context)


# --- Settings the administrators keep: legal bases and deadline policies --------------------------------

def add_legal_basis(by: User, code: str, name_ko: str, name_en: str) -> LegalBasis:
    policy.require(by, "legal_basis.manage")
    code = (code or "").strip().upper()
    if not code or len(code) > 40:
        raise ValidationError("code", _l("Give a short code (at most 40 characters)."))
    if db.session.scalar(select(LegalBasis.id).where(LegalBasis.code == code)):
        raise ValidationError("code", _l("This code is already used."))
    if not (name_ko or "").strip() or not (name_en or "").strip():
        raise ValidationError("name_ko" if not (name_ko or "").strip() else "name_en", _l("This field is required."))
    basis = LegalBasis(code=code, name_ko=name_ko.strip()[:300], name_en=name_en.strip()[:300], active=True)
    db.session.add(basis)
    db.session.flush()
    audit.record("legal_basis.added", basis, actor=by, details={"code": code})
    return basis


def set_legal_basis_active(by: User, basis_id: int, active: bool) -> None:
    """Retire (or bring back) a legal basis; requests that cite it keep it."""
    policy.require(by, "legal_basis.manage")
    basis = db.session.get(LegalBasis, basis_id)
    if basis is None:
        raise NotFound(_l("Legal basis not found."))
    basis.active = active
    audit.record("legal_basis.activated" if active else "legal_basis.retired", basis, actor=by)


def deadline_policies() -> list[tuple[str, str, deadlines.Allowance, bool]]:
    """Every type and priority with its allowance and whether it is the built-in default."""
    from portal.requests.models import DeadlinePolicy

    rows = {(p.request_type, p.priority): p for p in db.session.scalars(select(DeadlinePolicy))}
    table = []
    for request_type in TYPES:
        for priority in PRIORITIES:
            table.append((request_type, priority, deadlines.allowance_for(request_type, priority),
                          (request_type, priority) not in rows))
    return table


def set_deadline_policy(by: User, request_type: str, priority: str, *, hours: int | None = None,
                        working_days: int | None = None) -> None:
    """Set the time allowed for a type and priority (hours, or Korean working days). Requests already
    issued keep their deadline."""
    from portal.requests.models import DeadlinePolicy

    policy.require(by, "deadline_policy.manage")
    if request_type not in TYPES or priority not in PRIORITIES:
        raise ValidationError("request_type", _l("Choose a type and a priority."))
    if (hours is None) == (working_days is None):
        raise ValidationError("amount", _l("Give either hours or working days."))
    amount = hours if hours is not None else working_days
    if not 1 <= amount <= (24 * 90 if hours is not None else 90):
        raise ValidationError("amount", _l("The time allowed is out of range."))
    row = db.session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.request_type == request_type,
                                                         DeadlinePolicy.priority == priority))
    if row is None:
        row = DeadlinePolicy(request_type=request_type, priority=priority)
        db.session.add(row)
    row.hours, row.working_days = hours, working_days
    db.session.flush()
    audit.record("deadline_policy.set", row, actor=by,
                 details={"type": request_type, "priority": priority, "hours": hours, "working_days": working_days})
