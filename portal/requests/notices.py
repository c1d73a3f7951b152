"""The PDF documents of a formal request: the notice (at issue), extension decisions, the withdrawal notice
and the closure certificate.

Each is issued once by `portal.core.documents`, in the transaction of the change it records: the state
change, the document, its audit event and its stored file stand or fall together, and a request is never
issued without its notice. The agency issues them; the platform receives them; both download them from the
request page. A request closed again after reopening gets a new closure certificate that replaces the
earlier one, so the verification page of the first says it was superseded.
"""
from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select

from portal.accounts.models import User
from portal.core import documents
from portal.core.documents import Document
from portal.extensions import db
from portal.requests import deadlines, labels
from portal.requests.models import ExtensionRequest, Request, RequestItem
from portal.requests.urls import MAX_ITEMS

NOTICE = "request_notice"
EXTENSION_DECISION = "extension_decision"
WITHDRAWAL = "withdrawal_notice"
CLOSURE = "closure_certificate"

ITEM_FIELDS = (RequestItem.position, RequestItem.url, RequestItem.sha256, RequestItem.md5, RequestItem.pdq,
               RequestItem.outcome, RequestItem.decline_reason, RequestItem.outcome_at)


def _items(req: Request) -> list:
    # Plain rows in the order the agency gave them: a 10,000-item notice must not build 10,000 entities.
    return db.session.execute(select(*ITEM_FIELDS).where(RequestItem.request_id == req.id)
                              .order_by(RequestItem.position).limit(MAX_ITEMS)).all()


def _explanation(req: Request) -> dict[str, str]:
    """How the deadline was computed, in both languages (the sentence the pages show)."""
    explained = {}
    for language in ("ko", "en"):
        with force_locale(language):
            explained[language] = deadlines.explanation(req)
    return explained


def _issue(by: User, req: Request, kind: str, context: dict, at, replaces: Document | None = None) -> Document:
    label = documents.kind_of(kind)
    return documents.issue_document(
        kind, kind, {"request": req, "labels": labels, **context},
        reference=req.reference, issuer=req.agency, recipient_organisation_id=req.platform_id,
        title=f"{label.ko} / {label.en} {req.reference}", issued_by=by, issued_at=at, replaces=replaces,
    )


def issue_notice(by: User, req: Request) -> Document:
    """The formal notice, at issue: what is asked, by when, of which items, and how to answer."""
    return _issue(by, req, NOTICE, {"items": _items(req), "explanation": _explanation(req),
                                    "contact": req.drafted_by, "approver": by}, req.issued_at)


def issue_extension_decision(by: User, req: Request, extension: ExtensionRequest) -> Document:
    """The supervisor's decision on an extension, granted (with the new deadline) or refused."""
    return _issue(by, req, EXTENSION_DECISION, {"extension": extension, "explanation": _explanation(req)},
                  extension.decided_at)


def issue_withdrawal_notice(by: User, req: Request, reason: str) -> Document:
    return _issue(by, req, WITHDRAWAL, {"reason": reason}, req.withdrawn_at)


def issue_closure_certificate(by: User, req: Request) -> Document:
    """The record of how the request ended: each item's outcome and the times of each step."""
    earlier = db.session.scalar(
        select(Document).where(Document.kind == CLOSURE, Document.reference == req.reference,
                               ~Document.replaced_by.has()).order_by(Document.id.desc()).limit(1))
    return _issue(by, req, CLOSURE, {"items": _items(req), "closed_by": by}, req.closed_at, replaces=earlier)


def documents_of(user: User, req: Request) -> list[Document]:
    """The request's documents `user` may download (its two organisations' users), newest first."""
    if req.reference is None:
        return []
    return documents.documents_for(user, reference=req.reference)
