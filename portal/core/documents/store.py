"""Write-once storage of issued documents: `instance/documents/<sha256[:2]>/<sha256>.pdf` (`DOCUMENTS_PATH`
moves the folder). A file written in a transaction belongs to it until it commits: a rollback removes it."""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal.core.documents.kinds import DocumentError
from portal.core.documents.models import Document
from portal.extensions import db

log = logging.getLogger(__name__)


def documents_root() -> Path:
    return Path(current_app.config.get("DOCUMENTS_PATH") or Path(current_app.instance_path) / "documents")


_PENDING_FILES = "portal.documents.pending_files"


def store(data: bytes, digest: str) -> str:
    """Write once: a new file by its hash, never over an existing one; read-only once written."""
    relative = f"{digest[:2]}/{digest}.pdf"
    final = documents_root() / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=final.parent, prefix=".issuing-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o440)
        try:
            os.link(temporary, final)  # fails if the name exists: nothing is ever overwritten
        except FileExistsError:
            raise DocumentError(f"a stored document already has the hash {digest}") from None
    finally:
        os.unlink(temporary)
    # Until the transaction commits, the file belongs to it: a rollback takes it away again.
    db.session.info.setdefault(_PENDING_FILES, []).append(final)
    return relative


@event.listens_for(Session, "after_commit")
def _keep_issued_files(session):
    session.info.pop(_PENDING_FILES, None)


@event.listens_for(Session, "after_rollback")
def _remove_unrecorded_files(session):
    for path in session.info.pop(_PENDING_FILES, []):
        try:
            os.chmod(path, 0o640)
            path.unlink()
        except OSError:
            log.warning("could not remove the file of a document that was rolled back: %s", path.name)


def read_document(document: Document) -> bytes:
    """The stored bytes, exactly as issued. Raises DocumentError if the file is missing or was changed."""
    path = documents_root() / document.storage_path
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"stored file of document {document.id} cannot be read") from error
    if hashlib.sha256(data).hexdigest() != document.sha256:
        log.error("stored file of document %s does not match its recorded hash", document.id)
        raise DocumentError(f"stored file of document {document.id} does not match its hash")
    return data


def check_store() -> list[tuple[int, str]]:
    """Every stored document whose file is missing or changed: (id, problem)."""
    problems = []
    for document in db.session.scalars(select(Document).order_by(Document.id)):
        path = documents_root() / document.storage_path
        if not path.exists():
            problems.append((document.id, "missing"))
        elif hashlib.sha256(path.read_bytes()).hexdigest() != document.sha256:
            problems.append((document.id, "changed"))
    return problems
