"""Administration pages: organisations, users and invitations, designated contacts, the audit log, the outbox.

Views parse input, call one service, commit once, choose a response. A user, invitation or designated
contact is loaded through `services.get_scoped`, so one of another organisation answers 404 on every route
that names it.
"""
from __future__ import annotations

import csv
import io

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import services as accounts
from portal.accounts.forms import ConfirmForm
from portal.accounts.labels import role_name
from portal.accounts.models import DesignatedContact, Invitation, Organisation, User
from portal.admin import bp, services
from portal.admin.forms import (
    AuditFilterForm,
    ContactFilterForm,
    ContactForm,
    InviteForm,
    NewContactForm,
    OrganisationForm,
    OutboxFilterForm,
    RoleForm,
    UserFilterForm,
    outbox_status_name,
)
from portal.admin.labels import TEMPLATE_HELPERS
from portal.core import input as reader
from portal.core import audit, clock, policy
from portal.core.exceptions import DomainError
from portal.core.forms import refuse
from portal.core.outbox import STATUSES, OutboxMessage
from portal.extensions import db
from portal.i18n import current_language


@bp.context_processor
def _helpers():
    return {
        "can": lambda permission, obj=None: policy.can(current_user, permission, obj),
        "outbox_status_name": outbox_status_name,
        **TEMPLATE_HELPERS,
    }


def _actor() -> User:
    return current_user._get_current_object()


def _organisation_choices(permission: str, everything: str | None = None, kind: str | None = None) -> list[tuple]:
    language = current_language()
    choices = [(o.id, f"{o.code} · {o.name(language)}")
               for o in services.organisations_for(_actor(), permission, kind)]
    return ([("", everything)] if everything else []) + choices


# --- Organisations ----------------------------------------------------------------------------------------

@bp.get("/organisations")
@policy.access("organisation.view")
def organisations():
    return render_template("admin/organisations.html", rows=services.list_organisations(_actor()))


