"""Reading consultations: what a person may see, and what the consultation's page shows them."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import User
from portal.consultations.models import (
    CANCELLED,
    DRAFT,
    PROPOSED,
    SCHEDULED,
    AgendaItem,
    Consultation,
    Invitee,
    Participant,
    Slot,
)
from portal.core import policy
from portal.core.exceptions import NotFound
from portal.extensions import db

# Where the agenda may still change (until it freezes before the start).
AGENDA_OPEN = frozenset({DRAFT, PROPOSED, SCHEDULED})


def is_candidate(slot: Slot) -> bool:
    """A time the organiser offers: its own, or a platform's counter-proposal it accepted."""
    return not slot.is_counter or slot.counter_status == "accepted"


# --- Reading --------------------------------------------------------------------------------------------

def visible(by: User):
    """select() of the consultations `by` may see, soonest first (unscheduled last)."""
    query = policy.scoped(select(Consultation), Consultation, by, "consultation.view")
    return query.order_by(Consultation.starts_at.is_(None), Consultation.starts_at.desc(),
                          Consultation.id.desc())


def get(by: User, consultation_id: int, *, for_update: bool = False) -> Consultation:
    """The consultation, or NotFound when it does not exist or lies outside `by`'s reach (the same)."""
    query = select(Consultation).where(Consultation.id == consultation_id)
    if for_update:
        query = query.with_for_update(of=Consultation)
    consultation = db.session.scalar(query)
    if consultation is None or not policy.can(by, "consultation.view", consultation):
        raise NotFound(_l("Consultation not found."))
    return consultation


def participant_of(consultation: Consultation, user: User) -> Participant | None:
    return next((p for p in consultation.participants if p.user_id == user.id), None)


def is_organiser(by: User, consultation: Consultation) -> bool:
    return policy.can(by, "consultation.organise") and by.organisation_id == consultation.organiser_id


def agenda_items_for_request(request_id: int) -> list[AgendaItem]:
    """Where a formal request is on an agenda: shown on the request's page to its agency and platform."""
    return list(db.session.scalars(
        select(AgendaItem).join(Consultation).where(AgendaItem.request_id == request_id,
                                                    Consultation.status != CANCELLED)
        .order_by(Consultation.starts_at)))


def coming_with_platform(by: User, platform_id: int) -> list[Consultation]:
    """Consultations `by` organises, not yet held, with `platform_id` invited and the agenda still open."""
    query = (select(Consultation).join(Invitee)
             .where(Invitee.organisation_id == platform_id, Consultation.organiser_id == by.organisation_id,
                    Consultation.status.in_(AGENDA_OPEN), Consultation.agenda_frozen_at.is_(None))
             .order_by(Consultation.starts_at.is_(None), Consultation.starts_at))
    return list(db.session.scalars(query))


@dataclass
class SlotRow:
    slot: Slot
    chosen_by: list[str]          # organisation codes
    outside_hours: list[str]      # participants' zones in which it falls outside 08:00-20:00


@dataclass
class Page:
    """What the consultation's page shows to one viewer."""

    is_organiser: bool
    is_invitee: bool
    candidates: list[Slot]
    rows: list[SlotRow]
    counters: list[Slot]
    my_choices: list[int]
    participant: Participant | None
    participants: list[Participant]
    zones: list[str]

    @property
    def my_rsvp(self) -> str | None:
        return self.participant.rsvp if self.participant and self.participant.rsvp != "needs_action" else None


def can_organise(by: User) -> bool:
    return policy.can(by, "consultation.organise")


def participant_zones(consultation: Consultation) -> list[str]:
    """Every zone someone attending lives in (people's own, else their organisation's), KST first."""
    zones = ["Asia/Seoul"]
    zones += [p.user.timezone for p in consultation.participants]
    zones += [i.organisation.timezone for i in consultation.invitees]
    return list(dict.fromkeys(z for z in zones if z))


def page_of(by: User, consultation: Consultation) -> Page:
    from portal.consultations.times import slot_times

    organiser = is_organiser(by, consultation)
    invitee = by.organisation_id in consultation.invited_organisation_ids and policy.can(
        by, "consultation.respond", consultation)
    zones = participant_zones(consultation)
    candidates = [s for s in consultation.slots if is_candidate(s)]
    rows = [SlotRow(slot=s, chosen_by=sorted(c.organisation.code for c in s.choices),
                    outside_hours=list(slot_times(s.starts_at, consultation.duration, zones[0], zones).outside_hours))
            for s in candidates]
    counters = [s for s in consultation.slots if s.is_counter and s.counter_status != "accepted"]
    if not organiser:  # an invitee sees its own counter-proposals, not other platforms'
        counters = [s for s in counters if s.proposed_by_organisation_id == by.organisation_id]
    mine = [s.id for s in candidates if any(c.organisation_id == by.organisation_id for c in s.choices)]
    participants = list(consultation.participants)
    if not organiser and by.role != "secretariat":
        participants = [p for p in participants if p.organisation_id == by.organisation_id]
    return Page(is_organiser=organiser, is_invitee=invitee, candidates=candidates, rows=rows, counters=counters,
                my_choices=mine, participant=participant_of(consultation, by), participants=participants,
                zones=zones)
