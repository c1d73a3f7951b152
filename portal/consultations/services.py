"""Consultations: every rule of proposing, finding a time, scheduling, rescheduling, cancelling and
answering a meeting of the body or a bilateral consultation.

Services flush, never commit (the request, command or job commits once). Every state change goes through
`_move`, a `core.workflow.transition` on the table `CONSULTATIONS`, which re-reads the state under the
row's lock and refuses with `Conflict` when the action no longer applies, and records the audit row; the
services emit the domain events. Calendar messages (portal/consultations/
invitations) follow the state: the first invitation has SEQUENCE 0, each reschedule and a cancellation of
a scheduled consultation one more; an attendee's answer never changes it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound

from portal.accounts import recipients
from portal.accounts.models import Organisation, User
from portal.consultations import documents as consultation_documents
from portal.consultations import invitations
from portal.consultations.models import (
    CANCELLED,
    DRAFT,
    FORMATS,
    HELD,
    KINDS,
    PROPOSED,
    RSVP_RESPONSES,
    SCHEDULED,
    Consultation,
    Invitee,
    Participant,
    Slot,
    SlotChoice,
)
from portal.core import audit, clock, events, policy, workflow
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.consultations.queries import (  # reading, part of the domain's services
    AGENDA_OPEN,
    Page,
    SlotRow,
    agenda_items_for_request,
    can_organise,
    coming_with_platform,
    get,
    is_candidate,
    is_organiser,
    page_of,
    participant_of,
    participant_zones,
    visible,
)
from portal.core.workflow import Transition
from portal.extensions import db

# The lifecycle: one table of core.workflow transitions, taken by `_move`. Every step is the organiser's.
_CHANGED = _l("This consultation has changed meanwhile: reload the page.")
TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("propose", frozenset({DRAFT}), PROPOSED, "consultation.organise", _CHANGED),
    Transition("schedule", frozenset({DRAFT, PROPOSED}), SCHEDULED, "consultation.organise", _CHANGED),
    Transition("reschedule", frozenset({SCHEDULED}), SCHEDULED, "consultation.organise", _CHANGED),
    Transition("hold", frozenset({SCHEDULED}), HELD, "consultation.organise", _CHANGED),
    Transition("cancel", frozenset({DRAFT, PROPOSED, SCHEDULED}), CANCELLED, "consultation.organise", _CHANGED),
)}
# Consultations keep no history table of their own: the audit trail is their history.
CONSULTATIONS = workflow.Workflow(name="consultation", model=Consultation, transitions=TRANSITIONS.values(),
                                  history=lambda *args, **kwargs: None)
# Where the organiser may still change the time candidates and the invitees.
EDITABLE = frozenset({DRAFT, PROPOSED})

MAX_SLOTS = 20
MAX_AGENDA_ITEMS = 50
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 30 * 24 * 60  # the reminders job looks 31 days ahead
MAX_FREEZE_HOURS = 14 * 24
EARLIEST_AHEAD = timedelta(minutes=0)
LATEST_AHEAD = timedelta(days=366)
# People of invited organisations who attend: the roles that do the work, not the system administrators.
ATTENDING_ROLES = frozenset({"regulator_officer", "regulator_supervisor", "platform_agent", "platform_admin",
                             "secretariat"})


@dataclass(frozen=True)
class AgendaEntry:
    title_ko: str
    title_en: str
    request_id: int | None = None


# --- Creating and editing -------------------------------------------------------------------------------

def create(by: User, *, kind: str, title_ko: str, title_en: str, format: str, duration_minutes: int,
           platform_codes: list[str], agency_codes: list[str] = (), purpose_ko: str = "", purpose_en: str = "",
           location: str = "", room: str = "", video_url: str = "", timezone: str = "Asia/Seoul",
           slots: list[datetime] = (), agenda: list[AgendaEntry] = (), reminders_minutes: list[int] | None = None,
           agenda_freeze_hours: int | None = None) -> Consultation:
    """A new consultation in draft, organised by `by`'s organisation."""
    policy.require(by, "consultation.organise")
    now = clock.now()
    consultation = Consultation(
        uid=f"consultation-{uuid.uuid4()}@{_calendar_domain()}", organiser_id=by.organisation_id,
        created_by_id=by.id, status=DRAFT, sequence=0, created_at=now, updated_at=now)
    _apply_details(consultation, kind=kind, title_ko=title_ko, title_en=title_en, purpose_ko=purpose_ko,
                   purpose_en=purpose_en, format=format, location=location, room=room, video_url=video_url,
                   timezone=timezone, duration_minutes=duration_minutes, reminders_minutes=reminders_minutes,
                   agenda_freeze_hours=agenda_freeze_hours)
    _set_invitees(consultation, by, platform_codes, agency_codes)
    db.session.add(consultation)
    for start in slots:
        _add_slot(consultation, by, start)
    for entry in agenda:
        _add_agenda_item(consultation, by, entry)
    db.session.flush()
    audit.record("consultation.created", consultation, details={"kind": kind})
    return consultation


