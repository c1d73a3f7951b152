"""Pages of webhooks: a platform administrator's endpoints, their delivery log and test pings.

Views parse input, call one service, commit once, choose a response. An endpoint is loaded through
`services.get_endpoint`, so another organisation's endpoint answers 404 on every route that names it.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import User
from portal.admin.forms import outbox_status_name
from portal.core import policy, transaction
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import refuse
from portal.extensions import db
from portal.webhooks import bp, services
from portal.webhooks.forms import ButtonForm, EndpointForm, event_name
from portal.webhooks.models import WebhookEndpoint


@bp.context_processor
def _helpers():
    return {"event_name": event_name, "delivery_status": outbox_status_name}


def _actor() -> User:
    return current_user._get_current_object()


def _load(endpoint_id: int) -> WebhookEndpoint:
    try:
        return services.get_endpoint(_actor(), endpoint_id)
    except NotFound:
        abort(404)


@bp.route("/", methods=["GET", "POST"])
@policy.access("webhook.manage")
def index():
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint, secret = services.register_endpoint(_actor(), form.url.data, form.events.data)
        except DomainError as error:
            refuse(form, error)
        else:
            # The secret is on this page only; no other page shows it again.
            return render_template("webhooks/created.html", endpoint=endpoint, secret=secret)
    return render_template("webhooks/index.html", form=form, endpoints=services.endpoints_of(_actor()))


@bp.get("/<int:endpoint_id>")
@policy.access("webhook.manage")
def detail(endpoint_id: int):
    endpoint = _load(endpoint_id)
    return render_template("webhooks/detail.html", endpoint=endpoint,
                           deliveries=services.deliveries(_actor(), endpoint),
                           pending=services.pending_count(endpoint), limit=services.DELIVERIES_SHOWN)


@bp.post("/<int:endpoint_id>/ping")
@policy.access("webhook.manage")
def ping(endpoint_id: int):
    return _act(endpoint_id, services.send_test_ping,
                _("A test ping is queued. The outbox worker sends it shortly; its answer appears in the "
                  "delivery log below."))


@bp.post("/<int:endpoint_id>/disable")
@policy.access("webhook.manage")
def disable(endpoint_id: int):
    return _act(endpoint_id, lambda by, endpoint: services.set_endpoint_active(by, endpoint, False),
                _("The endpoint is disabled: nothing more is sent to it."))


@bp.post("/<int:endpoint_id>/enable")
@policy.access("webhook.manage")
def enable(endpoint_id: int):
    return _act(endpoint_id, lambda by, endpoint: services.set_endpoint_active(by, endpoint, True),
                _("The endpoint is enabled again."))


@bp.post("/<int:endpoint_id>/delete")
@policy.access("webhook.manage")
def delete(endpoint_id: int):
    return _act(endpoint_id, services.delete_endpoint, _("The endpoint and its secret are deleted."),
                back=url_for("webhooks.index"))


def _act(endpoint_id: int, action, message: str, back: str | None = None):
    """Run a change posted by a button, then back to the endpoint (or to `back`)."""
    endpoint = _load(endpoint_id)
    back = back or url_for("webhooks.detail", endpoint_id=endpoint.id)
    if not ButtonForm().validate_on_submit():
        flash(_("Please try again."), "error")
        return redirect(url_for("webhooks.detail", endpoint_id=endpoint.id))
    try:
        action(_actor(), endpoint)
    except DomainError as error:
        transaction.discard()
        flash(str(error.message), "error")
        return redirect(url_for("webhooks.detail", endpoint_id=endpoint.id))
    flash(message, "success")
    return redirect(back)
