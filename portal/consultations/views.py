"""Pages of consultations. Views parse input, call one service and choose a response; domain errors are
answered by the handlers in portal/errors (the message, and back to the page), and the request commits once.

Times typed into a form are read in the zone the form names: the meeting's own zone for the organiser's
times, the viewer's own zone for a platform's counter-proposal.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.consultations import bp, invitations, services
from portal.consultations import documents as consultation_documents
from portal.consultations.forms import (
    AgendaItemForm,
    AgendaRequestForm,
    ButtonForm,
    CancelForm,
    ChooseForm,
    ConsultationForm,
    CounterForm,
    RescheduleForm,
    RsvpForm,
    SlotForm,
)
from portal.consultations.models import Consultation
from portal.core import clock
from portal.core.exceptions import ValidationError
from portal.core.policy import access
from portal.extensions import db
from portal.i18n import current_language, viewer_zone

ID = "<int(max=2147483647):consultation_id>"
SUB = "<int(max=2147483647):sub_id>"


def _load(consultation_id: int) -> Consultation:
    return services.get(current_user, consultation_id)


def _back(consultation: Consultation, message: str | None = None, anchor: str | None = None):
    if message:
        flash(message, "success")
    return redirect(url_for("consultations.detail", consultation_id=consultation.id)
                    + (f"#{anchor}" if anchor else ""), code=303)


def _zoned(naive: datetime, zone: str) -> datetime:
    return naive.replace(tzinfo=ZoneInfo(zone))


def _invalid(form) -> ValidationError:
    field, errors = next(iter(form.errors.items()))
    label = getattr(getattr(form, field, None), "label", None)
    return ValidationError(field, f"{label.text}: {' '.join(map(str, errors))}" if label else errors[0])


def _organisation_choices(kind: str):
    return [(o.code, o.name(current_language())) for o in db.session.scalars(
        select(Organisation).where(Organisation.kind == kind, Organisation.active.is_(True))
        .order_by(Organisation.code))]


def _details_form(consultation: Consultation | None = None) -> ConsultationForm:
    form = ConsultationForm(obj=consultation)
    form.platforms.choices = _organisation_choices("platform")
    form.agencies.choices = [c for c in _organisation_choices("agency") if c[0] != current_user.organisation.code]
    if consultation is not None and not form.is_submitted():
        form.reminder_hours.data = ", ".join(str(m // 60) for m in consultation.reminders)
        codes = {i.organisation.code: i.organisation.kind for i in consultation.invitees}
        form.platforms.data = [c for c, k in codes.items() if k == "platform"]
        form.agencies.data = [c for c, k in codes.items() if k == "agency"]
    return form


def _details(form: ConsultationForm) -> dict:
    return dict(kind=form.kind.data, title_ko=form.title_ko.data, title_en=form.title_en.data,
                purpose_ko=form.purpose_ko.data, purpose_en=form.purpose_en.data, format=form.format.data,
                location=form.location.data, room=form.room.data, video_url=form.video_url.data,
                timezone=form.timezone.data, duration_minutes=form.duration_minutes.data,
                platform_codes=form.platforms.data, agency_codes=form.agencies.data or [],
                reminders_minutes=_reminder_minutes(form.reminder_hours.data),
                agenda_freeze_hours=form.agenda_freeze_hours.data)


def _reminder_minutes(text: str | None) -> list[int]:
    """"168, 24" (hours) as minutes; anything else is refused with the form's field named."""
    parts = [part.strip() for part in (text or "").split(",") if part.strip()]
    if not all(part.isascii() and part.isdigit() and len(part) <= 4 for part in parts):
        raise ValidationError("reminder_hours", _("Give whole hours separated by commas, e.g. 168, 24."))
    return [int(part) * 60 for part in parts]


# --- Lists and pages -------------------------------------------------------------------------------------

@bp.get("/")
@access("consultation.view")
def index():
    consultations = db.session.scalars(services.visible(current_user).limit(200)).all()
    return render_template("consultations/list.html", consultations=consultations, zone=viewer_zone(),
                           can_organise=services.can_organise(current_user))


@bp.route("/new", methods=["GET", "POST"])
@access("consultation.organise")
def new():
    form = _details_form()
    if form.validate_on_submit():
        consultation = services.create(current_user, **_details(form))
        return _back(consultation, _("The consultation was created as a draft. Propose times next."))
    return render_template("consultations/form.html", form=form, consultation=None)


