"""Web pages of the API: own tokens (made, listed, revoked), the administrators' list, the documentation."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.api import pages_bp as bp
from portal.api import tokens
from portal.api.forms import SCOPE_LABELS, ConfirmForm, TokenForm
from portal.core import policy
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import refuse
from portal.extensions import db


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@policy.access("account.manage_own")
def tokens_page():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, text = tokens.create_token(current_user, form.name.data, form.scopes.data, form.valid_days.data)
        except DomainError as error:
            refuse(form, error)
        else:
            # Shown this once; only its hash is kept.
            return render_template("api/token_created.html", token=token, text=text)
    return render_template("api/tokens.html", form=form, tokens=tokens.tokens_of(current_user),
                           confirm=ConfirmForm(), scope_labels=dict(SCOPE_LABELS))


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@policy.access("account.manage_own")
def revoke_own(token_id: int):
    return _revoke(token_id, "api_pages.tokens_page")


@bp.get("/admin/api-tokens")
@policy.access("api_token.revoke_any")
def admin_tokens():
    return render_template("api/admin_tokens.html", tokens=tokens.tokens_for_admin(current_user),
                           confirm=ConfirmForm())


@bp.post("/admin/api-tokens/<int:token_id>/revoke")
@policy.access("api_token.revoke_any")
def admin_revoke(token_id: int):
    return _revoke(token_id, "api_pages.admin_tokens")


def _revoke(token_id: int, back: str):
    if ConfirmForm().validate_on_submit():
        try:
            tokens.revoke_token(current_user, token_id)
        except NotFound:
            abort(404)
        flash(_("The token is revoked; it no longer works."), "success")
    return redirect(url_for(back))
