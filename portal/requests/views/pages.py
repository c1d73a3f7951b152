"""The lists of requests, the search, and the request page."""
from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portal.core import clock, policy
from portal.core import input as reader
from portal.core.exceptions import DomainError
from portal.core.memo import Memo
from portal.core.pagination import keyset_page
from portal.requests import bp, listing, notices, services, urls
from portal.requests.forms import (
    FILTER_STATUSES,
    AttachmentForm,
    ButtonForm,
    ExtensionForm,
    FilterForm,
    GrantForm,
    MessageForm,
    NoteForm,
    OutcomeForm,
    ReasonForm,
    SearchForm,
)
from portal.requests.models import UNISSUED, Request
from portal.requests.views.common import ITEMS_PER_PAGE, REFERENCE, _load


# --- Lists -----------------------------------------------------------------------------------------------

@bp.get("/")
@policy.access("request.view")
def index():
    filters = services.Filters(
        status=request.args.get("status") if request.args.get("status") in FILTER_STATUSES else "open",
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
    sort = services.sort_of(request.args.get("sort"))
    try:
        after = services.read_cursor(reader.text(request.args.get("after"), field="after"), sort)
    except DomainError as error:  # a link of another order, or edited by hand: the first page
        flash(str(error.message), "error")
        after = None
    try:
        page = services.list_requests(current_user, filters, after=after, sort=sort, count=True, rows=True)
    except DomainError:
        abort(404)
    unissued = services.unissued_requests(current_user) if policy.can(current_user, "request.draft") else []
    # Every value of a repeated argument: a pasted address is searched by the hashes of its variants (`url`).
    args = {k: v if len(v) > 1 else v[0] for k, v in request.args.lists() if k != "after"}
    viewer = listing.Viewer.current()
    return render_template("requests/list.html", page=page, filters=filters,
                           filter_panel=_filter_panel(viewer.language, filters, sort),
                           rows=listing.rows(page.requests, viewer), unissued=unissued, sort=sort,
                           table_head=_table_head(viewer.language, sort, {k: v for k, v in args.items() if k != "sort"})
                           if page.requests else None,
                           first_page_args=args if after else None,
                           next_page_args={**args, "after": page.next_after})


# The filter panel and the table's head, made once per language and choice: the select lists, the sort
# links and the headings' macros were a fifth of the list page.
_FILTER_PANELS = Memo(512)
_FILTER_FIELDS = ("status", "request_type", "priority", "category", "overdue", "unread")


def _filter_panel(language: str, filters: services.Filters, sort: str) -> Markup:
    """The panel shows the filters in use (`filters`) and the form's fields as asked (`request.args`)."""
    asked = tuple(request.args.get(name) for name in _FILTER_FIELDS)
    key = (language, request.script_root, sort, filters.status, filters.request_type,
           filters.priority, filters.category, filters.overdue, filters.unread, asked)
    return _FILTER_PANELS.get(key, lambda: Markup(render_template(
        "requests/_filter_panel.html", filters=filters, sort=sort, form=FilterForm(request.args))))


_TABLE_HEADS = Memo(512)


def _table_head(language: str, sort: str, args: dict) -> Markup:
    """The sort links and the table's head (its columns name the other side), once per language and order."""
    kind = current_user.organisation.kind
    key = (language, request.script_root, kind, sort,
           tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in args.items())))
    return _TABLE_HEADS.get(key, lambda: Markup(render_template(
        "requests/_table_head.html", sort=sort, kind=kind, sort_links=_sort_links(sort, args))))


def _sort_links(sort: str, args: dict) -> dict[str, str]:
    """The address each column's heading (and its phone link) sorts by: once, though the page links it twice."""
    return {column: url_for("requests.index", sort=services.next_sort(column, sort), **args)
            for column in ("deadline", "issued", "reference", "status")}


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
    page = keyset_page(services.item_rows(req, after, ITEMS_PER_PAGE + 1), ITEMS_PER_PAGE,
                       key=lambda row: row.position)
    items, more = page.items, page.more
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
    from portal.i18n import current_language, meeting

    agenda_items = consultations.agenda_items_for_request(req.id)
    form = None
    if (req.status not in UNISSUED and req.is_open and user.organisation_id == req.agency_id
            and policy.can(user, "consultation.organise")):
        present = {item.consultation_id for item in agenda_items}
        coming = [c for c in consultations.coming_with_platform(user, req.platform_id) if c.id not in present]
        if coming:
            form = AgendaRequestForm()
            form.consultation_id.choices = [
                (c.id, c.title(current_language()) + (f" · {meeting(c.starts_at)}" if c.starts_at else ""))
                for c in coming]
    return {"agenda_items": agenda_items, "agenda_form": form,
            "can_see_consultation": lambda c: policy.can(user, "consultation.view", c)}
