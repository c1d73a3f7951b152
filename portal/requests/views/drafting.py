"""Drafting a request (agencies): fields, items, submitting, approving and issuing, withdrawing."""
from __future__ import annotations


from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core import policy, transaction
from portal.core.exceptions import DomainError
from portal.core.forms import refuse
from portal.i18n import ngettext
from portal.requests import bp, services, urls
from portal.requests.forms import (
    ButtonForm,
    DraftForm,
    ItemsForm,
    ReasonForm,
)
from portal.requests.views.common import MAX_CSV_BYTES, _act, _detail, _done, _load, _refused


# --- Drafting ----------------------------------------------------------------------------------------------

def _draft_form(obj=None) -> DraftForm:
    form = DraftForm(obj=obj)
    form.platform_id.choices = [(p.id, f"{p.name(_language())} ({p.code})") for p in services.platforms()]
    form.legal_basis_id.choices = [("", _("Other (describe below)"))] + [
        (b.id, b.name(_language())) for b in services.legal_bases()]
    return form


def _language() -> str:
    from portal.i18n import current_language

    return current_language()


def _draft_fields(form: DraftForm) -> dict:
    return {name: form[name].data for name in ("platform_id", "request_type", "category", "priority",
                                               "legal_basis_id", "legal_basis_text", "summary_ko", "summary_en")}


@bp.route("/new", methods=["GET", "POST"])
@policy.access("request.draft")
def new():
    form = _draft_form()
    if form.validate_on_submit():
        try:
            req = services.create_draft(current_user, **_draft_fields(form))
        except DomainError as error:
            refuse(form, error)
        else:
            flash(_("The draft is saved. Add its items next."), "success")
            return redirect(url_for("requests.add_items", request_id=req.id))
    return render_template("requests/draft_form.html", form=form, req=None)


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
@policy.access("request.draft")
def edit(request_id: int):
    req = _load(request_id, "request.draft")
    form = _draft_form(obj=req)
    if form.validate_on_submit():
        try:
            services.update_draft(current_user, req, **_draft_fields(form))
        except DomainError as error:
            refuse(form, error)
        else:
            return _done(req, _("The draft is saved."))
    return render_template("requests/draft_form.html", form=form, req=req)


@bp.route("/<int:request_id>/items/add", methods=["GET", "POST"])
@policy.access("request.draft")
def add_items(request_id: int):
    req = _load(request_id, "request.draft")
    form = ItemsForm()
    line_errors = []
    if form.validate_on_submit():
        parsed = urls.ParseResult()
        if form.lines.data and form.lines.data.strip():
            parsed = urls.parse_lines(form.lines.data)
        upload = form.csv_file.data
        if upload and getattr(upload, "filename", ""):
            data = upload.read(MAX_CSV_BYTES + 1)
            if len(data) > MAX_CSV_BYTES:
                parsed.errors.append(urls.LineError(0, _("The CSV file is larger than %(mb)d MB.",
                                                         mb=MAX_CSV_BYTES // (1024 * 1024))))
            else:
                parsed = _combine(parsed, urls.parse_csv(data))
        if not parsed.items and not parsed.errors:
            form.form_errors.append(_("Paste addresses or choose a CSV file."))
        else:
            try:
                added = services.add_items(current_user, req, parsed)
            except services.ItemsRefused as error:
                transaction.discard()
                form.form_errors.append(str(error.message))
                line_errors = error.errors
            except DomainError as error:
                refuse(form, error)
            else:
                said = [ngettext("%(num)s item added.", "%(num)s items added.", added.added)]
                if added.merged:  # "0 duplicates merged" says nothing
                    said.append(ngettext("%(num)s duplicate merged.", "%(num)s duplicates merged.", added.merged))
                flash(" ".join(said), "success")
                return _detail(req, "items")
    return render_template("requests/items_form.html", form=form, req=req, line_errors=line_errors)


def _combine(first: urls.ParseResult, second: urls.ParseResult) -> urls.ParseResult:
    # Lines of the CSV are named "CSV line n" by the template: keep the two sources apart.
    combined = urls.ParseResult(list(first.items), list(first.errors), first.duplicates + second.duplicates)
    seen = {item.url_hash for item in combined.items}
    for item in second.items:
        if item.url_hash in seen:
            combined.duplicates += 1
            continue
        seen.add(item.url_hash)
        combined.items.append(item)
    combined.errors += [urls.LineError(e.line, _("CSV: %(message)s", message=e.message)) for e in second.errors]
    return combined


@bp.post("/<int:request_id>/items/remove")
@policy.access("request.draft")
def remove_items(request_id: int):
    req = _load(request_id, "request.draft")
    ids = [int(i) for i in request.form.getlist("item") if i.isdigit()]
    return _act(req, lambda form: services.remove_items(current_user, req, ids), _("The selected items are removed."),
                anchor="items")


@bp.post("/<int:request_id>/delete")
@policy.access("request.draft")
def delete(request_id: int):
    req = _load(request_id, "request.draft")
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            services.delete_draft(current_user, req)
        except DomainError as error:
            return _refused(req, error)
        flash(_("The draft is deleted."), "success")
    return redirect(url_for("requests.index"))


@bp.post("/<int:request_id>/submit")
@policy.access("request.draft")
def submit(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.submit_for_approval(current_user, req),
                _("The request is submitted to a supervisor for approval."))


@bp.post("/<int:request_id>/send-back")
@policy.access("request.approve")
def send_back(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.send_back(current_user, req, form.reason.data),
                _("The request is sent back to its drafter."), ReasonForm)


@bp.post("/<int:request_id>/issue")
@policy.access("request.approve")
def issue(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.issue_request(current_user, req),
                _("The request is approved and issued."))


@bp.post("/<int:request_id>/withdraw")
@policy.access("request.withdraw")
def withdraw(request_id: int):
    req = _load(request_id)
    return _act(req, lambda form: services.withdraw(current_user, req, form.reason.data),
                _("The request is withdrawn."), ReasonForm)
