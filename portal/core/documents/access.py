"""Who may reach which document, and the audit of each download."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.core import audit, policy
from portal.core.documents.models import Document
from portal.core.exceptions import NotFound
from portal.extensions import db


def get_document(user: User, document_id: int, permission: str = "document.download") -> Document:
    """The document if `user` may reach it; another organisation's answers as not found (404)."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound(_l("Document not found."))
    policy.require(user, permission, document)
    return document


def documents_for(user: User, *, reference: str | None = None, kind: str | None = None) -> list[Document]:
    """The documents `user` may download, newest first; narrowed to one reference or kind when given."""
    query = policy.scoped(select(Document), Document, user, "document.download")
    if reference is not None:
        query = query.where(Document.reference == reference)
    if kind is not None:
        query = query.where(Document.kind == kind)
    # The request page says of each document whether a later one replaced it: loaded in one query.
    query = query.options(selectinload(Document.replaced_by))
    return list(db.session.scalars(query.order_by(Document.issued_at.desc(), Document.id.desc())))


def record_download(user: User, document: Document) -> None:
    audit.record("document.downloaded", document, actor=user,
                 details={"kind": document.kind, "reference": document.reference})