def update(by: User, consultation: Consultation, **details) -> None:
    """Change the details of a consultation still finding its time (a scheduled one is rescheduled)."""
    _require_organiser(by, consultation)
    _lock(consultation)
    if consultation.status not in EDITABLE:
        raise Conflict(_l("This consultation can no longer be edited."))
    platform_codes = details.pop("platform_codes", None)
    agency_codes = details.pop("agency_codes", ())
    _apply_details(consultation, **details)
    if platform_codes is not None:
        _set_invitees(consultation, by, platform_codes, agency_codes)
    consultation.updated_at = clock.now()
    audit.record("consultation.updated", consultation)


def add_slot(by: User, consultation: Consultation, start: datetime) -> Slot:
    _require_organiser(by, consultation)
    _lock(consultation)
    if consultation.status not in EDITABLE:
        raise Conflict(_l("Times can only be proposed before the consultation is scheduled."))
    slot = _add_slot(consultation, by, start)
    db.session.flush()
    audit.record("consultation.slot_added", consultation, details={"slot": slot.id})
    return slot


def remove_slot(by: User, consultation: Consultation, slot_id: int) -> None:
    _require_organiser(by, consultation)
    _lock(consultation)
    if consultation.status not in EDITABLE:
        raise Conflict(_l("Times can only be changed before the consultation is scheduled."))
    slot = _slot_of(consultation, slot_id)
    consultation.slots.remove(slot)
    audit.record("consultation.slot_removed", consultation, details={"slot": slot_id})


def propose(by: User, consultation: Consultation) -> None:
    """Send the proposed times to the invited organisations, which pick those that suit them."""
    _require_organiser(by, consultation)
    if not consultation.slots:
        raise ValidationError("slots", _l("Propose at least one time."))
    if not consultation.invitees:
        raise ValidationError("platforms", _l("Invite at least one organisation."))
    _move(by, consultation, "propose")
    _sync_participants(consultation)
    invitations.times_proposed(consultation)


# --- Finding a time -------------------------------------------------------------------------------------

def choose(by: User, consultation: Consultation, slot_ids: list[int]) -> None:
    """An invited organisation says which of the proposed times suit it (replacing its earlier choice)."""
    _require_invited(by, consultation, "consultation.respond")
    _lock(consultation)
    if consultation.status != PROPOSED:
        raise Conflict(_l("Times can only be chosen while the consultation is finding a time."))
    wanted = set(slot_ids)
    candidates = {slot.id: slot for slot in consultation.slots if is_candidate(slot)}
    unknown = wanted - set(candidates)
    if unknown:
        raise ValidationError("slots", _l("Choose among the proposed times."))
    now = clock.now()
    for slot in candidates.values():
        mine = next((c for c in slot.choices if c.organisation_id == by.organisation_id), None)
        if slot.id in wanted and mine is None:
            slot.choices.append(SlotChoice(organisation_id=by.organisation_id, chosen_by_id=by.id, chosen_at=now))
        elif slot.id not in wanted and mine is not None:
            slot.choices.remove(mine)
    consultation.updated_at = now
    audit.record("consultation.times_chosen", consultation, details={"slots": sorted(wanted)})


def counter_propose(by: User, consultation: Consultation, start: datetime, note: str = "") -> Slot:
    """An invited organisation proposes another time, with a note; the organiser accepts or declines it."""
    _require_invited(by, consultation, "consultation.respond")
    _lock(consultation)
    if consultation.status != PROPOSED:
        raise Conflict(_l("Another time can only be proposed while the consultation is finding a time."))
    slot = _add_slot(consultation, by, start, counter_of=by.organisation_id, note=note)
    db.session.flush()
    audit.record("consultation.counter_proposed", consultation, details={"slot": slot.id})
    invitations.counter_proposed(consultation, slot)
    return slot


