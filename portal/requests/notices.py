"""The PDF documents of a formal request: the notice (at issue), extension decisions, the withdrawal notice
and the closure certificate.

The requests domain registers these kinds and builds each document's context as plain data (dicts of
strings, times and lists; never an ORM object): the templates render in the documents' sandbox and see
exactly what is built here.

The notice may list 10,000 addresses, and rendering it takes as long as WeasyPrint takes to lay out
hundreds of pages; so it is never rendered while the database is held. Issuing commits the state change
with the request marked "notice being prepared" (`Request.notice_ready_at` is None); right after that
commit (`transaction.after_commit`) `prepare_notice` reads the request in a short read-only transaction,
renders and signs with no transaction open, then in one short unit of work stores the notice, sets
`notice_ready_at` and tells the platform (the callbacks of `when_notice_ready`: e-mails, webhooks). Until
then the platform does not see the request at all (its scope requires `notice_ready_at`). If the process
dies in between, the job `requests.prepare_notices` prepares every notice still pending.

The withdrawal notice and the closure certificate record a step (the request's history event of that
step); the certificate lists every item, so it is as long as the notice. They are prepared the same way:
the step commits with its event's `document_ready_at` None, the document is rendered after the commit, and
the unit that stores it sets `document_ready_at` and tells the platform (`when_step_recorded`); the same job
catches up on any left pending. The extension decision has no item list and is issued in the transaction
of the decision. The agency issues them; the platform receives them; both download them from the request
page. A request closed again after reopening gets a new closure certificate that replaces the earlier one,
so the verification page of the first says it was superseded.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select, update

from portal.accounts.models import Organisation, User
from portal.core import clock, documents, jobs, transaction
from portal.core.documents import Document
from portal.extensions import db
from portal.requests import deadlines, labels
from portal.requests.models import DOCUMENT_STEPS, UNISSUED, ExtensionRequest, Request, RequestEvent, RequestItem
from portal.requests.urls import MAX_ITEMS

log = logging.getLogger(__name__)

NOTICE = documents.register_kind("request_notice", "요청 통지서", "Request notice").code
EXTENSION_DECISION = documents.register_kind("extension_decision", "기한 연장 결정서", "Extension decision").code
WITHDRAWAL = documents.register_kind("withdrawal_notice", "요청 철회 통지서", "Withdrawal notice").code
CLOSURE = documents.register_kind("closure_certificate", "요청 종결 확인서", "Closure certificate").code

# A pending notice older than this is the job's to prepare (a younger one is still being prepared by the
# process that issued it).
RETRY_AFTER = timedelta(minutes=2)

ITEM_FIELDS = (RequestItem.position, RequestItem.url, RequestItem.sha256, RequestItem.md5, RequestItem.pdq,
               RequestItem.outcome, RequestItem.decline_reason, RequestItem.outcome_at)


# --- Plain data ----------------------------------------------------------------------------------------------

def _labels() -> dict:
    # Translatable strings (lazy), printed by the templates' ko()/en() in each language.
    return {"TYPE_LABELS": dict(labels.TYPE_LABELS), "CATEGORY_LABELS": dict(labels.CATEGORY_LABELS),
            "PRIORITY_LABELS": dict(labels.PRIORITY_LABELS), "OUTCOME_LABELS": dict(labels.OUTCOME_LABELS)}


def _organisation(organisation: Organisation) -> dict:
    return {"name_ko": organisation.name_ko, "name_en": organisation.name_en, "timezone": organisation.timezone}


def _person(user: User | None) -> dict | None:
    return {"name": user.name, "email": user.email} if user is not None else None


def _request(req: Request) -> dict:
    basis = req.legal_basis
    return {
        "reference": req.reference, "request_type": req.request_type, "category": req.category,
        "priority": req.priority, "summary_ko": req.summary_ko, "summary_en": req.summary_en,
        "legal_basis": {"name_ko": basis.name_ko, "name_en": basis.name_en} if basis is not None else None,
        "legal_basis_text": req.legal_basis_text, "deadline": req.deadline, "issued_at": req.issued_at,
        "acknowledged_at": req.acknowledged_at, "responded_at": req.responded_at, "closed_at": req.closed_at,
        "withdrawn_at": req.withdrawn_at, "agency": _organisation(req.agency),
        "platform": _organisation(req.platform),
    }


def _items(req: Request) -> list[dict]:
    # Plain rows in the order the agency gave them: a 10,000-item notice must not build 10,000 entities.
    rows = db.session.execute(select(*ITEM_FIELDS).where(RequestItem.request_id == req.id)
                              .order_by(RequestItem.position).limit(MAX_ITEMS))
    return [row._asdict() for row in rows]


def _extension(extension: ExtensionRequest) -> dict:
    return {name: getattr(extension, name) for name in (
        "status", "reason", "requested_until", "created_at", "decided_at", "decision_reason",
        "previous_deadline", "new_deadline")}


def _explanation(req: Request) -> dict[str, str]:
    """How the deadline was computed, in both languages (the sentence the pages show)."""
    explained = {}
    for language in ("ko", "en"):
        with force_locale(language):
            explained[language] = str(deadlines.explanation(req))
    return explained


def _base(req: Request) -> dict:
    return {"request": _request(req), "labels": _labels()}


def notice_context(req: Request, approver: User | None) -> dict:
    """What the notice prints: what is asked, by when, of which items, and how to answer."""
    return {**_base(req), "items": _items(req), "explanation": _explanation(req),
            "contact": _person(req.drafted_by), "approver": _person(approver)}


def closure_context(req: Request, closed_by: User) -> dict:
    items = _items(req)
    counts = Counter(item["outcome"] for item in items)
    return {**_base(req), "items": items, "closed_by": _person(closed_by),
            # Most frequent outcome first; None (no outcome) is a row of its own.
            "outcome_counts": sorted(counts.items(), key=lambda pair: (-pair[1], pair[0] or "")),
            "outcome_names": {code: f"{_in(label, 'ko')} / {_in(label, 'en')}"
                              for code, label in labels.OUTCOME_LABELS.items()}}


def _in(text, language: str) -> str:
    with force_locale(language):
        return str(text)


# --- Issuing -------------------------------------------------------------------------------------------------

def _title(kind: str, reference: str) -> str:
    label = documents.kind_of(kind)
    return f"{label.ko} / {label.en} {reference}"


def _issue(by: User, req: Request, kind: str, context: dict, at, replaces: Document | None = None) -> Document:
    return documents.issue_document(
        kind, kind, context, reference=req.reference, issuer=req.agency, recipient_organisation_id=req.platform_id,
        title=_title(kind, req.reference), issued_by=by, issued_at=at, replaces=replaces,
    )


_on_notice_ready: list[Callable[[Request, Document], None]] = []


def when_notice_ready(announce: Callable[[Request, Document], None]) -> Callable[[Request, Document], None]:
    """Register what to do once a request's notice is stored (tell the platform, the notice attached): run
    with the request and the stored notice in the same short transaction that records it, so the platform
    is told exactly once, and only then."""
    _on_notice_ready.append(announce)
    return announce


def issue_notice(by: User, req: Request) -> None:
    """Have the formal notice prepared once the transaction issuing `req` commits (see the module's
    docstring). Until it is stored, the request is "notice being prepared" and hidden from the platform."""
    request_id = req.id
    transaction.after_commit(lambda: prepare_notice(request_id))


def prepare_notice(request_id: int) -> bool:
    """Render, sign, store the notice of an issued request whose notice is pending, and announce it.

    Holds no transaction while rendering. Safe to run twice at once: only the run whose conditional UPDATE
    marks the notice ready records it (the other's stored file goes with its rollback). Returns whether
    this run recorded it.
    """
    with transaction.read_only():
        req = db.session.get(Request, request_id)
        if req is None or req.reference is None or req.status in UNISSUED or req.notice_ready_at is not None:
            return False
        reference, platform_id, issued_at = req.reference, req.platform_id, req.issued_at
        issuer, approver_id = documents.Party.of(req.agency), req.approved_by_id
        context = notice_context(req, req.approved_by)
    prepared = documents.prepare_document(
        NOTICE, NOTICE, context, reference=reference, issuer=issuer, recipient_organisation_id=platform_id,
        title=_title(NOTICE, reference), issued_by_id=approver_id, issued_at=issued_at)
    with transaction.unit_of_work():
        recorded = _record_notice(request_id, prepared)
    if recorded:
        log.info("notice of request %s prepared (%d bytes)", request_id, len(prepared.pdf))
    return recorded


def _record_notice(request_id: int, prepared: documents.Prepared) -> bool:
    claimed = db.session.execute(
        update(Request).where(Request.id == request_id, Request.notice_ready_at.is_(None))
        .values(notice_ready_at=clock.now()).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return False
    notice = documents.record_document(prepared)
    req = db.session.get(Request, request_id, populate_existing=True)
    for announce in _on_notice_ready:
        announce(req, notice)
    return True


def prepare_notice_now(req: Request) -> None:
    """Prepare the notice of a just-issued request inside the current transaction: only for the demo
    data's few small requests, which walk on (acknowledged, answered) in the same command."""
    db.session.flush()
    prepared = documents.prepare_document(
        NOTICE, NOTICE, notice_context(req, req.approved_by), reference=req.reference,
        issuer=documents.Party.of(req.agency), recipient_organisation_id=req.platform_id,
        title=_title(NOTICE, req.reference), issued_by_id=req.approved_by_id, issued_at=req.issued_at)
    _record_notice(req.id, prepared)


def prepare_pending_notices(now=None) -> dict[str, int]:
    """The job: prepare each notice, withdrawal notice and closure certificate still pending a while after
    its step (a process that died between the commit and the document). Each in its own transactions,
    after this round's commit."""
    before = (now or clock.now()) - RETRY_AFTER
    notices_pending = db.session.scalars(select(Request.id).where(
        Request.reference.isnot(None), Request.notice_ready_at.is_(None), Request.status.notin_(UNISSUED),
        Request.issued_at <= before
    ).order_by(Request.id).limit(100)).all()
    for request_id in notices_pending:
        transaction.after_commit(lambda request_id=request_id: prepare_notice(request_id))
    steps_pending = db.session.scalars(select(RequestEvent.id).where(
        RequestEvent.document_ready_at.is_(None), RequestEvent.action.in_(DOCUMENT_STEPS),
        RequestEvent.occurred_at <= before
    ).order_by(RequestEvent.id).limit(100)).all()
    for event_id in steps_pending:
        transaction.after_commit(lambda event_id=event_id: prepare_step_document(event_id))
    return {"pending": len(notices_pending) + len(steps_pending)}


jobs.register("requests.prepare_notices", prepare_pending_notices, order=20)


# --- Documents that record a step: the withdrawal notice and the closure certificate ---------------------

STEP_KINDS = {"withdraw": WITHDRAWAL, "close": CLOSURE}
_on_step_recorded: dict[str, list[Callable[[Request, RequestEvent], None]]] = {step: [] for step in STEP_KINDS}


def when_step_recorded(action: str):
    """Register what to do once the document of a step (`withdraw`, `close`) is stored: run in the short
    transaction that records it, so the platform is told once, with the document there to download."""
    def register(announce: Callable[[Request, RequestEvent], None]):
        _on_step_recorded[action].append(announce)
        return announce
    return register


def issue_step_document(req: Request, action: str) -> None:
    """Have the document of the step `action` just taken on `req` prepared once the transaction commits."""
    request_id = req.id
    transaction.after_commit(lambda: _prepare_newest(request_id, action))


def _prepare_newest(request_id: int, action: str) -> bool:
    with transaction.read_only():
        event_id = db.session.scalar(select(RequestEvent.id).where(
            RequestEvent.request_id == request_id, RequestEvent.action == action,
            RequestEvent.document_ready_at.is_(None)).order_by(RequestEvent.id.desc()).limit(1))
    return event_id is not None and prepare_step_document(event_id)


def prepare_step_document(event_id: int) -> bool:
    """Render, sign, store and announce the document of one step, as `prepare_notice` does for the notice
    (no transaction held while rendering; only the run that claims the event records it)."""
    with transaction.read_only():
        event = db.session.get(RequestEvent, event_id)
        if event is None or event.document_ready_at is not None or event.action not in STEP_KINDS:
            return False
        req = db.session.get(Request, event.request_id)
        kind, at = STEP_KINDS[event.action], event.occurred_at
        replaces = None
        if kind == WITHDRAWAL:
            context = {**_base(req), "reason": event.reason}
            context["request"]["withdrawn_at"] = at
        else:
            context = closure_context(req, event.actor)
            context["request"]["closed_at"] = at
            earlier = _current_certificate(req.reference)
            replaces = documents.Replaced.of(earlier) if earlier is not None else None
        reference, platform_id, issuer = req.reference, req.platform_id, documents.Party.of(req.agency)
        actor_id = event.actor_id
    prepared = documents.prepare_document(
        kind, kind, context, reference=reference, issuer=issuer, recipient_organisation_id=platform_id,
        title=_title(kind, reference), replaces=replaces, issued_by_id=actor_id, issued_at=at)
    with transaction.unit_of_work():
        recorded = _record_step_document(event_id, prepared)
    return recorded


def _record_step_document(event_id: int, prepared: documents.Prepared) -> bool:
    claimed = db.session.execute(
        update(RequestEvent).where(RequestEvent.id == event_id, RequestEvent.document_ready_at.is_(None))
        .values(document_ready_at=clock.now()).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return False
    documents.record_document(prepared)
    event = db.session.get(RequestEvent, event_id, populate_existing=True)
    req = db.session.get(Request, event.request_id, populate_existing=True)
    for announce in _on_step_recorded[event.action]:
        announce(req, event)
    return True


def _current_certificate(reference: str) -> Document | None:
    return db.session.scalar(
        select(Document).where(Document.kind == CLOSURE, Document.reference == reference,
                               ~Document.replaced_by.has()).order_by(Document.id.desc()).limit(1))


def issue_extension_decision(by: User, req: Request, extension: ExtensionRequest) -> Document:
    """The supervisor's decision on an extension, granted (with the new deadline) or refused."""
    return _issue(by, req, EXTENSION_DECISION,
                  {**_base(req), "extension": _extension(extension), "explanation": _explanation(req)},
                  extension.decided_at)


def documents_of(user: User, req: Request) -> list[Document]:
    """The request's documents `user` may download (its two organisations' users), newest first."""
    if req.reference is None:
        return []
    return documents.documents_for(user, reference=req.reference)
