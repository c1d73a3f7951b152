"""The request list's rows and the deadline cell, written in one pass.

A list page shows fifty requests, each with a date, a deadline in two zones, a countdown and four translated
names. Through Jinja macros and filters each value looked up the language, the zone and the catalogue again
through Flask's context proxies, and the rows were most of the page's time (issue 15). Here the page looks
them up once (`Viewer`) and each row is one string, of which the cells that do not change with time are
kept per row as read (`_CELLS`): only the lateness and the countdown are made for each page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from flask import url_for
from flask_babel import get_translations
from markupsafe import Markup, escape

from portal import i18n
from portal.core import clock
from portal.core.bilingual import pick
from portal.core.memo import Memo
from portal.requests import deadlines, labels
from portal.requests.models import lateness


@dataclass(frozen=True)
class Viewer:
    """What a page formats for, looked up once: language, zone, catalogue, the time the page is about."""
    language: str
    zone: str
    translations: object
    now: datetime

    @classmethod
    def current(cls, now: datetime | None = None) -> Viewer:
        return cls(i18n.current_language(), i18n.viewer_zone(), get_translations(), now or clock.now())

    def gettext(self, message: str) -> str:
        return self.translations.ugettext(message)

    @cached_property
    def badges(self) -> dict[str, Markup]:
        """The badge of each lateness, escaped once for the page."""
        return {"very_overdue": Markup('<strong class="portal-badge portal-badge-danger">%s</strong>')
                % self.gettext("Very overdue"),
                "overdue": Markup('<strong class="portal-badge portal-badge-warning">%s</strong>') % self.gettext("Overdue")}


# The CSS class of an open request past its deadline or its very-overdue point.
_LATENESS = {"very_overdue": "is-very-overdue", "overdue": "is-overdue", None: ""}


def deadline_cell(req, viewer: Viewer, explain: bool = True) -> Markup:
    """The deadline in KST and the viewer's zone, its countdown (kept current by portal.js, whose words are
    on <body>) and, with `explain`, the sentence that says how it was computed."""
    if req.deadline is None:
        return Markup("<span>%s</span>") % viewer.gettext("Set when the request is issued")
    stamp = req.deadline.isoformat()
    html = _deadline(req, viewer, _moment(req, viewer, stamp), stamp, lateness(req, viewer.now))
    if explain:
        html += f' <span class="portal-deadline-explained">{escape(deadlines.explanation(req))}</span>'
    return Markup(html)


def _moment(req, viewer: Viewer, stamp: str) -> str:
    """The deadline's <time> (`stamp`: its ISO form), in both zones: the part of the cell that does not change
    as time passes."""
    moment = escape(clock.format_moment(req.deadline, viewer.zone, viewer.language))
    return f'<time datetime="{stamp}">{moment}</time>'


def _deadline(req, viewer: Viewer, moment: str, stamp: str, late: str | None, words=None) -> str:
    """The cell around `moment` as of `viewer.now`: how late, and the countdown of an open request (`words`:
    the catalogue's countdown words, looked up once for a list's rows)."""
    html = [f'<span class="portal-deadline {_LATENESS[late]}">', moment]
    if req.is_open:
        words = words or deadlines.words(viewer.translations)
        html += [f' <span class="portal-countdown" data-deadline="{stamp}">',
                 escape(words.countdown(req.deadline - viewer.now)), "</span>"]
        if late:
            html += [" ", viewer.badges[late]]
    html.append("</span>")
    return "".join(html)


# The cells of a row that do not change with time, for each row as read (a ListedRequest), language and
# zone: when one of its columns changes, it is another key.
_CELLS = Memo(4096)


def rows(requests, viewer: Viewer) -> Markup:
    """The <tr> of each request of a list page (the ListedRequest rows of services.list_requests(rows=True)):
    reference, the other party, type and category, priority, items, status, date of issue and deadline."""
    # The request page's address without its number (the route is /requests/<int:request_id>).
    detail = url_for("requests.detail", request_id=0)[:-1]
    words, now, language, zone = deadlines.words(viewer.translations), viewer.now, viewer.language, viewer.zone
    kept, html = _CELLS.get, []
    for row in requests:
        cells, moment, stamp = kept((row, language, zone, detail), lambda: _cells(row, viewer, detail))
        late = lateness(row, now)
        deadline = (_deadline(row, viewer, moment, stamp, late, words) if row.deadline is not None
                    else deadline_cell(row, viewer, explain=False))
        html.append(f'<tr class="{_LATENESS[late]}">{cells}<td>{deadline}</td></tr>\n')
    return Markup("".join(html))


def _cells(row, viewer: Viewer, detail: str) -> tuple[str, str | None, str | None]:
    """A row's cells up to its deadline's, the deadline's <time> and its ISO form."""
    names = labels.names(viewer.language)  # escaped once
    priority = names.priority.get(row.priority) or escape(row.priority)
    if row.priority == "urgent":
        priority = f"<strong>{priority}</strong>"
    status = names.status.get(row.status) or escape(row.status)
    if row.notice_pending:
        status = f"{status} · {escape(viewer.gettext('Notice being prepared'))}"
    counterpart = escape(pick(viewer.language, row.counterpart_name_ko, row.counterpart_name_en))
    cells = (f'<td><a href="{detail}{row.id}">{escape(row.reference)}</a></td><td>{counterpart}</td>'
             f'<td>{names.type.get(row.request_type) or escape(row.request_type)}<span class="portal-summary">'
             f'{names.category.get(row.category) or escape(row.category or "")}</span></td>'
             f"<td>{priority}</td><td>{i18n.number(row.item_count)}</td><td>{status}</td>"
             f"<td>{escape(clock.format_day(row.issued_at, viewer.language))}</td>")
    if row.deadline is None:
        return cells, None, None
    stamp = row.deadline.isoformat()
    return cells, _moment(row, viewer, stamp), stamp