def decide_counter(by: User, consultation: Consultation, slot_id: int, accept: bool) -> None:
    """Accepting makes the counter-proposal a candidate time, chosen by the organisation that proposed it."""
    _require_organiser(by, consultation)
    _lock(consultation)
    slot = _slot_of(consultation, slot_id)
    if not slot.is_counter or slot.counter_status != "open":
        raise Conflict(_l("This proposal has already been decided."))
    if consultation.status != PROPOSED:
        raise Conflict(_l("Proposals can only be decided while the consultation is finding a time."))
    slot.counter_status = "accepted" if accept else "declined"
    if accept:
        slot.choices.append(SlotChoice(organisation_id=slot.proposed_by_organisation_id,
                                       chosen_by_id=slot.proposed_by_id, chosen_at=clock.now()))
    audit.record("consultation.counter_" + ("accepted" if accept else "declined"), consultation,
                 details={"slot": slot.id})


# --- Fixing, moving and cancelling the time -------------------------------------------------------------

def schedule(by: User, consultation: Consultation, *, slot_id: int | None = None,
             start: datetime | None = None) -> None:
    """Fix the time (a proposed or accepted slot, or a time of the organiser's), then invite everyone."""
    _require_organiser(by, consultation)
    if (slot_id is None) == (start is None):
        raise ValidationError("slot", _l("Choose one of the proposed times or give a time."))
    if slot_id is not None:
        slot = _slot_of(consultation, slot_id)
        if not is_candidate(slot):
            raise ValidationError("slot", _l("This proposal was declined or is still to be decided."))
        start = slot.starts_at
    start = _check_start(start)
    if not consultation.invitees:
        raise ValidationError("platforms", _l("Invite at least one organisation."))
    _move(by, consultation, "schedule", details={"starts_at": start.isoformat()})
    consultation.starts_at = start
    consultation.sequence = 0
    consultation.scheduled_at = clock.now()
    _sync_participants(consultation)
    db.session.flush()
    invitations.invite(consultation, documents=consultation_documents.issue_invitations(by, consultation))
    events.emit("consultation.scheduled", consultation=consultation)


def reschedule(by: User, consultation: Consultation, start: datetime, reason: str) -> None:
    """Move a scheduled consultation: the same UID, SEQUENCE one higher; everyone is asked again."""
    _require_organiser(by, consultation)
    start = _check_start(start)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("reason", _l("Say why the consultation moves."))
    _move(by, consultation, "reschedule", details={"starts_at": start.isoformat()})
    if start == consultation.starts_at:
        raise ValidationError("start", _l("The consultation is already at this time."))
    consultation.starts_at = start
    consultation.sequence += 1
    consultation.scheduled_at = clock.now()
    consultation.reschedule_reason = reason
    for participant in consultation.participants:
        participant.rsvp, participant.rsvp_note, participant.rsvp_at = "needs_action", "", None
    _sync_participants(consultation)
    db.session.flush()
    invitations.invite(consultation, reason=reason,
                       documents=consultation_documents.issue_invitations(by, consultation))
    events.emit("consultation.rescheduled", consultation=consultation)


def cancel(by: User, consultation: Consultation, reason: str) -> None:
    """Cancel: once invitations went out, a METHOD:CANCEL with SEQUENCE one higher removes it from calendars."""
    _require_organiser(by, consultation)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("reason", _l("Say why the consultation is cancelled."))
    was = consultation.status
    _move(by, consultation, "cancel")
    consultation.cancel_reason = reason
    if was == SCHEDULED:
        consultation.sequence += 1
        invitations.cancelled(consultation, reason=reason)
        events.emit("consultation.cancelled", consultation=consultation)
    elif was == PROPOSED:
        invitations.proposal_withdrawn(consultation, reason=reason)


def mark_held(by: User, consultation: Consultation) -> None:
    _require_organiser(by, consultation)
    if consultation.starts_at is None or consultation.starts_at > clock.now():
        raise Conflict(_l("A consultation is held only once it has started."))
    _move(by, consultation, "hold")


# --- Answers ----------------------------------------------------------------------------------------------