@bp.get(f"/{ID}")
@access("consultation.view")
def detail(consultation_id: int):
    consultation = _load(consultation_id)
    view = services.page_of(current_user, consultation)
    choose = ChooseForm(prefix="choose")
    choose.slots.choices = [(s.id, "") for s in view.candidates]
    choose.slots.data = view.my_choices
    return render_template(
        "consultations/detail.html", consultation=consultation, view=view, zone=viewer_zone(),
        slot_form=SlotForm(prefix="slot"), choose_form=choose, counter_form=CounterForm(prefix="counter"), reschedule_form=RescheduleForm(prefix="reschedule"),
        cancel_form=CancelForm(prefix="cancel"), rsvp_form=RsvpForm(prefix="rsvp", data={"response": view.my_rsvp}), agenda_form=AgendaItemForm(prefix="agenda"),
        button=ButtonForm(), now=clock.now(), documents=consultation_documents.documents_of(current_user, consultation),
        candidates=services.agenda_candidates(current_user, consultation) if view.is_organiser else [])


@bp.route(f"/{ID}/edit", methods=["GET", "POST"])
@access("consultation.organise")
def edit(consultation_id: int):
    consultation = _load(consultation_id)
    form = _details_form(consultation)
    if form.validate_on_submit():
        services.update(current_user, consultation, **_details(form))
        return _back(consultation, _("The consultation was saved."))
    return render_template("consultations/form.html", form=form, consultation=consultation)


@bp.get(f"/{ID}/calendar.ics")
@access("consultation.view")
def calendar_file(consultation_id: int):
    consultation = _load(consultation_id)
    if consultation.starts_at is None or consultation.status != "scheduled":
        abort(404)
    data = invitations.publication(consultation, current_language())
    return Response(data, content_type="text/calendar; method=PUBLISH; charset=UTF-8", headers={
        "Content-Disposition": f'attachment; filename="consultation-{consultation.id}.ics"'})


# --- The organiser's actions ------------------------------------------------------------------------------

@bp.post(f"/{ID}/slots")
@access("consultation.organise")
def add_slot(consultation_id: int):
    consultation = _load(consultation_id)
    form = SlotForm(prefix="slot")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.add_slot(current_user, consultation, _zoned(form.start.data, consultation.timezone))
    return _back(consultation, _("The time was added."), "times")


@bp.post(f"/{ID}/slots/{SUB}/remove")
@access("consultation.organise")
def remove_slot(consultation_id: int, sub_id: int):
    consultation = _load(consultation_id)
    services.remove_slot(current_user, consultation, sub_id)
    return _back(consultation, _("The time was removed."), "times")


@bp.post(f"/{ID}/propose")
@access("consultation.organise")
def propose(consultation_id: int):
    consultation = _load(consultation_id)
    services.propose(current_user, consultation)
    return _back(consultation, _("The times were sent to the invited organisations."))


@bp.post(f"/{ID}/slots/{SUB}/accept")
@access("consultation.organise")
def accept_counter(consultation_id: int, sub_id: int):
    consultation = _load(consultation_id)
    services.decide_counter(current_user, consultation, sub_id, accept=True)
    return _back(consultation, _("The proposed time is now one of the candidates."), "times")


@bp.post(f"/{ID}/slots/{SUB}/decline")
@access("consultation.organise")
def decline_counter(consultation_id: int, sub_id: int):
    consultation = _load(consultation_id)
    services.decide_counter(current_user, consultation, sub_id, accept=False)
    return _back(consultation, _("The proposed time was declined."), "times")


@bp.post(f"/{ID}/slots/{SUB}/schedule")
@access("consultation.organise")
def schedule(consultation_id: int, sub_id: int):
    consultation = _load(consultation_id)
    services.schedule(current_user, consultation, slot_id=sub_id)
    return _back(consultation, _("The consultation is scheduled; the invitations are on their way."))


@bp.post(f"/{ID}/reschedule")
@access("consultation.organise")
def reschedule(consultation_id: int):
    consultation = _load(consultation_id)
    form = RescheduleForm(prefix="reschedule")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.reschedule(current_user, consultation, _zoned(form.start.data, consultation.timezone),
                        form.reason.data)
    return _back(consultation, _("The consultation was moved; everyone was sent the new time."))