@bp.route("/organisations/new", methods=["GET", "POST"])
@policy.access("organisation.manage")
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = accounts.create_organisation(
                _actor(), code=form.code.data, kind=form.kind.data, name_ko=form.name_ko.data,
                name_en=form.name_en.data, country=form.country.data, timezone=form.timezone.data)
        except DomainError as error:
            refuse(form, error)
        else:
            flash(_("The organisation %(code)s has been created.", code=organisation.code), "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form)


# --- Users and invitations ------------------------------------------------------------------------------------

@bp.get("/users")
@policy.access("user.view")
def users():
    form = UserFilterForm(request.args)
    form.organisation.choices = _organisation_choices("user.view", _("All"))
    filters = services.UserFilters(
        organisation_id=form.organisation.data,
        role=form.role.data if form.role.data in policy.ROLES else None,
        active={"yes": True, "no": False}.get(form.active.data),
        search=(form.q.data or "").strip()[:254] or None,
    )
    page = services.list_users(_actor(), filters, reader.arg_integer("page", 1))
    invitations = services.open_invitations(_actor()) if policy.can(current_user, "user.invite") else []
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("admin/users.html", form=form, page=page, invitations=invitations, args=args)


def _user_or_404(user_id: int, permission: str) -> User:
    user = services.get_scoped(_actor(), User, user_id, permission)
    if user is None:
        abort(404)
    return user


def _role_form(subject: User, formdata=None) -> RoleForm:
    form = RoleForm(formdata=formdata) if formdata is not None else RoleForm(formdata=None, role=subject.role)
    form.role.choices = [(role, role_name(role))
                         for role in services.assignable_roles(_actor(), subject.organisation)]
    return form


def _user_page(subject: User, *, refused: ConfirmForm | None = None, role_form: RoleForm | None = None):
    return render_template(
        "admin/user.html", subject=subject, refused=refused, role_form=role_form or _role_form(subject),
        open_sessions=len(accounts.open_sessions(subject)),
    )


@bp.get("/users/<int:user_id>")
@policy.access("user.view")
def user(user_id: int):
    return _user_page(_user_or_404(user_id, "user.view"))


def _act_on_user(user_id: int, permission: str, action, done: str):
    """A button on the user page: POST with CSRF, one service call, back to the page."""
    subject = _user_or_404(user_id, permission)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.user", user_id=user_id))
    try:
        action(_actor(), subject)
    except DomainError as error:
        refuse(form, error)
        return _user_page(subject, refused=form)
    flash(done, "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/deactivate")
@policy.access("user.deactivate")
def deactivate_user(user_id: int):
    return _act_on_user(user_id, "user.deactivate", accounts.deactivate_user,
                        _("The account has been deactivated and its sessions ended."))


@bp.post("/users/<int:user_id>/reactivate")
@policy.access("user.deactivate")
def reactivate_user(user_id: int):
    return _act_on_user(user_id, "user.deactivate", accounts.reactivate_user,
                        _("The account has been reactivated."))


@bp.post("/users/<int:user_id>/reset-2fa")
@policy.access("user.reset_2fa")
def reset_two_factor(user_id: int):
    return _act_on_user(user_id, "user.reset_2fa", accounts.reset_two_factor,
                        _("Two-factor authentication has been reset. The person sets it up again at their "
                          "next login."))


@bp.post("/users/<int:user_id>/role")
@policy.access("user.deactivate")  # the permission change_role itself asks for
def change_role(user_id: int):
    subject = _user_or_404(user_id, "user.deactivate")
    form = _role_form(subject, formdata=request.form)
    if form.validate_on_submit():
        try:
            accounts.change_role(_actor(), subject, form.role.data)
        except DomainError as error:
            refuse(form, error)
        else:
            flash(_("The role is now %(role)s. The person's sessions have been ended.",
                    role=role_name(subject.role)), "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return _user_page(subject, role_form=form)


@bp.route("/users/invite", methods=["GET", "POST"])
@policy.access("user.invite")
def invite():
    form = InviteForm()
    form.organisation.choices = _organisation_choices("user.invite")
    form.role.choices = [(role, role_name(role)) for role in services.assignable_roles(_actor())]
    if not form.is_submitted() and len(form.organisation.choices) == 1:
        form.organisation.data = form.organisation.choices[0][0]
    if form.validate_on_submit():
        try:
            invitation = accounts.invite(
                _actor(), email=form.email.data, name=form.name.data, role=form.role.data,
                organisation=db.session.get(Organisation, form.organisation.data), language=form.language.data)
        except DomainError as error:
            refuse(form, error)
        else:
            flash(_("An invitation has been sent to %(email)s.", email=invitation.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/invite.html", form=form)


@bp.post("/invitations/<int:invitation_id>/revoke")
@policy.access("user.invite")
def revoke_invitation(invitation_id: int):
    invitation = services.get_scoped(_actor(), Invitation, invitation_id, "user.invite")
    if invitation is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.revoke_invitation(_actor(), invitation)
        except DomainError as error:
            refuse(form, error)
            flash(" ".join(form.form_errors), "error")
        else:
            flash(_("The invitation to %(email)s has been withdrawn.", email=invitation.email), "success")
    return redirect(url_for("admin.users"))


# --- Designated contacts ----------------------------------------------------------------------------------------

@bp.get("/contacts")
@policy.access("contact.manage")
def contacts():
    form = ContactFilterForm(request.args)
    form.organisation.choices = _organisation_choices("contact.manage", _("All"), kind="platform")
    return render_template("admin/contacts.html", form=form,
                           contacts=services.list_contacts(_actor(), form.organisation.data))


def _contact_fields(form: ContactForm) -> dict:
    return {"name": form.name.data, "email": form.email.data, "language": form.language.data,
            "timezone": form.timezone.data, "notes": form.notes.data or ""}


@bp.route("/contacts/new", methods=["GET", "POST"])
@policy.access("contact.manage")
def new_contact():
    form = NewContactForm()
    form.organisation.choices = _organisation_choices("contact.manage", kind="platform")
    if not form.is_submitted():  # the platform the list was filtered by, or the only one there is
        offered = [value for value, _label in form.organisation.choices]
        asked = reader.arg_integer("organisation")
        if asked in offered or len(offered) == 1:
            form.organisation.data = asked if asked in offered else offered[0]
    if form.validate_on_submit():
        try:
            added = accounts.add_contact(_actor(), db.session.get(Organisation, form.organisation.data),
                                         **_contact_fields(form))
        except DomainError as error:
            refuse(form, error)
        else:
            flash(_("%(name)s is now a designated contact.", name=added.name), "success")
            return redirect(url_for("admin.contacts"))
    return render_template("admin/contact_form.html", form=form, contact=None)


def _contact_or_404(contact_id: int) -> DesignatedContact:
    contact = services.get_scoped(_actor(), DesignatedContact, contact_id, "contact.manage")
    if contact is None:
        abort(404)
    return contact


@bp.route("/contacts/<int:contact_id>", methods=["GET", "POST"])
@policy.access("contact.manage")
def contact(contact_id: int):
    subject = _contact_or_404(contact_id)
    form = ContactForm(obj=subject)
    if form.validate_on_submit():
        try:
            changed = accounts.update_contact(_actor(), subject, **_contact_fields(form))
        except DomainError as error:
            refuse(form, error)
        else:
            flash(_("The contact has been saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("admin.contacts"))
    return render_template("admin/contact_form.html", form=form, contact=subject)


def _set_contact_active(contact_id: int, active: bool, done: str):
    subject = _contact_or_404(contact_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.set_contact_active(_actor(), subject, active)
        except DomainError as error:
            refuse(form, error)
            flash(" ".join(form.form_errors), "error")
        else:
            flash(done, "success")
    return redirect(url_for("admin.contacts"))


@bp.post("/contacts/<int:contact_id>/deactivate")
@policy.access("contact.manage")
def deactivate_contact(contact_id: int):
    return _set_contact_active(contact_id, False,
                               _("The contact has been deactivated: escalations no longer go to it."))


@bp.post("/contacts/<int:contact_id>/reactivate")
@policy.access("contact.manage")
def reactivate_contact(contact_id: int):
    return _set_contact_active(contact_id, True, _("The contact has been reactivated."))


# --- Audit log -----------------------------------------------------------------------------------------------

def _audit_filters() -> tuple[AuditFilterForm, services.AuditFilters | None]:
    """The filters of the query string; None when one of them does not parse (its field says why)."""
    form = AuditFilterForm(request.args)
    form.organisation.choices = _organisation_choices("audit.view", _("All"))
    if not form.validate():
        return form, None
    if form.date_from.data and form.date_to.data and form.date_from.data > form.date_to.data:
        form.date_to.errors = [_("The end of the period is before its start.")]
        return form, None
    return form, services.AuditFilters(
        actor_email=(form.actor.data or "").strip() or None, organisation_id=form.organisation.data,
        action=(form.action.data or "").strip() or None, date_from=form.date_from.data,
        date_to=form.date_to.data)


@bp.get("/audit")
@policy.access("audit.view")
def audit_log():
    form, filters = _audit_filters()
    before, after = reader.arg_integer("before"), reader.arg_integer("after")
    if after is not None:
        before = None  # one direction at a time
    page = services.audit_page(_actor(), filters, before, after=after) if filters else None
    if filters:
        details = {"filters": filters.as_details()}
        details.update({key: value for key, value in (("before", before), ("after", after)) if value is not None})
        audit.record("audit.viewed", details=details)
    args = {key: value for key, value in request.args.items() if key not in ("before", "after") and value}
    return render_template("admin/audit.html", form=form, page=page, args=args,
                           first_page=before is None and after is None,
                           max_rows=current_app.config["AUDIT_CSV_MAX_ROWS"])


def _csv_lines(records) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(records)
    return buffer.getvalue()


@bp.get("/audit.csv")
@policy.access("audit.view")
def audit_csv():
    form, filters = _audit_filters()
    if filters is None:
        return redirect(url_for("admin.audit_log", **request.args))
    max_rows, actor_id = int(current_app.config["AUDIT_CSV_MAX_ROWS"]), current_user.id
    audit.record("audit.exported", details={"filters": filters.as_details(), "max_rows": max_rows})

    app = current_app._get_current_object()

    def lines():
        yield "\ufeff" + _csv_lines([services.AUDIT_CSV_COLUMNS])  # the BOM: Excel in Korea reads UTF-8
        before, left = None, max_rows
        while left > 0:
            # Each batch in an app context of its own: nothing stays pushed, and no transaction stays open
            # (on SQLite: the write lock), while the client reads.
            with app.app_context():
                page = services.audit_page(db.session.get(User, actor_id), filters, before,
                                           min(services.CSV_BATCH, left))
            yield _csv_lines(services.audit_csv_record(row) for row in page.items)
            left -= len(page.items)
            if page.next_key is None:
                break
            before = page.next_key

    filename = f"audit-{clock.now().astimezone(clock.KST):%Y%m%d-%H%M%S}.csv"
    return Response(lines(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


# --- Outbox ---------------------------------------------------------------------------------------------------

@bp.get("/outbox")
@policy.access("outbox.view")
def outbox():
    form = OutboxFilterForm(request.args)
    status = form.status.data if form.status.data in STATUSES else None
    page = services.outbox_page(_actor(), status, reader.arg_integer("before"))
    args = {key: value for key, value in request.args.items() if key != "before" and value}
    return render_template("admin/outbox.html", form=form, page=page, args=args,
                           first_page=request.args.get("before") is not None)


@bp.get("/outbox/<int:message_id>")
@policy.access("outbox.view")
def outbox_message(message_id: int):
    message = services.get_scoped(_actor(), OutboxMessage, message_id, "outbox.view")
    if message is None:
        abort(404)
    # The body may hold a single-use link (an invitation, a password reset): reading it is recorded.
    audit.record("outbox.viewed", message)
    return render_template("admin/outbox_message.html", message=message)
