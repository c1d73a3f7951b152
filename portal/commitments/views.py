"""Pages of compliance commitments. Views parse input, call one service and choose a response; domain
errors are answered by the handlers in portal/errors (the message, and back to the page)."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.commitments import bp, evidence, services
from portal.commitments import registry as signatory_registry
from portal.commitments.forms import (
    CommitmentForm,
    CountersignForm,
    RenewForm,
    SignForm,
    TemplateForm,
    WithdrawForm,
)
from portal.core import policy
from portal.core.exceptions import ValidationError
from portal.core.policy import access
from portal.extensions import db
from portal.i18n import current_language

ID = "<int(max=2147483647):commitment_id>"


def _invalid(form) -> ValidationError:
    field, errors = next(iter(form.errors.items()))
    label = getattr(getattr(form, field, None), "label", None)
    return ValidationError(field, f"{label.text}: {' '.join(map(str, errors))}" if label else errors[0])


def _back(commitment, message: str | None = None):
    if message:
        flash(message, "success")
    return redirect(url_for("commitments.detail", commitment_id=commitment.id), code=303)


def _organisations(kind: str):
    return [(o.code, o.name(current_language())) for o in db.session.scalars(
        select(Organisation).where(Organisation.kind == kind, Organisation.active.is_(True))
        .order_by(Organisation.code))]


@bp.get("/commitments/")
@access("commitment.view")
def index():
    commitments = db.session.scalars(services.visible(current_user).limit(200)).all()
    templates = services.templates_latest() if policy.can(current_user, "commitment.create") else []
    return render_template("commitments/list.html", commitments=commitments, templates=templates,
                           can_create=policy.can(current_user, "commitment.create"),
                           can_manage_templates=policy.can(current_user, "commitment_template.manage"))


@bp.route("/commitments/templates/new", methods=["GET", "POST"])
@access("commitment_template.manage")
def new_template():
    source = None
    if request.args.get("from", "").isdigit():
        source = services.get_template(int(request.args["from"]))
    form = TemplateForm(obj=source)
    if form.validate_on_submit():
        fields = dict(title_ko=form.title_ko.data, title_en=form.title_en.data, body_ko=form.body_ko.data,
                      body_en=form.body_en.data)
        template = (services.revise_template(current_user, source, **fields) if source is not None
                    else services.create_template(current_user, **fields))
        flash(_("Template %(code)s version %(version)d was saved.", code=template.code, version=template.version),
              "success")
        return redirect(url_for("commitments.index"), code=303)
    if form.is_submitted() and form.errors:
        raise _invalid(form)
    return render_template("commitments/template_form.html", form=form, source=source,
                           placeholders=services.text.PLACEHOLDERS)


@bp.route("/commitments/new", methods=["GET", "POST"])
@access("commitment.create")
def new():
    form = CommitmentForm()
    form.template.choices = [(t.id, f"{t.title(current_language())} (v{t.version})")
                             for t in services.templates_latest()]
    form.platform.choices = _organisations("platform")
    agencies = _organisations("agency")
    if current_user.role == "regulator_supervisor":
        agencies = [a for a in agencies if a[0] == current_user.organisation.code]
    form.countersigning_agency.choices = agencies
    if form.validate_on_submit():
        commitment = services.create(current_user, template_id=form.template.data, platform_code=form.platform.data,
                                     agency_code=form.countersigning_agency.data,
                                     effective_from=form.effective_from.data, valid_until=form.valid_until.data)
        return _back(commitment, _("The commitment was created as a draft. Send it for signature next."))
    if form.is_submitted() and form.errors:
        raise _invalid(form)
    return render_template("commitments/form.html", form=form)


@bp.get(f"/commitments/{ID}")
@access("commitment.view")
def detail(commitment_id: int):
    commitment = services.get(current_user, commitment_id)
    services.record_viewed(current_user, commitment)
    language = current_language()
    may_renew = services.may_renew(current_user, commitment)
    renew_form = None
    if may_renew:
        start, end = services.renewal_term(commitment)
        renew_form = RenewForm(prefix="renew", data={"effective_from": start, "valid_until": end})
    return render_template(
        "commitments/detail.html", commitment=commitment,
        may_sign=services.may_sign(current_user, commitment),
        may_countersign=services.may_countersign(current_user, commitment),
        may_send=policy.can(current_user, "commitment.create") and (
            current_user.role == "secretariat" or current_user.organisation_id == commitment.agency_id),
        may_withdraw=policy.can(current_user, "commitment.withdraw", commitment)
        and current_user.organisation_id == commitment.agency_id,
        consent=services.consent_text(commitment, language),
        sign_form=SignForm(prefix="sign", data={"document_sha256": commitment.document_sha256}),
        countersign_form=CountersignForm(prefix="countersign", data={"document_sha256": commitment.document_sha256}),
        withdraw_form=WithdrawForm(prefix="withdraw"), may_renew=may_renew, renew_form=renew_form)


@bp.post(f"/commitments/{ID}/send")
@access("commitment.create")
def send(commitment_id: int):
    commitment = services.get(current_user, commitment_id)
    services.send_for_signature(current_user, commitment)
    return _back(commitment, _("The commitment was sent to the platform for signature."))


@bp.post(f"/commitments/{ID}/sign")
@access("commitment.sign")
def sign(commitment_id: int):
    commitment = services.get(current_user, commitment_id)
    form = SignForm(prefix="sign")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.sign(current_user, commitment, name=form.name.data, title=form.title.data,
                  consent=bool(form.consent.data), code=form.code.data, language=current_language(),
                  document_sha256=form.document_sha256.data)
    return _back(commitment, _("You signed the commitment. The agency countersigns it next."))


@bp.post(f"/commitments/{ID}/countersign")
@access("commitment.countersign")
def countersign(commitment_id: int):
    commitment = services.get(current_user, commitment_id)
    form = CountersignForm(prefix="countersign")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.countersign(current_user, commitment, code=form.code.data, language=current_language(),
                         document_sha256=form.document_sha256.data)
    return _back(commitment, _("The commitment is countersigned and in force."))


@bp.post(f"/commitments/{ID}/withdraw")
@access("commitment.withdraw")
def withdraw(commitment_id: int):
    commitment = services.get(current_user, commitment_id)
    form = WithdrawForm(prefix="withdraw")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.withdraw(current_user, commitment, form.reason.data)
    return _back(commitment, _("The commitment was withdrawn."))


@bp.post(f"/commitments/{ID}/renew")
@access("commitment.create")
def renew(commitment_id: int):
    commitment = services.get(current_user, commitment_id)
    form = RenewForm(prefix="renew")
    if not form.validate_on_submit():
        raise _invalid(form)
    renewal = services.renew(current_user, commitment, effective_from=form.effective_from.data,
                             valid_until=form.valid_until.data)
    return _back(renewal, _("The renewal was created as a draft from the newest version of the template. "
                            "Send it for signature next."))


@bp.get(f"/commitments/{ID}/evidence")
@access("commitment.view")
def evidence_pack(commitment_id: int):
    commitment = services.get(current_user, commitment_id)
    return Response(evidence.evidence_pack(commitment), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{commitment.reference}-evidence.zip"'})


@bp.get("/commitments/signatories")
@access("signatory.manage")
def signatories():
    users = db.session.scalars(select(User).where(User.organisation_id == current_user.organisation_id)
                               .order_by(User.name)).all()
    return render_template("commitments/signatories.html", users=users)


@bp.post("/commitments/signatories/<int(max=2147483647):user_id>")
@access("signatory.manage")
def set_signatory(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or user.organisation_id != current_user.organisation_id:
        from portal.core.exceptions import NotFound

        raise NotFound(_("User not found."))
    services.set_signatory(current_user, user, request.form.get("authorised") == "1")
    flash(_("Saved."), "success")
    return redirect(url_for("commitments.signatories"), code=303)


@bp.get("/registry")
@access(policy.PUBLIC)
def registry():
    return render_template("commitments/registry.html", entries=signatory_registry.entries())
