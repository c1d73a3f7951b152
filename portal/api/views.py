"""API v1 views: parse JSON, call the same services as the web pages, answer JSON.

Every route that names a request is open to `request.view` and loads it through `services.get_request`;
the service then asks for the job's own permission on that request, so another organisation's request, or
one the caller's role has no business with, answers 404 like on the web. Services flush; each view
commits once.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json

from flask import Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.api import answers, bp, schemas
from portal.api.models import IdempotentCreation
from portal.api.spec import english, header, in_language, openapi_document, operation, query
from portal.core import clock, input as reader, documents, policy, transaction
from portal.core.exceptions import ValidationError
from portal.core.pagination import keyset_page
from portal.extensions import db, limiter
from portal.i18n import Number
from portal.requests import notices, services, urls
from portal.requests.models import STATUSES, UNISSUED, Request

READ, WRITE, RESPOND = ("requests:read",), ("requests:write",), ("requests:respond",)
ID = "<int(max=2147483647):request_id>"
MAX_PAGE = 200
MAX_ITEMS_PAGE = 1000
MAX_IDEMPOTENCY_KEY = 200


# --- Representations ---------------------------------------------------------------------------------------

def _organisation(org) -> dict:
    return {"code": org.code, "name_ko": org.name_ko, "name_en": org.name_en}


def represent(req: Request) -> dict:
    deadline = None
    if req.deadline is not None:
        deadline = {"utc": answers.iso(req.deadline), "kst": req.deadline.astimezone(clock.KST).isoformat(),
                    "reason": req.deadline_reason, "hours": req.deadline_hours,
                    "working_days": req.deadline_working_days, "overdue": req.is_overdue}
    return {
        "id": req.id, "reference": req.reference, "status": req.status, "request_type": req.request_type,
        "category": req.category, "priority": req.priority,
        "agency": _organisation(req.agency), "platform": _organisation(req.platform),
        "legal_basis": req.legal_basis.code if req.legal_basis else None,
        "legal_basis_text": req.legal_basis_text, "summary_ko": req.summary_ko, "summary_en": req.summary_en,
        "item_count": req.item_count, "deadline": deadline,
        "created_at": answers.iso(req.created_at), "updated_at": answers.iso(req.updated_at),
        "submitted_at": answers.iso(req.submitted_at), "issued_at": answers.iso(req.issued_at),
        "acknowledged_at": answers.iso(req.acknowledged_at), "responded_at": answers.iso(req.responded_at),
        "closed_at": answers.iso(req.closed_at), "withdrawn_at": answers.iso(req.withdrawn_at),
    }


def _item(row) -> dict:
    return {"id": row.id, "position": row.position, "url": row.url, "sha256": row.sha256, "md5": row.md5,
            "pdq": row.pdq, "note": row.note, "outcome": row.outcome, "decline_reason": row.decline_reason}


def _load(request_id: int) -> Request:
    return services.get_request(current_user, request_id)


def _done(req: Request, status: int = 200):
    return jsonify(represent(req)), status


# --- Requests: read ---------------------------------------------------------------------------------------

def _cursor_encode(after: str | None) -> str | None:
    return base64.urlsafe_b64encode(after.encode()).decode().rstrip("=") if after else None


def _cursor_decode(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        after = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
        return reader.keyset(after, field="cursor")  # "deadline|id", read strictly
    except (binascii.Error, UnicodeDecodeError, ValueError, reader.InputError):
        raise ValidationError("cursor", _("This page link is not valid.")) from None


LIST_STATUSES = ("open", "all", *(s for s in STATUSES if s not in UNISSUED))


# Parameters outside the `operation` calls, where `make translations` finds their descriptions.
LIST_PARAMETERS = [
    query("status", {"type": "string", "enum": list(LIST_STATUSES)},
          english("open (default), all, or one status")),
    query("type", {"type": "string", "enum": list(services.TYPES)}),
    query("priority", {"type": "string", "enum": list(services.PRIORITIES)}),
    query("category", {"type": "string", "enum": list(services.CATEGORIES)}),
    query("overdue", {"type": "boolean"}, english("only open requests past their deadline")),
    query("updated_since", schemas.TIME_INPUT),
    query("cursor", {"type": "string", "maxLength": 200, "pattern": "^[A-Za-z0-9_-]+$"},
          english("next_cursor of the previous page")),
    query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
]
ITEM_PAGE_PARAMETERS = [
    query("items_after", {"type": "integer", "minimum": 0, "maximum": schemas.MAX_INT},
          english("next_items_cursor of the previous page")),
    query("items_limit", {"type": "integer", "minimum": 1, "maximum": MAX_ITEMS_PAGE}),
]
IDEMPOTENCY_KEY = header("Idempotency-Key", {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY},
                         english("The same key and body answer the same result; another body with it: 409."))


@bp.get("/requests")
@policy.access("request.view")
@operation(
    "List the requests the caller can see (issued ones), by deadline, one page at a time",
    scopes=READ,
    parameters=LIST_PARAMETERS,
    responses={200: schemas.REQUEST_LIST},
    errors=(422,),
)
def list_requests():
    overdue = request.args.get("overdue", "false")
    if overdue not in ("true", "false"):
        raise ValidationError("overdue", _("Give true or false."))
    filters = services.Filters(
        status=answers.choice_arg("status", LIST_STATUSES) or "open",
        request_type=answers.choice_arg("type", services.TYPES), priority=answers.choice_arg("priority", services.PRIORITIES),
        category=answers.choice_arg("category", services.CATEGORIES), overdue=overdue == "true",
        updated_since=answers.moment(request.args.get("updated_since"), "updated_since"),
    )
    page = services.list_requests(current_user, filters, after=_cursor_decode(request.args.get("cursor")),
                                  limit=answers.int_arg("limit", services.PAGE_SIZE, 1, MAX_PAGE))
    return jsonify({"requests": [represent(req) for req in page.requests],
                    "next_cursor": _cursor_encode(page.next_after)})


@bp.get(f"/requests/{ID}")
@policy.access("request.view")
@operation(
    "A request with a page of its items, its deadline (UTC and KST) and its documents",
    scopes=READ,
    parameters=ITEM_PAGE_PARAMETERS,
    responses={200: schemas.REQUEST_DETAIL},
    errors=(422,),
)
def get_request(request_id: int):
    req = _load(request_id)
    after = answers.int_arg("items_after", 0, 0, 2147483647)
    limit = answers.int_arg("items_limit", MAX_ITEMS_PAGE, 1, MAX_ITEMS_PAGE)
    services.record_view(current_user, req)
    page = keyset_page(services.item_rows(req, after, limit + 1), limit, key=lambda row: row.position)
    found = notices.documents_of(current_user, req)
    return jsonify({"request": represent(req), "items": [_item(row) for row in page.items],
                    "next_items_cursor": page.next_key,
                    "documents": [answers.document(d) for d in found]})


# --- Requests: drafting and issuing (agencies) -------------------------------------------------------------

def _body_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@bp.post("/requests")
@policy.access("request.draft")
@operation(
    "Create a draft request with its items (up to 10,000); honours an Idempotency-Key header",
    scopes=WRITE,
    headers=[IDEMPOTENCY_KEY],
    body=schemas.NEW_REQUEST,
    responses={201: schemas.CREATED},
    errors=(403, 409),
)
def create_request():
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        key = key.strip()
        if not key or len(key) > MAX_IDEMPOTENCY_KEY:
            raise ValidationError("Idempotency-Key", _("The Idempotency-Key is empty or too long."))
        remembered = _remembered(key)
        if remembered is not None:
            return remembered
    data = answers.body()
    fields = _draft_fields(data)
    records = data.get("items", [])
    if not isinstance(records, list):
        raise ValidationError("items", _("Give the items as a list."))
    if len(records) > urls.MAX_ITEMS:
        raise ValidationError("items", _("A request holds at most %(max)s items.", max=Number(urls.MAX_ITEMS)))
    req = services.create_draft(current_user, **fields)
    added = services.ItemsAdded(0, 0)
    if records:
        added = services.add_items(current_user, req, urls.parse_records(records))
    body = {"request": represent(req), "items_added": added.added, "duplicates_merged": added.merged}
    if key is not None:
        db.session.add(IdempotentCreation(user_id=current_user.id, key=key, body_hash=_body_hash(request.get_data()),
                                          status_code=201, response=json.dumps(body)))
    try:
        db.session.flush()
    except IntegrityError:  # the same key, used concurrently: the first one won
        transaction.discard()
        remembered = _remembered(key) if key is not None else None
        if remembered is None:
            raise
        return remembered
    return jsonify(body), 201


def _remembered(key: str):
    row = db.session.scalar(select(IdempotentCreation).where(IdempotentCreation.user_id == current_user.id,
                                                             IdempotentCreation.key == key))
    if row is None:
        return None
    if row.body_hash != _body_hash(request.get_data()):
        return answers.error(409, "idempotency_key_reused",
                     _("This Idempotency-Key was used with another body; use a new key for a new request."))
    return Response(row.response, status=row.status_code, mimetype="application/json",
                    headers={"Idempotent-Replayed": "true"})


def _draft_fields(data: dict) -> dict:
    platform_code = answers.text(data, "platform", required=True)
    platform = next((p for p in services.platforms() if p.code == platform_code), None)
    basis_code = answers.text(data, "legal_basis")
    basis = next((b for b in services.legal_bases() if b.code == basis_code), None) if basis_code else None
    if basis_code and basis is None:
        raise ValidationError("legal_basis", _("Choose a legal basis from the list."))
    return {
        "platform_id": platform.id if platform else None,
        "request_type": answers.text(data, "request_type"), "category": answers.text(data, "category"),
        "priority": answers.text(data, "priority"),
        "legal_basis_id": basis.id if basis else None, "legal_basis_text": answers.text(data, "legal_basis_text") or "",
        "summary_ko": answers.text(data, "summary_ko"), "summary_en": answers.text(data, "summary_en"),
    }


def _reason(required: bool = True) -> str | None:
    return answers.text(answers.body(), "reason", required=required)


@bp.post(f"/requests/{ID}/submit")
@policy.access("request.view")
@operation("Submit a draft for approval by a supervisor", scopes=WRITE, responses={200: schemas.REQUEST},
           errors=(409,))
def submit(request_id: int):
    req = _load(request_id)
    services.submit_for_approval(current_user, req)
    return _done(req)


@bp.post(f"/requests/{ID}/approve")
@policy.access("request.view")
@operation("Approve and issue a request (four-eyes: a supervisor other than its drafter)", scopes=WRITE,
           responses={200: schemas.REQUEST}, errors=(409,))
def approve(request_id: int):
    req = _load(request_id)
    services.issue_request(current_user, req)
    return _done(req)


@bp.post(f"/requests/{ID}/withdraw")
@policy.access("request.view")
@operation("Withdraw an issued request, with a reason", scopes=WRITE, body=schemas.REASON,
           responses={200: schemas.REQUEST}, errors=(409,))
def withdraw(request_id: int):
    req = _load(request_id)
    services.withdraw(current_user, req, _reason())
    return _done(req)


@bp.post(f"/requests/{ID}/close")
@policy.access("request.view")
@operation("Close an answered request", scopes=WRITE, responses={200: schemas.REQUEST}, errors=(409,))
def close(request_id: int):
    req = _load(request_id)
    services.close(current_user, req)
    return _done(req)


@bp.post(f"/requests/{ID}/reopen")
@policy.access("request.view")
@operation("Reopen an answered or closed request, with a reason", scopes=WRITE, body=schemas.REASON,
           responses={200: schemas.REQUEST}, errors=(409,))
def reopen(request_id: int):
    req = _load(request_id)
    services.reopen(current_user, req, _reason())
    return _done(req)


# --- Requests: answering (platforms) -----------------------------------------------------------------------

@bp.post(f"/requests/{ID}/acknowledge")
@policy.access("request.view")
@operation("Acknowledge a newly issued request", scopes=RESPOND, responses={200: schemas.REQUEST}, errors=(409,))
def acknowledge(request_id: int):
    req = _load(request_id)
    services.acknowledge(current_user, req)
    return _done(req)


@bp.patch(f"/requests/{ID}/items")
@policy.access("request.view")
@operation("Record outcomes for many items at once", scopes=RESPOND, body=schemas.OUTCOMES_BODY,
           responses={200: schemas.OUTCOMES_SET}, errors=(409,))
def set_outcomes(request_id: int):
    req = _load(request_id)
    entries = answers.body().get("outcomes")
    if not isinstance(entries, list) or not entries or len(entries) > urls.MAX_ITEMS:
        raise ValidationError("outcomes", _("Give between 1 and %(max)s outcomes.", max=Number(urls.MAX_ITEMS)))
    groups: dict[tuple[str, str | None], list[int]] = {}
    problems = []
    for index, entry in enumerate(entries):
        if (not isinstance(entry, dict) or not isinstance(entry.get("item"), int) or isinstance(entry.get("item"), bool)
                or not isinstance(entry.get("outcome"), str)
                or not isinstance(entry.get("decline_reason") or "", str)):
            problems.append(urls.LineError(index, _("Each outcome needs an item id and an outcome.")))
            continue
        groups.setdefault((entry["outcome"], entry.get("decline_reason")), []).append(entry["item"])
    if problems:
        raise services.ItemsRefused(problems, _("Nothing was saved: correct the outcomes listed."))
    updated = 0
    for (outcome, reason), item_ids in groups.items():
        updated += services.set_outcomes(current_user, req, item_ids, outcome, reason)
    return jsonify({"updated": updated, "request": represent(req)})


@bp.post(f"/requests/{ID}/response")
@policy.access("request.view")
@operation("Submit the response: fully answered when every item has a final outcome, partly otherwise",
           scopes=RESPOND, responses={200: schemas.REQUEST}, errors=(409,))
def respond(request_id: int):
    req = _load(request_id)
    services.submit_response(current_user, req)
    return _done(req)


@bp.post(f"/requests/{ID}/extension")
@policy.access("request.view")
@operation("Ask the agency for more time", scopes=RESPOND, body=schemas.EXTENSION_BODY,
           responses={201: schemas.EXTENSION}, errors=(409,))
def ask_extension(request_id: int):
    req = _load(request_id)
    data = answers.body()
    extension = services.request_extension(current_user, req, answers.text(data, "reason", required=True),
                                           answers.moment(answers.text(data, "requested_until"), "requested_until"))
    return jsonify({"id": extension.id, "status": extension.status, "reason": extension.reason,
                    "requested_until": answers.iso(extension.requested_until), "created_at": answers.iso(extension.created_at)}), 201


# --- Messages -------------------------------------------------------------------------------------------

def _message(message) -> dict:
    return {"id": message.id, "organisation": message.author.organisation.code, "author": message.author.name,
            "body": message.body, "created_at": answers.iso(message.created_at)}


@bp.get(f"/requests/{ID}/messages")
@policy.access("request.view")
@operation("The request's thread, oldest first", scopes=READ, responses={200: schemas.MESSAGES})
def list_messages(request_id: int):
    req = _load(request_id)
    thread = services.messages(req)
    services.mark_read(current_user, req, thread)  # read through an integration is read: the unread counts agree
    return jsonify({"messages": [_message(m) for m in thread]})


@bp.post(f"/requests/{ID}/messages")
@policy.access("request.view")
@operation("Post a message both sides read", scopes=WRITE + RESPOND, body=schemas.NEW_MESSAGE,
           responses={201: schemas.MESSAGE}, errors=(409,))
def post_message(request_id: int):
    req = _load(request_id)
    message = services.post_message(current_user, req, answers.text(answers.body(), "body", required=True))
    return jsonify(_message(message)), 201


# --- Documents and verification ------------------------------------------------------------------------

@bp.get("/documents/<int(max=2147483647):document_id>")
@policy.access("document.download")
@operation("The stored PDF of an issued document, byte for byte", scopes=READ, tag="documents",
           content_type="application/pdf", responses={200: {"type": "string", "format": "binary"}})
def document(document_id: int):
    return answers.pdf_answer(documents.get_document(current_user, document_id))


def _verify_rate() -> str:
    from portal.verification.views import DEFAULT_RATE_LIMIT

    return current_app.config.get("VERIFY_RATE_LIMIT", DEFAULT_RATE_LIMIT)


@bp.get("/verify")
@policy.access(policy.PUBLIC)
@limiter.shared_limit(_verify_rate, scope="document-verification")
@operation("Public check that a document with this reference and verification code was issued by the portal",
           tag="documents",
           parameters=[query("reference", schemas.text_input(64)),
                       query("code", schemas.text_input(64))],
           responses={200: schemas.VERIFICATION})
def verify():
    result = documents.verify_reference(request.args.get("reference"), request.args.get("code"))
    if result is None:
        return jsonify({"authentic": False})
    documents.record_verification(result, "api")
    return jsonify({"authentic": True, "document": {
        "kind": result.kind.code, "reference": result.reference, "issuer_ko": result.issuer_ko,
        "issuer_en": result.issuer_en, "issued_at": answers.iso(result.issued_at), "sha256": result.sha256,
        "signer_fingerprint": result.signer_fingerprint, "replaced": result.replaced_by is not None}})


# --- The API's own description ---------------------------------------------------------------------------

@bp.get("/openapi.json")
@policy.access(policy.PUBLIC)
def openapi():
    return jsonify(openapi_document(current_app))


@bp.get("/docs")
@policy.access(policy.PUBLIC)
def docs():
    """The OpenAPI document as a page: every operation, its scopes, parameters and answers."""
    return render_template("api/docs.html", spec=in_language(openapi_document(current_app)))
