"""The agenda of a consultation: items in order, a formal request put on it with one action, the facts
the organiser (the secretariat included) sees of the invited platforms' overdue or disputed requests, and
the very overdue requests the freeze adds. Services flush, never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.consultations import services
from portal.consultations.models import AgendaItem, Consultation
from portal.core import audit, clock, policy
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.extensions import db


def add_agenda_item(by: User, consultation: Consultation, entry: services.AgendaEntry, *, checked: bool = False) -> AgendaItem:
    """`checked`: the caller already established that `by` may name the entry's request here."""
    services._require_organiser(by, consultation)
    services._lock(consultation)
    services._require_agenda_open(consultation)
    item = _add_agenda_item(consultation, None if checked else by, entry)
    item.added_by_id = by.id
    db.session.flush()
    audit.record("consultation.agenda_added", consultation, details={"item": item.id})
    return item


def remove_agenda_item(by: User, consultation: Consultation, item_id: int) -> None:
    services._require_organiser(by, consultation)
    services._lock(consultation)
    services._require_agenda_open(consultation)
    item = next((i for i in consultation.agenda if i.id == item_id), None)
    if item is None:
        raise NotFound(_l("Agenda item not found."))
    consultation.agenda.remove(item)
    audit.record("consultation.agenda_removed", consultation, details={"item": item_id})


def move_agenda_item(by: User, consultation: Consultation, item_id: int, offset: int) -> None:
    """Move an item up (-1) or down (+1)."""
    services._require_organiser(by, consultation)
    services._lock(consultation)
    services._require_agenda_open(consultation)
    items = list(consultation.agenda)
    index = next((n for n, i in enumerate(items) if i.id == item_id), None)
    if index is None:
        raise NotFound(_l("Agenda item not found."))
    target = index + (1 if offset > 0 else -1)
    if not 0 <= target < len(items):
        return
    items[index].position, items[target].position = items[target].position, items[index].position
    consultation.agenda.sort(key=lambda i: i.position)


@dataclass(frozen=True)
class RequestFacts:
    """What an organiser needs to put a request on an agenda: never its addresses or its messages."""

    id: int
    reference: str
    agency: str
    platform: str
    status: str
    deadline: datetime | None
    item_count: int
    outcomes: dict[str, int]
    very_overdue: bool
    on_agenda: bool


def agenda_candidates(by: User, consultation: Consultation, limit: int = 50) -> list[RequestFacts]:
    """Overdue or disputed (an item declined) open requests of the invited platforms that `by` may put on
    this agenda: an agency its own requests, the secretariat those of every agency."""
    from portal.requests.models import Request, RequestItem

    if not services.is_organiser(by, consultation):
        return []
    now = clock.now()
    declined = select(RequestItem.request_id).where(RequestItem.outcome == "declined")
    query = select(Request).where(
        Request.platform_id.in_(consultation.invited_organisation_ids), Request.is_open.is_(True),
        (Request.deadline <= now) | Request.id.in_(declined))
    if by.organisation.kind == "agency":
        query = query.where(Request.agency_id == by.organisation_id)
    requests = db.session.scalars(query.order_by(Request.deadline, Request.id).limit(limit)).all()
    outcomes: dict[int, dict[str, int]] = {}
    if requests:
        rows = db.session.execute(
            select(RequestItem.request_id, RequestItem.outcome, func.count())
            .where(RequestItem.request_id.in_([r.id for r in requests]), RequestItem.outcome.is_not(None))
            .group_by(RequestItem.request_id, RequestItem.outcome))
        for request_id, outcome, number in rows:
            outcomes.setdefault(request_id, {})[outcome] = number
    present = {item.request_id for item in consultation.agenda}
    language = by.language
    return [RequestFacts(id=r.id, reference=r.label, agency=r.agency.name(language),
                         platform=r.platform.name(language), status=r.status, deadline=r.deadline,
                         item_count=r.item_count, outcomes=outcomes.get(r.id, {}), very_overdue=r.is_very_overdue,
                         on_agenda=r.id in present) for r in requests]


def add_request_to_agenda(by: User, consultation: Consultation, request_id: int) -> AgendaItem:
    """Put one of `agenda_candidates` on the agenda (the organiser's page, secretariat included)."""
    if not any(c.id == request_id and not c.on_agenda for c in agenda_candidates(by, consultation, limit=1000)):
        raise ValidationError("request", _l("This request cannot be put on this agenda."))
    from portal.requests.models import Request

    return add_agenda_item(by, consultation, _request_entry(db.session.get(Request, request_id)), checked=True)


def put_request_on_agenda(by: User, consultation: Consultation, req) -> AgendaItem:
    """With one action: a formal request (overdue or disputed) onto a coming consultation with its platform."""
    policy.require(by, "consultation.organise")
    policy.require(by, "request.view", req)
    if req.platform_id not in consultation.invited_organisation_ids:
        raise ValidationError("consultation", _l("This consultation does not invite the request's platform."))
    if any(item.request_id == req.id for item in consultation.agenda):
        raise Conflict(_l("This request is already on that agenda."))
    return add_agenda_item(by, consultation, _request_entry(req))


def _add_agenda_item(consultation: Consultation, by: User | None, entry: services.AgendaEntry,
                     automatic: bool = False) -> AgendaItem:
    title_ko, title_en = (entry.title_ko or "").strip(), (entry.title_en or "").strip()
    if not title_ko or not title_en:
        raise ValidationError("agenda", _l("Give each agenda item in Korean and in English."))
    if len(consultation.agenda) >= services.MAX_AGENDA_ITEMS:
        raise ValidationError("agenda", _l("An agenda holds at most %(num)s items.", num=services.MAX_AGENDA_ITEMS))
    if entry.request_id is not None:
        from portal.requests.models import Request

        req = db.session.get(Request, entry.request_id)
        if req is None or (by is not None and not policy.can(by, "request.view", req)):
            raise ValidationError("agenda", _l("Request not found."))
        if req.platform_id not in consultation.invited_organisation_ids:
            raise ValidationError("agenda", _l("This consultation does not invite the request's platform."))
        if any(item.request_id == req.id for item in consultation.agenda):
            raise Conflict(_l("This request is already on that agenda."))
    position = max((item.position for item in consultation.agenda), default=0) + 1
    item = AgendaItem(position=position, title_ko=title_ko[:300], title_en=title_en[:300],
                      request_id=entry.request_id, added_automatically=automatic,
                      added_by_id=by.id if by is not None else None, created_at=clock.now())
    consultation.agenda.append(item)
    return item


def add_very_overdue_requests(consultation: Consultation) -> int:
    """Put every very overdue request of the invited platforms on the agenda (the freeze does it once)."""
    from portal.requests.models import Request

    present = {item.request_id for item in consultation.agenda}
    overdue = db.session.scalars(select(Request).where(
        Request.platform_id.in_(consultation.invited_organisation_ids), Request.is_open.is_(True),
        Request.very_overdue_from <= clock.now()).order_by(Request.deadline, Request.id))
    added = 0
    for req in overdue:
        if req.id in present or len(consultation.agenda) >= services.MAX_AGENDA_ITEMS:
            continue
        _add_agenda_item(consultation, None, _request_entry(req), automatic=True)
        added += 1
    return added


def _request_entry(req) -> services.AgendaEntry:
    return services.AgendaEntry(title_ko=f"요청 {req.label} 후속 조치", title_en=f"Follow-up of request {req.label}",
                       request_id=req.id)
