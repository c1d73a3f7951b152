"""Answering a request (platforms) and following it up: outcomes, extensions, closing, messages, files."""
from __future__ import annotations


from flask import abort, flash, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.core import clock, policy, transaction
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import refuse
from portal.extensions import db
from portal.i18n import ngettext
from portal.requests import attachments as files
from portal.requests import bp, services
from portal.requests.forms import (
    AttachmentForm,
    ExtensionForm,
    GrantForm,
    MessageForm,
    NoteForm,
    OutcomeForm,
    ReasonForm,
)
from portal.requests.models import Request, RequestItem
from portal.requests.views.common import _act, _detail, _done, _load, _refused
from portal.requests.views.pages import _show


# --- Answering ----------------------------------------------------------------------------------------------

@bp.post("/<int:request_id>/acknowledge")
@policy.access("request.respond")
def acknowledge(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.acknowledge(current_user, req), _("The request is acknowledged."))


@bp.post("/<int:request_id>/outcomes")
@policy.access("request.respond")
def outcomes(request_id: int):
    req = _load(request_id)
    form = OutcomeForm()
    if not form.validate_on_submit():
        flash(_("Choose an outcome."), "error")
        return _detail(req, "items")
    if request.form.get("scope") == "unanswered":
        ids = list(db.session.scalars(select(RequestItem.id).where(RequestItem.request_id == req.id,
                                                                   RequestItem.outcome.is_(None))))
    else:
        ids = [int(i) for i in request.form.getlist("item") if i.isdigit()]
    try:
        count = services.set_outcomes(current_user, req, ids, form.outcome.data, form.decline_reason.data)
    except DomainError as error:
        # Shown again with what was chosen (ticked items, outcome, scope), not a redirect that loses it.
        transaction.discard()
        flash(str(error.message), "error")
        return _show(req, outcome_form=form, selected=frozenset(ids), scope=request.form.get("scope"))
    return _done(req, ngettext("Outcome recorded for %(num)s item.", "Outcome recorded for %(num)s items.", count), "items")


@bp.route("/<int:request_id>/items/<int:item_id>", methods=["GET", "POST"])
@policy.access({"GET": "request.view", "POST": "request.respond"})
def item(request_id: int, item_id: int):
    req = _load(request_id)
    try:
        found = services.get_item(req, item_id)
    except NotFound:
        abort(404)
    form = OutcomeForm(obj=found)
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.set_outcomes(current_user, req, [found.id], form.outcome.data, form.decline_reason.data)
        except DomainError as error:
            refuse(form, error)
        else:
            return _done(req, _("The outcome is recorded."), "items")
    earlier = services.earlier_requests(current_user, req, [found.url_hash])
    services.record_item_view(current_user, req, found)
    previous_id, next_id = services.item_neighbours(req, found)
    return render_template("requests/item.html", req=req, item=found, form=form,
                           previous_id=previous_id, next_id=next_id,
                           earlier=earlier.get(found.url_hash, []),
                           can=lambda permission: policy.can(current_user, permission, req))


@bp.post("/<int:request_id>/respond")
@policy.access("request.respond")
def respond(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.submit_response(current_user, req), _("The response is submitted."))


@bp.post("/<int:request_id>/extensions")
@policy.access("request.respond")
def ask_extension(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.request_extension(current_user, req, form.reason.data),
                _("Your extension request is sent to the agency."), ExtensionForm, "extensions")


@bp.post("/<int:request_id>/extensions/<int:extension_id>/grant")
@policy.access("request.decide_extension")
def grant_extension(request_id: int, extension_id: int):
    req = _load(request_id)
    extension = _extension(req, extension_id)

    def grant(form):
        new_deadline = form.new_deadline.data.replace(tzinfo=clock.KST)
        services.grant_extension(current_user, req, extension, new_deadline, form.reason.data)

    return _act(req, grant, _("The extension is granted."), GrantForm, "extensions")


@bp.post("/<int:request_id>/extensions/<int:extension_id>/refuse")
@policy.access("request.decide_extension")
def refuse_extension(request_id: int, extension_id: int):
    req = _load(request_id)
    extension = _extension(req, extension_id)
    return _act(req, lambda form: services.refuse_extension(current_user, req, extension, form.reason.data),
                _("The extension is refused."), ReasonForm, "extensions")


def _extension(req: Request, extension_id: int):
    try:
        return services.get_extension(req, extension_id)
    except NotFound:
        abort(404)


# --- Follow-up -------------------------------------------------------------------------------------------------

@bp.post("/<int:request_id>/close")
@policy.access("request.close")
def close(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.close(current_user, req), _("The request is closed."))


@bp.post("/<int:request_id>/reopen")
@policy.access("request.close")
def reopen(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.reopen(current_user, req, form.reason.data),
                _("The request is reopened."), ReasonForm)


@bp.post("/<int:request_id>/messages")
@policy.access("request.message")
def post_message(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.post_message(current_user, req, form.body.data),
                _("Your message is sent."), MessageForm, "messages")


@bp.post("/<int:request_id>/notes")
@policy.access("request.note")
def add_note(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.add_note(current_user, req, form.body.data),
                _("The note is added."), NoteForm, "notes")


@bp.post("/<int:request_id>/attachments")
@policy.access("request.attach")
def attach(request_id: int):
    req = _load(request_id)
    form = AttachmentForm()
    upload = form.file.data
    if not form.validate_on_submit() or not upload or not getattr(upload, "filename", ""):
        flash(_("Choose a file."), "error")
        return _detail(req, "attachments")
    try:
        services.add_attachment(current_user, req, upload.stream, upload.filename)
    except DomainError as error:
        return _refused(req, error, "attachments")
    return _done(req, _("The document is attached."), "attachments")


@bp.get("/<int:request_id>/attachments/<int:attachment_id>")
@policy.access("request.view")
def download(request_id: int, attachment_id: int):
    req = _load(request_id)
    try:
        attachment, path = services.open_attachment(current_user, req, attachment_id)
    except NotFound:
        abort(404)
    # Served under the extension of the kind its bytes were found to be, whatever the uploaded name said.
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=files.download_name(attachment.filename, attachment.content_type),
                         etag=False, conditional=False, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
