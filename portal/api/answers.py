"""The API's answers, shared by its modules: errors as JSON, the validated body and its fields, the few
readers of query strings, and the representations of times and documents. Views call them as
`answers.body()`, `answers.error(...)`, `answers.iso(...)`.
"""
from __future__ import annotations

from datetime import datetime

from flask import Response, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.api import bp
from portal.api.spec import ScopeMissing
from portal.api.validation import BadBody, EntriesRefused
from portal.core import audit, clock, documents, transaction
from portal.core import input as reader
from portal.core.exceptions import Conflict, DomainError, NotFound, ValidationError
from portal.requests import services


# --- Errors ----------------------------------------------------------------------------------------------

def error(status: int, code: str, message, **extra):
    return jsonify({"error": code, "message": str(message), **extra}), status


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError):
    extra = {"field": _FIELD_NAMES.get(exc.field, exc.field)}
    if isinstance(exc, EntriesRefused):
        extra["items"] = [{"index": index, "message": message} for index, message in exc.entries]
    if isinstance(exc, services.ItemsRefused):
        extra["items"] = [{"index": e.line, "message": str(e.message)} for e in exc.errors[:1000]]
    return error(422, "validation_error", exc.message, **extra)


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict):
    return error(409, "conflict", exc.message)


@bp.errorhandler(NotFound)
def _not_found(_exc: NotFound):
    # Byte for byte the answer to another organisation's object (portal.errors): one text, no incident.
    from portal.errors import error_response

    return error_response(404)


@bp.errorhandler(ScopeMissing)
def _scope_missing(exc: ScopeMissing):
    # Audited like any other refusal (see portal.errors).
    details = {"scope": list(exc.scopes), "endpoint": request.endpoint, "method": request.method}
    transaction.after(lambda: audit.record("access.denied", details=details))
    return error(403, "insufficient_scope", _("This token does not have the scope needed: %(scopes)s.",
                                              scopes=" or ".join(exc.scopes)))


@bp.errorhandler(DomainError)
def _refused(exc: DomainError):
    return error(422, "refused", exc.message)


# The services name form fields; the API names its own.
_FIELD_NAMES = {"platform_id": "platform", "legal_basis_id": "legal_basis", "after": "cursor"}


def body() -> dict:
    """The JSON body, already validated against the operation's schema and read (portal.api.validation)."""
    return g.api_body


@bp.errorhandler(BadBody)
def _bad_body(_exc):
    return error(400, "bad_request", _("Send a JSON object (Content-Type: application/json)."))


def text(data: dict, name: str, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise ValidationError(name, _("This field is required."))
        return None
    if not isinstance(value, str):
        raise ValidationError(name, _("This field must be text."))
    return value


def moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    return reader.moment(value, field=name)


# --- Representations ---------------------------------------------------------------------------------------

def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(clock.UTC).isoformat().replace("+00:00", "Z") if moment else None


def document(document, download: str | None = None) -> dict:
    """A document as the API lists it; `download` where it is reached otherwise than by its organisations."""
    return {"id": document.id, "kind": document.kind, "reference": document.reference, "title": document.title,
            "issued_at": iso(document.issued_at), "sha256": document.sha256, "size": document.size,
            "download": download or url_for("api.document", document_id=document.id)}


def pdf_answer(document):
    """The stored bytes of `document`, as issued, its download audited."""
    data = documents.read_document(document)
    documents.record_download(current_user, document)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="document-{document.id}.pdf"'
    response.headers["ETag"] = f'"{document.sha256}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Query strings ------------------------------------------------------------------------------------------

def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    return reader.integer(raw, field=name, low=low, high=high)


def choice_arg(name: str, values) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in values:
        raise ValidationError(name, _("This value is not one of the choices."))
    return raw