@bp.post(f"/{ID}/cancel")
@access("consultation.organise")
def cancel(consultation_id: int):
    consultation = _load(consultation_id)
    form = CancelForm(prefix="cancel")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.cancel(current_user, consultation, form.reason.data)
    return _back(consultation, _("The consultation was cancelled."))


@bp.post(f"/{ID}/held")
@access("consultation.organise")
def mark_held(consultation_id: int):
    consultation = _load(consultation_id)
    services.mark_held(current_user, consultation)
    return _back(consultation, _("The consultation is recorded as held."))


@bp.post(f"/{ID}/agenda")
@access("consultation.organise")
def add_agenda_item(consultation_id: int):
    consultation = _load(consultation_id)
    form = AgendaItemForm(prefix="agenda")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.add_agenda_item(current_user, consultation,
                             services.AgendaEntry(form.title_ko.data, form.title_en.data))
    return _back(consultation, _("The item was added to the agenda."), "agenda")


@bp.post(f"/{ID}/agenda/requests/{SUB}")
@access("consultation.organise")
def add_request_to_agenda(consultation_id: int, sub_id: int):
    consultation = _load(consultation_id)
    services.add_request_to_agenda(current_user, consultation, sub_id)
    return _back(consultation, _("The request is on the agenda of the consultation."), "agenda")


@bp.post(f"/{ID}/agenda/{SUB}/remove")
@access("consultation.organise")
def remove_agenda_item(consultation_id: int, sub_id: int):
    consultation = _load(consultation_id)
    services.remove_agenda_item(current_user, consultation, sub_id)
    return _back(consultation, _("The item was removed from the agenda."), "agenda")


@bp.post(f"/{ID}/agenda/{SUB}/up")
@access("consultation.organise")
def agenda_item_up(consultation_id: int, sub_id: int):
    consultation = _load(consultation_id)
    services.move_agenda_item(current_user, consultation, sub_id, -1)
    return _back(consultation, anchor="agenda")


@bp.post(f"/{ID}/agenda/{SUB}/down")
@access("consultation.organise")
def agenda_item_down(consultation_id: int, sub_id: int):
    consultation = _load(consultation_id)
    services.move_agenda_item(current_user, consultation, sub_id, 1)
    return _back(consultation, anchor="agenda")


@bp.post("/agenda/request/<int(max=2147483647):request_id>")
@access("consultation.organise")
def put_request_on_agenda(request_id: int):
    from portal.requests import services as requests

    req = requests.get_request(current_user, request_id)
    form = AgendaRequestForm()
    form.consultation_id.choices = [(c.id, "") for c in services.coming_with_platform(current_user, req.platform_id)]
    if not form.validate_on_submit():
        raise ValidationError("consultation_id", _("Choose a coming consultation with this platform."))
    consultation = _load(form.consultation_id.data)
    services.put_request_on_agenda(current_user, consultation, req)
    flash(_("The request is on the agenda of the consultation."), "success")
    return redirect(url_for("requests.detail", request_id=req.id), code=303)


# --- The invitees' actions -------------------------------------------------------------------------------

@bp.post(f"/{ID}/choose")
@access("consultation.respond")
def choose(consultation_id: int):
    consultation = _load(consultation_id)
    form = ChooseForm(prefix="choose")
    form.slots.choices = [(s.id, "") for s in consultation.slots]
    if not form.validate_on_submit():
        raise _invalid(form)
    services.choose(current_user, consultation, form.slots.data or [])
    return _back(consultation, _("Your choice of times was sent to the organiser."), "times")


@bp.post(f"/{ID}/counter")
@access("consultation.respond")
def counter(consultation_id: int):
    consultation = _load(consultation_id)
    form = CounterForm(prefix="counter")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.counter_propose(current_user, consultation, _zoned(form.start.data, viewer_zone()), form.note.data)
    return _back(consultation, _("Your proposal was sent to the organiser."), "times")


@bp.post(f"/{ID}/rsvp")
@access("consultation.view")
def rsvp(consultation_id: int):
    consultation = _load(consultation_id)
    form = RsvpForm(prefix="rsvp")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.rsvp(current_user, consultation, form.response.data, form.note.data)
    return _back(consultation, _("Your answer was recorded."), "participants")
