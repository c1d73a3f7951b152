"""Error pages in the viewer's language with an incident id, and JSON errors under /api/."""
import logging
import uuid

from urllib.parse import urlsplit

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.core import audit, transaction
from portal.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationError
from portal.site.views import safe_next

log = logging.getLogger(__name__)


def _titles():
    # Built per request so each is translated into the viewer's language.
    return {
        400: _("The request could not be understood."),
        401: _("Please log in to continue."),
        403: _("You do not have access to this page."),
        404: _("The page you asked for does not exist."),
        405: _("This action is not allowed here."),
        413: _("The file or form you sent is too large."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side."),
        503: _("The service is temporarily unavailable."),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, incident: str | None = None):
    incident = incident or uuid.uuid4().hex[:12]
    if status != 500:
        log.info("incident %s: %s on %s %s", incident, status, request.method, request.endpoint)
    message = _titles().get(status) or _("Something went wrong on our side.")
    code = {401: "unauthorised", 403: "forbidden", 404: "not_found", 429: "rate_limited"}.get(status, f"http_{status}")
    if wants_json():
        body = {"error": code, "message": message, "incident": incident}
        if status == 404:
            # The same bytes for a missing object and another organisation's one: nothing to tell them apart.
            del body["incident"]
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message, incident=incident), status


def _denied(exc: PermissionDenied):
    # Recorded on its own, after whatever the request had pending is rolled back with the 4xx.
    details = {"permission": exc.permission, "endpoint": request.endpoint, "method": request.method}
    transaction.after(lambda: audit.record("access.denied", details=details))
    audit.refusal_recorded()  # its 404 is this row, not also a not-found one
    # Another organisation's object is answered as if it did not exist.
    return error_response(404 if exc.obj is not None else 403)


def _not_found(_exc: NotFound):
    return error_response(404)


def _refused(exc: DomainError):
    """A refusal no view caught: undo what the service flushed, say why, and go back where the user was."""
    transaction.discard()
    if wants_json():
        status = 422 if isinstance(exc, ValidationError) else 409
        return jsonify({"error": "validation_error" if status == 422 else "conflict",
                        "message": str(exc.message)}), status
    flash(str(exc.message), "error")
    return redirect(safe_next(_same_site_referrer(), url_for("dashboard.home")), code=303)


def _same_site_referrer() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _record_refusal(exc: HTTPException) -> None:
    """Probing leaves a trace: failed CSRF checks and rate-limit hits are audited (404s: `_audit_not_found`)."""
    if isinstance(exc, CSRFError):
        audit.record_refusal("csrf", reason=str(exc.description)[:120])
    elif exc.code == 429:
        audit.record_refusal("rate_limited", limit=str(getattr(exc, "description", ""))[:80])


def _audit_not_found(response):
    """Every 404 (an unknown page, an id that does not exist, an invalid reset or invitation link) is a
    refusal worth recording, whichever view or handler answered it."""
    if response.status_code == 404:
        audit.record_refusal("not_found")
    return response


def init_app(app: Flask) -> None:
    # Registered after the unit of work's own after_request, so it runs before it (Flask runs them in
    # reverse) and its row is written with the request's other deferred work.
    app.after_request(_audit_not_found)
    app.register_error_handler(PermissionDenied, _denied)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(DomainError, _refused)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        _record_refusal(exc)
        if exc.code == 401 and not wants_json():
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
        body, status = error_response(exc.code or 500)
        response = app.make_response((body, status))
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        incident = uuid.uuid4().hex[:12]
        log.exception("incident %s on %s %s", incident, request.method, request.endpoint)
        return error_response(500, incident)
