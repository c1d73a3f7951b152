"""The requests' settings (administrators): legal bases and deadline policies."""
from __future__ import annotations


from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core import policy, transaction
from portal.core.exceptions import DomainError, NotFound
from portal.requests import bp, services
from portal.requests.forms import ButtonForm


# --- Settings (administrators) -------------------------------------------------------------------------------

@bp.get("/settings")
@policy.access("legal_basis.manage")
def settings():
    from portal.requests.forms import LegalBasisForm

    return render_template("requests/settings.html", bases=services.legal_bases(include_inactive=True),
                           basis_form=LegalBasisForm(), policies=services.deadline_policies(),
                           can_set_deadlines=policy.can(current_user, "deadline_policy.manage"))


@bp.post("/settings/legal-bases")
@policy.access("legal_basis.manage")
def add_legal_basis():
    from portal.requests.forms import LegalBasisForm

    form = LegalBasisForm()
    if form.validate_on_submit():
        try:
            services.add_legal_basis(current_user, form.code.data, form.name_ko.data, form.name_en.data)
        except DomainError as error:
            transaction.discard()
            flash(str(error.message), "error")
        else:
            flash(_("The legal basis is added."), "success")
    else:
        flash(_("Give a code and both names."), "error")
    return redirect(url_for("requests.settings"))


@bp.post("/settings/legal-bases/<int:basis_id>/active")
@policy.access("legal_basis.manage")
def set_legal_basis_active(basis_id: int):
    if ButtonForm().validate_on_submit():
        try:
            services.set_legal_basis_active(current_user, basis_id, request.form.get("active") == "1")
        except NotFound:
            abort(404)
        flash(_("The legal basis is updated."), "success")
    return redirect(url_for("requests.settings"))


@bp.post("/settings/deadlines")
@policy.access("deadline_policy.manage")
def set_deadline_policy():
    if not ButtonForm().validate_on_submit():
        return redirect(url_for("requests.settings"))
    amount = request.form.get("amount", "")
    unit = request.form.get("unit")
    try:
        value = int(amount)
        services.set_deadline_policy(current_user, request.form.get("request_type", ""), request.form.get("priority", ""),
                                     hours=value if unit == "hours" else None,
                                     working_days=value if unit == "working_days" else None)
    except ValueError:
        flash(_("Give a whole number."), "error")
    except DomainError as error:
        transaction.discard()
        flash(str(error.message), "error")
    else:
        flash(_("The deadline policy is saved. Requests already issued keep their deadline."), "success")
    return redirect(url_for("requests.settings"))