def rsvp(by: User, consultation: Consultation, response: str, note: str = "") -> Participant:
    """A person's answer to the invitation; it never changes the calendar's SEQUENCE."""
    if response not in RSVP_RESPONSES:
        raise ValidationError("response", _l("Answer accept, decline or tentative."))
    _lock(consultation)
    if consultation.status != SCHEDULED:
        raise Conflict(_l("Only a scheduled consultation can be answered."))
    participant = participant_of(consultation, by)
    if participant is None:
        raise NotFound(_l("Consultation not found."))
    participant.rsvp, participant.rsvp_note, participant.rsvp_at = response, (note or "").strip(), clock.now()
    audit.record("consultation.rsvp", consultation, details={"response": response})
    return participant


# --- Internals ---------------------------------------------------------------------------------------------

def _move(by: User, consultation: Consultation, action: str, details: dict | None = None) -> None:
    """Apply `action` under the row's lock, or refuse with Conflict when the state no longer allows it."""
    try:
        workflow.transition(CONSULTATIONS, consultation, action, by, **(details or {}))
    except NoResultFound:
        raise NotFound(_l("Consultation not found.")) from None


def _lock(consultation: Consultation) -> str:
    """Lock the consultation's row for the rest of the unit of work and return its state as stored now
    (`core.workflow.lock`: FOR UPDATE on PostgreSQL, the writer's lock on SQLite; the row is re-read)."""
    try:
        workflow.lock(consultation)
    except NoResultFound:
        raise NotFound(_l("Consultation not found.")) from None
    return consultation.status


def _require_organiser(by: User, consultation: Consultation) -> None:
    policy.require(by, "consultation.organise", consultation)
    if by.organisation_id != consultation.organiser_id:
        raise NotFound(_l("Consultation not found."))


def _require_invited(by: User, consultation: Consultation, permission: str) -> None:
    policy.require(by, permission, consultation)
    if by.organisation_id not in consultation.invited_organisation_ids:
        raise NotFound(_l("Consultation not found."))


def _require_agenda_open(consultation: Consultation) -> None:
    if consultation.status not in AGENDA_OPEN or consultation.agenda_frozen_at is not None:
        raise Conflict(_l("The agenda of this consultation is frozen."))


def _apply_details(consultation: Consultation, *, kind: str, title_ko: str, title_en: str, format: str,
                   duration_minutes: int, purpose_ko: str = "", purpose_en: str = "", location: str = "",
                   room: str = "", video_url: str = "", timezone: str = "Asia/Seoul",
                   reminders_minutes: list[int] | None = None, agenda_freeze_hours: int | None = None) -> None:
    if kind not in KINDS:
        raise ValidationError("kind", _l("Choose a plenary meeting or a bilateral consultation."))
    if format not in FORMATS:
        raise ValidationError("format", _l("Choose in person, video or hybrid."))
    title_ko, title_en = (title_ko or "").strip(), (title_en or "").strip()
    if not title_ko or not title_en:
        raise ValidationError("title_ko" if not title_ko else "title_en",
                              _l("Give the title in Korean and in English."))
    if not isinstance(duration_minutes, int) or not 15 <= duration_minutes <= 24 * 60:
        raise ValidationError("duration_minutes", _l("The duration must be between 15 minutes and 24 hours."))
    if not clock.is_valid_zone(timezone):
        raise ValidationError("timezone", _l("Choose a time zone from the list."))
    location, video_url = (location or "").strip(), (video_url or "").strip()
    if format in ("in_person", "hybrid") and not location:
        raise ValidationError("location", _l("Give the address of the meeting."))
    if format in ("video", "hybrid"):
        if not video_url.startswith("https://"):
            raise ValidationError("video_url", _l("Give the video link, starting with https://."))
    consultation.kind, consultation.format = kind, format
    consultation.title_ko, consultation.title_en = title_ko[:300], title_en[:300]
    consultation.purpose_ko, consultation.purpose_en = (purpose_ko or "").strip(), (purpose_en or "").strip()
    consultation.location, consultation.room = location[:300], (room or "").strip()[:120]
    consultation.video_url = video_url[:500] if format != "in_person" else ""
    consultation.timezone, consultation.duration_minutes = timezone, duration_minutes
    if reminders_minutes is not None:
        offsets = sorted(set(reminders_minutes), reverse=True)
        if len(offsets) > MAX_REMINDERS or any(not isinstance(o, int) or not 5 <= o <= MAX_REMINDER_MINUTES
                                                for o in offsets):
            raise ValidationError("reminders_minutes", _l(
                "Give at most %(num)s reminders, each between 5 minutes and 30 days before the start.",
                num=MAX_REMINDERS))
        consultation.reminder_offsets = ",".join(map(str, offsets))
    if agenda_freeze_hours is not None:
        if not isinstance(agenda_freeze_hours, int) or not 0 <= agenda_freeze_hours <= MAX_FREEZE_HOURS:
            raise ValidationError("agenda_freeze_hours", _l(
                "The agenda freezes between 0 hours and 14 days before the start."))
        consultation.agenda_freeze_hours = agenda_freeze_hours


