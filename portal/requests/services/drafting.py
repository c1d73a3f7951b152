"""Drafting (agencies): drafts, their fields and their items."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update

from portal.accounts.models import Organisation, User
from portal.core import audit, clock, policy, workflow
from portal.core.exceptions import Conflict, ValidationError
from portal.extensions import db
from portal.i18n import Number
from portal.requests import attachments as files
from portal.requests.models import (
    CATEGORIES,
    DRAFT,
    PRIORITIES,
    TYPES,
    Attachment,
    ExtensionRequest,
    InternalNote,
    LegalBasis,
    Request,
    RequestEvent,
    RequestItem,
    RequestMessage,
)
from portal.requests.services.common import ItemsRefused, MAX_TEXT, _chunks, _event
from portal.requests.urls import MAX_ITEMS, ParseResult


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
            raise ValidationError(name, _l("Keep this under %(max)s characters.", max=Number(MAX_TEXT)))
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


# History events that write part of a request before it is issued: whoever made one is an author of it.
AUTHORING = frozenset({"drafted", "draft_updated", "items_added", "items_removed", "attachment_added"})


def authors(req: Request) -> set[int]:
    """Ids of everyone who wrote any part of `req` (its fields, items or attachments) before its issue."""
    ids = set(db.session.scalars(select(RequestEvent.actor_id).where(
        RequestEvent.request_id == req.id, RequestEvent.action.in_(AUTHORING), RequestEvent.actor_id.is_not(None))))
    return ids | {req.drafted_by_id}


def _editable(by: User, req: Request) -> None:
    """`by` may change the draft; its row is locked so a concurrent submit cannot slip between."""
    policy.require(by, "request.draft", req)
    workflow.lock(req)
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
    _event(by, req, "draft_updated", internal=True, at=req.updated_at)
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
        raise ItemsRefused([], _l("A request holds at most %(max)s items; this list would make it %(n)s.",
                                  max=Number(MAX_ITEMS), n=Number(len(existing) + len(new))))
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
    _event(by, req, "items_added", internal=True, at=req.updated_at)
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
    if removed:
        _event(by, req, "items_removed", internal=True, at=req.updated_at)
    audit.record("request.items_removed", req, actor=by, details={"removed": removed})
    return removed
