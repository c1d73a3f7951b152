"""Pages of formal requests. Views parse input, call one service, commit once, choose a response.

Every route that names a request loads it through `services.get_request`, so another organisation's
request (and its items, files and extensions) answers 404. Reported addresses never travel in a URL:
searching by address is a POST that redirects with the address's hash.
"""
from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from portal.core import input as reader
from portal.core import clock, policy, transaction
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import refuse
from portal.extensions import db
from portal.requests import attachments as files
from portal.requests import bp, notices, services, urls
from portal.requests.forms import (
    AttachmentForm,
    ButtonForm,
    DraftForm,
    ExtensionForm,
    FilterForm,
    GrantForm,
    ItemsForm,
    MessageForm,
    NoteForm,
    OutcomeForm,
    ReasonForm,
    SearchForm,
)
from portal.requests.models import UNISSUED, Request, RequestItem

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
        flash(_("Give a reason.") if "reason" in form else _("Please try again."), "error")
        return _detail(req, anchor)
    try:
        action(form)
    except DomainError as error:
        return _refused(req, error, anchor)
    return _done(req, message, anchor)


# --- Lists -----------------------------------------------------------------------------------------------

@bp.get("/")
@policy.access("request.view")
def index():
    form = FilterForm(request.args)
    filters = services.Filters(
        status=form.status.data if form.status.data in dict(form.status.choices) else "open",
        request_type=request.args.get("request_type") or None,
        priority=request.args.get("priority") or None,
        category=request.args.get("category") or None,
        overdue=bool(request.args.get("overdue")),
        unread=bool(request.args.get("unread")),
        url_hash=tuple(h for h in request.args.getlist("url")[:8] if re.fullmatch(r"[0-9a-f]{64}", h)) or None,
        reference=request.args.get("ref") if REFERENCE.match(request.args.get("ref", "")) else None,
        text=(request.args.get("q") or "").strip()[:2000] or None,
    )
    if filters.url_hash or filters.reference or filters.text:
        filters.status = request.args.get("status") or "all"
    try:
        page = services.list_requests(current_user, filters, after=reader.arg_keyset("after"))
    except DomainError:
        abort(404)
    unissued = services.unissued_requests(current_user) if policy.can(current_user, "request.draft") else []
    args = {k: v for k, v in request.args.items() if k != "after"}
    return render_template("requests/list.html", page=page, filters=filters, form=form,
                           search_form=SearchForm(), unissued=unissued, now=clock.now(),
                           first_page_args=args if request.args.get("after") else None,
                           next_page_args={**args, "after": page.next_after})


@bp.post("/search")
@policy.access("request.view")
def search():
    form = SearchForm()
    if not form.validate_on_submit():
        flash(_("Enter a reference or an address."), "error")
        return redirect(url_for("requests.index"))
    text = form.q.data.strip()
    if REFERENCE.match(text.upper()):
        return redirect(url_for("requests.index", ref=text.upper(), status="all"))
    try:
        normalised = urls.normalise_url(text)
    except urls.InvalidURL:
        # An address pasted without its scheme goes by its hashes (addresses stay out of URLs and logs);
        # anything else is a reference fragment, a hash or summary words.
        hashes = services.address_hashes(text) if "." in text and not any(c.isspace() for c in text) else set()
        if hashes and "/" in text:
            return redirect(url_for("requests.index", url=sorted(hashes), status="all"))
        return redirect(url_for("requests.index", q=text, status="all"))
    return redirect(url_for("requests.index", url=urls.url_hash(normalised), status="all"))


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
                said = [ngettext("%(num)d item added.", "%(num)d items added.", added.added)]
                if added.merged:  # "0 duplicates merged" says nothing
                    said.append(ngettext("%(num)d duplicate merged.", "%(num)d duplicates merged.", added.merged))
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
    return _done(req, ngettext("Outcome recorded for %(num)d item.", "Outcome recorded for %(num)d items.", count), "items")


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


# --- The request page ---------------------------------------------------------------------------------------

@bp.get("/<int:request_id>")
@policy.access("request.view")
def detail(request_id: int):
    req = _load(request_id)
    # Record the view first: committing later would expire (and reload one by one) the loaded items.
    services.record_view(current_user, req)
    thread = services.messages(req)
    services.mark_read(current_user, req, thread)  # after the page, with the view's audit row
    return _show(req, thread=thread)


def _show(req: Request, *, outcome_form: OutcomeForm | None = None, selected: frozenset = frozenset(),
          scope: str | None = None, thread: list | None = None):
    """The request page; after a refused outcome, with the items ticked and the outcome chosen kept."""
    after = request.args.get("after", "0")
    after = int(after) if after.isdigit() else 0
    items = services.item_rows(req, after, ITEMS_PER_PAGE + 1)
    more = len(items) > ITEMS_PER_PAGE
    items = items[:ITEMS_PER_PAGE]
    earlier = services.earlier_requests(current_user, req, [i.url_hash for i in items]) if items else {}
    user = current_user
    return render_template(
        "requests/detail.html", req=req, items=items, more=more, after=after, earlier=earlier,
        history=services.history(user, req), notes=services.notes(user, req),
        messages=services.messages(req) if thread is None else thread,
        attachments=services.attachments_of(req), extensions=services.extensions_of(req),
        outcome_counts=services.outcome_counts(req), actions=services.allowed_actions(req),
        documents=notices.documents_of(user, req), **_consultations_of(user, req),
        can=lambda permission: policy.can(user, permission, req), is_agency=user.organisation_id == req.agency_id,
        unissued=req.status in UNISSUED, now=clock.now(),
        authored=req.status in UNISSUED and user.id in services.authors(req),
        selected=selected, scope=scope or "selected",
        button=ButtonForm(), reason_form=ReasonForm(), outcome_form=outcome_form or OutcomeForm(),
        extension_form=ExtensionForm(),
        grant_form=GrantForm(), message_form=MessageForm(), note_form=NoteForm(), attachment_form=AttachmentForm(),
    )


def _consultations_of(user, req: Request) -> dict:
    """The consultations whose agenda holds `req`, and for its agency the form that puts it on a coming
    consultation with its platform (portal/consultations: the route `put_request_on_agenda`)."""
    from portal.consultations import services as consultations
    from portal.consultations.forms import AgendaRequestForm
    from portal.i18n import current_language, moment

    agenda_items = consultations.agenda_items_for_request(req.id)
    form = None
    if (req.status not in UNISSUED and req.is_open and user.organisation_id == req.agency_id
            and policy.can(user, "consultation.organise")):
        present = {item.consultation_id for item in agenda_items}
        coming = [c for c in consultations.coming_with_platform(user, req.platform_id) if c.id not in present]
        if coming:
            form = AgendaRequestForm()
            form.consultation_id.choices = [
                (c.id, c.title(current_language()) + (f" · {moment(c.starts_at)}" if c.starts_at else ""))
                for c in coming]
    return {"agenda_items": agenda_items, "agenda_form": form,
            "can_see_consultation": lambda c: policy.can(user, "consultation.view", c)}


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
