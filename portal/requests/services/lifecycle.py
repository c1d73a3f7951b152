"""Issuing, answering and following up a request: its state changes."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from portal.accounts.models import Organisation, User
from portal.core import audit, clock, events, policy, workflow
from portal.core.database import insert_or_update
from portal.core.documents import Document
from portal.core.exceptions import Conflict, ValidationError
from portal.extensions import db
from portal.requests import deadlines, notices
from portal.requests.models import (
    FINAL_OUTCOMES,
    OUTCOMES,
    RESPONDED_FULLY,
    RESPONDED_PARTLY,
    Request,
    RequestCounter,
    RequestEvent,
    RequestItem,
)
from portal.requests.services.common import _chunks, _reason
from portal.requests.services.drafting import authors
from portal.requests.services.recipients import (
    _agency_followers,
    _agency_supervisors,
    _notify,
    _platform_users,
    document_attachment,
)
from portal.requests.services.states import OUTCOME_STATES, step


def submit_for_approval(by: User, req: Request) -> None:
    def check(req):
        if req.item_count == 0 and req.request_type != "information":
            raise Conflict(_l("Add at least one item before submitting the request."))
        req.submitted_at = clock.now()

    step(by, req, "submit", prepare=check)
    for supervisor in _agency_supervisors(req, exclude=by.id):
        _notify("request_awaiting_approval", supervisor, req, by=by)


def send_back(by: User, req: Request, reason: str) -> None:
    """A supervisor returns the request to its drafter, with the reason."""
    policy.require(by, "request.approve", req)
    reason = _reason(reason)
    step(by, req, "send_back", reason=reason, internal=True)
    if req.drafted_by.active:
        _notify("request_sent_back", req.drafted_by, req, by=by, reason=reason)


def issue_request(by: User, req: Request) -> None:
    """Four-eyes: a supervisor of the same agency who wrote no part of it approves and issues the request.

    Anyone who drafted it, edited its fields, added or removed items or attached a file before it was
    issued is one of its authors (`drafting.authors`) and cannot approve it. Issuing gives the reference
    number and starts the deadline clock; the notice is prepared right after the commit, and the platform
    is told once it exists (see portal.requests.notices).
    """
    def approve(req):
        if by.id in authors(req):
            raise Conflict(_l("A request must be approved by a supervisor who has not written any part of it."))
        now = clock.now()
        req.reference = allocate_reference(req.agency, now)
        req.approved_by_id, req.issued_at = by.id, now
        deadlines.start_clock(req, now, "issued")
        return {"reference": req.reference}

    step(by, req, "issue", prepare=approve)
    # The notice is prepared after this commits; the platform is told (announce_issued) once it is stored.
    notices.issue_notice(by, req)


@notices.when_notice_ready
def announce_issued(req: Request, notice: Document) -> None:
    """Tell the platform of an issued request, once its signed notice is stored (portal.requests.notices):
    the design has files attached, not only linked, so each e-mail carries the notice."""
    for user in _platform_users(req):
        _notify("request_issued", user, req, notice=notice,
                attachments=[document_attachment(notice, user.language)])
    events.emit("request.issued", req=req)


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
        statement = insert_or_update(RequestCounter, db.session).values(agency_id=agency.id, year=year,
                                                                        last_number=1)
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
    step(by, req, "withdraw", reason=reason)
    req.withdrawn_at = clock.now()
    # The withdrawal notice is prepared after this commits; the platform is told once it is stored.
    notices.issue_step_document(req, "withdraw")


@notices.when_step_recorded("withdraw")
def announce_withdrawn(req: Request, event: RequestEvent) -> None:
    for user in _platform_users(req):
        _notify("request_withdrawn", user, req, reason=event.reason)


def acknowledge(by: User, req: Request) -> None:
    step(by, req, "acknowledge")
    req.acknowledged_at = clock.now()
    for user in _agency_followers(req):
        _notify("request_acknowledged", user, req, by=by)


def set_outcomes(by: User, req: Request, item_ids: list[int], outcome: str, decline_reason: str | None = None) -> int:
    """Record one outcome for one or many items of the request. Declining needs a reason.

    The request's row is locked first, so outcomes cannot land after a concurrent response made it final.
    """
    policy.require(by, "request.respond", req)
    if outcome not in OUTCOMES:
        raise ValidationError("outcome", _l("Choose an outcome."))
    reason = _reason(decline_reason, "decline_reason") if outcome == "declined" else None
    ids = sorted({int(i) for i in item_ids})
    if not ids:
        raise ValidationError("items", _l("Select at least one item."))
    workflow.lock(req)
    if req.status not in OUTCOME_STATES:
        raise Conflict(_l("Outcomes can be recorded after acknowledging the request and before the "
                          "response is complete."))
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
    decided = {}

    def count(req):
        answered, final = db.session.execute(
            select(func.count(RequestItem.outcome),
                   func.count(RequestItem.id).filter(RequestItem.outcome.in_(FINAL_OUTCOMES)))
            .where(RequestItem.request_id == req.id)
        ).one()
        if req.item_count and not answered:
            raise Conflict(_l("Record an outcome for at least one item before submitting the response."))
        decided["target"] = RESPONDED_FULLY if final == req.item_count else RESPONDED_PARTLY
        req.responded_at = clock.now()
        return {"answered": answered, "final": final, "items": req.item_count}

    target = step(by, req, "respond", prepare=count, target=lambda req: decided["target"])
    for user in _agency_followers(req):
        _notify("request_responded", user, req, by=by)
    return target


def close(by: User, req: Request) -> None:
    step(by, req, "close")
    req.closed_at = clock.now()
    # The closure certificate lists every item: prepared after this commits, like the notice.
    notices.issue_step_document(req, "close")


@notices.when_step_recorded("close")
def announce_closed(req: Request, event: RequestEvent) -> None:
    for user in _platform_users(req):
        _notify("request_closed", user, req)
    events.emit("request.closed", req=req, occurred_at=event.occurred_at)


def reopen(by: User, req: Request, reason: str) -> None:
    """Back to the platform with a reason; the deadline clock starts again from the policy."""
    policy.require(by, "request.close", req)
    reason = _reason(reason)

    def restart(req):
        req.closed_at = None
        deadlines.start_clock(req, clock.now(), "reopened")

    step(by, req, "reopen", reason=reason, prepare=restart)
    for user in _platform_users(req):
        _notify("request_reopened", user, req, reason=reason)
