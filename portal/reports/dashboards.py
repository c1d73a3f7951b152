"""The counts on each role's home page, each one query on an index (see benchmarks/dashboards.py).

Every count is computed from the requests and consultations as they are; nothing is kept on the side.
Minutes, action items and commitments are other domains still being built: their counts join here when
they exist (the template keeps a marked place for them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from portal.core import clock, policy
from portal.extensions import db
from portal.requests.models import (
    AWAITING_APPROVAL,
    DRAFT,
    ISSUED,
    ExtensionRequest,
    Request,
    RequestItem,
)

SOON = timedelta(hours=24)
UPCOMING = 5

LABELS = {
    "my_drafts": _l("My drafts"),
    "sent_back": _l("Sent back to me"),
    "my_awaiting_approval": _l("My requests awaiting approval"),
    "awaiting_my_approval": _l("Awaiting my approval"),
    "extensions_to_decide": _l("Extension requests to decide"),
    "new": _l("New, not yet acknowledged"),
    "due_24h": _l("Due in the next 24 hours"),
    "overdue": _l("Overdue"),
    "needs_information": _l("Needing information"),
    "unread_messages": _l("With unread messages"),
    "upcoming_consultations": _l("Upcoming consultations"),
}


@dataclass
class Count:
    key: str
    value: int
    link: str | None = None

    @property
    def label(self) -> str:
        return str(LABELS[self.key])


@dataclass
class Dashboard:
    counts: list[Count] = field(default_factory=list)
    consultations: list = field(default_factory=list)  # the next ones, soonest first


def _count(query) -> int:
    return int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _side(user):
    """The column that ties requests to the user's organisation."""
    return Request.platform_id if user.organisation.kind == "platform" else Request.agency_id


def _deadline_counts(user, now: datetime) -> list[Count]:
    side = _side(user)
    open_ = select(Request.id).where(side == user.organisation_id, Request.is_open.is_(True))
    return [
        Count("due_24h", _count(open_.where(Request.deadline > now, Request.deadline <= now + SOON)),
              url_for("requests.index")),
        Count("overdue", _count(open_.where(Request.deadline <= now)), url_for("requests.index", overdue="y")),
    ]


def _unread(user) -> Count:
    """Requests with messages from the other side newer than the user's read mark (requests.services.reads)."""
    from portal.requests.services.reads import unread_request_ids

    return Count("unread_messages", _count(unread_request_ids(user)),
                 url_for("requests.index", unread="y", status="all"))


def _officer(user, now: datetime) -> list[Count]:
    mine = select(Request.id).where(Request.agency_id == user.organisation_id, Request.drafted_by_id == user.id)
    return [
        Count("my_drafts", _count(mine.where(Request.status == DRAFT)), url_for("requests.index")),
        # A draft that was submitted once and is a draft again was sent back by a supervisor.
        Count("sent_back", _count(mine.where(Request.status == DRAFT, Request.submitted_at.is_not(None))),
              url_for("requests.index")),
        Count("my_awaiting_approval", _count(mine.where(Request.status == AWAITING_APPROVAL)),
              url_for("requests.index")),
        *_deadline_counts(user, now),
        _unread(user),
    ]


def _supervisor(user, now: datetime) -> list[Count]:
    agency = select(Request.id).where(Request.agency_id == user.organisation_id)
    pending = (select(ExtensionRequest.id).join(Request, Request.id == ExtensionRequest.request_id)
               .where(Request.agency_id == user.organisation_id, Request.is_open.is_(True),
                      ExtensionRequest.status == "pending"))
    return [
        # Four eyes: a supervisor does not approve their own drafts.
        Count("awaiting_my_approval", _count(agency.where(Request.status == AWAITING_APPROVAL,
                                                          Request.drafted_by_id != user.id)),
              url_for("requests.index")),
        Count("extensions_to_decide", _count(pending), url_for("requests.index")),
        *_deadline_counts(user, now),
        _unread(user),  # of the requests they issued: they hear of those messages by e-mail too
    ]


def _platform(user, now: datetime) -> list[Count]:
    own = select(Request.id).where(Request.platform_id == user.organisation_id)
    needing = own.where(Request.is_open.is_(True), exists().where(
        RequestItem.request_id == Request.id, RequestItem.outcome == "needs_information"))
    return [
        Count("new", _count(own.where(Request.status == ISSUED)), url_for("requests.index", status=ISSUED)),
        *_deadline_counts(user, now),
        Count("needs_information", _count(needing), url_for("requests.index", status="responded_partly")),
        _unread(user),
    ]


def _upcoming(user, now: datetime):
    from portal.consultations import services as consultations
    from portal.consultations.models import SCHEDULED, Consultation

    return (consultations.visible(user).where(Consultation.status == SCHEDULED, Consultation.starts_at >= now)
            .order_by(None).order_by(Consultation.starts_at, Consultation.id))


def _next_consultations(user, now: datetime) -> list:
    if not policy.can(user, "consultation.view"):
        return []
    return list(db.session.scalars(_upcoming(user, now).limit(UPCOMING)))


def for_user(user, now: datetime | None = None) -> Dashboard:
    """The counts and next consultations `user`'s home page shows."""
    now = now or clock.now()
    board = Dashboard()
    if user.role == "regulator_officer":
        board.counts = _officer(user, now)
    elif user.role == "regulator_supervisor":
        board.counts = _supervisor(user, now)
    elif user.role in policy.PLATFORM:
        board.counts = _platform(user, now)
    board.consultations = _next_consultations(user, now)
    if user.role == "secretariat":
        board.counts = [Count("upcoming_consultations", _count(_upcoming(user, now)), url_for("consultations.index"))]
    return board