def _set_invitees(consultation: Consultation, by: User, platform_codes, agency_codes) -> None:
    codes = list(dict.fromkeys([*(platform_codes or []), *(agency_codes or [])]))
    organisations = {o.code: o for o in db.session.scalars(
        select(Organisation).where(Organisation.code.in_(codes), Organisation.active.is_(True)))}
    unknown = [code for code in codes if code not in organisations]
    if unknown:
        raise ValidationError("platforms", _l("Unknown organisation: %(codes)s", codes=", ".join(unknown)))
    platforms = [o for o in organisations.values() if o.kind == "platform"]
    if consultation.kind == "bilateral" and len(platforms) != 1:
        raise ValidationError("platforms", _l("A bilateral consultation invites exactly one platform."))
    if not platforms:
        raise ValidationError("platforms", _l("Invite at least one platform."))
    if any(o.id == by.organisation_id for o in organisations.values()):
        raise ValidationError("platforms", _l("The organiser is not one of the invitees."))
    wanted = {o.id for o in organisations.values()}
    for invitee in list(consultation.invitees):
        if invitee.organisation_id not in wanted:
            consultation.invitees.remove(invitee)
    present = {invitee.organisation_id for invitee in consultation.invitees}
    for organisation_id in wanted - present:
        consultation.invitees.append(Invitee(organisation_id=organisation_id))


def _sync_participants(consultation: Consultation) -> None:
    """Every active person of the organiser's side (its creator) and of each invited organisation attends."""
    organisation_ids = consultation.invited_organisation_ids
    people = recipients.users_of(organisation_ids, ATTENDING_ROLES)
    creator = db.session.get(User, consultation.created_by_id)
    if creator is not None and creator.active:
        people.insert(0, creator)
    present = {p.user_id for p in consultation.participants}
    for person in people:
        if person.id not in present:
            consultation.participants.append(Participant(user=person, organisation=person.organisation))
            present.add(person.id)


def _add_slot(consultation: Consultation, by: User, start: datetime, *, counter_of: int | None = None,
              note: str = "") -> Slot:
    start = _check_start(start)
    if len(consultation.slots) >= MAX_SLOTS:
        raise ValidationError("slots", _l("At most %(num)s times can be proposed.", num=MAX_SLOTS))
    if any(slot.starts_at == start and slot.counter_status != "declined" for slot in consultation.slots):
        raise ValidationError("slots", _l("This time is already proposed."))
    slot = Slot(starts_at=start, proposed_by_organisation_id=counter_of, proposed_by_id=by.id,
                note=(note or "").strip()[:2000], counter_status="open" if counter_of else None,
                created_at=clock.now())
    consultation.slots.append(slot)
    return slot


def _slot_of(consultation: Consultation, slot_id: int) -> Slot:
    slot = next((s for s in consultation.slots if s.id == slot_id), None)
    if slot is None:
        raise ValidationError("slot", _l("This time is not one of the consultation's."))
    return slot


def _check_start(start: datetime | None) -> datetime:
    if start is None or start.tzinfo is None:
        raise ValidationError("start", _l("Give the time with its time zone."))
    now = clock.now()
    if start < now + EARLIEST_AHEAD:
        raise ValidationError("start", _l("The time must be in the future."))
    if start > now + LATEST_AHEAD:
        raise ValidationError("start", _l("The time must be within a year from now."))
    return start.astimezone(clock.UTC).replace(second=0, microsecond=0)


def _calendar_domain() -> str:
    from urllib.parse import urlsplit

    return urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "portal"


# The agenda's rules live in portal/consultations/agenda.py; these names are part of this module's surface.
from portal.consultations.agenda import (  # noqa: E402,F401
    RequestFacts,
    _add_agenda_item,
    _request_entry,
    add_agenda_item,
    add_request_to_agenda,
    add_very_overdue_requests,
    agenda_candidates,
    move_agenda_item,
    put_request_on_agenda,
    remove_agenda_item,
)
