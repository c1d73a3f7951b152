"""What every page of requests shares: loading a request within reach, answering a step, refusals."""
from __future__ import annotations

import re

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core import transaction
from portal.core.exceptions import DomainError, NotFound
from portal.requests import services
from portal.requests.forms import (
    ButtonForm,
)
from portal.requests.models import Request


REFERENCE = re.compile(r"^[A-Z0-9]{2,12}-\d{4}-\d{6}$")
ITEMS_PER_PAGE = 1000
# 10,000 lines with every hash and a note fit well within this.
MAX_CSV_BYTES = 8 * 1024 * 1024


def _load(request_id: int, permission: str = "request.view") -> Request:
    try:
        return services.get_request(current_user, request_id, permission)
    except NotFound:
        abort(404)


def _detail(req: Request, anchor: str | None = None):
    return redirect(url_for("requests.detail", request_id=req.id) + (f"#{anchor}" if anchor else ""))


def _done(req: Request, message: str, anchor: str | None = None):
    flash(message, "success")
    return _detail(req, anchor)


def _refused(req: Request, error: DomainError, anchor: str | None = None):
    transaction.discard()
    flash(str(error.message), "error")
    return _detail(req, anchor)


def _act(req: Request, action, message: str, form_class=ButtonForm, anchor: str | None = None):
    """Run a state change posted by a button or a reason form, then back to the request."""
    form = form_class()
    if not form.validate_on_submit():
        flash(_refusal(form), "error")
        return _detail(req, anchor)
    try:
        action(form)
    except DomainError as error:
        return _refused(req, error, anchor)
    return _done(req, message, anchor)


def _refusal(form) -> str:
    """What a refused form says, translated: a missing reason, else each field's error after its name (an
    empty message box), else (a stale form, no CSRF token) to try again."""
    if "reason" in form.errors:
        return _("Give a reason.")
    said = [f"{form[name].label.text}: {errors[0]}" for name, errors in form.errors.items() if name != "csrf_token"]
    return " ".join(said) or _("Please try again.")
