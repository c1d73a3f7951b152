from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange

from portal.core.forms import PortalForm, ZoneField
from portal.consultations.labels import FORMAT_NAMES, KIND_NAMES, RSVP_NAMES


def _choices(names: dict):
    return lambda: [(key, str(label)) for key, label in names.items()]


class ConsultationForm(PortalForm):
    kind = RadioField(_l("Kind"), choices=_choices(KIND_NAMES), default="bilateral")
    title_ko = StringField(_l("Title in Korean"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=300)])
    purpose_ko = TextAreaField(_l("Purpose in Korean"), validators=[Length(max=5000)])
    purpose_en = TextAreaField(_l("Purpose in English"), validators=[Length(max=5000)])
    format = RadioField(_l("Format"), choices=_choices(FORMAT_NAMES), default="video")
    location = StringField(_l("Address (in person or hybrid)"), validators=[Length(max=300)])
    room = StringField(_l("Room"), validators=[Length(max=120)])
    video_url = StringField(_l("Video link (video or hybrid)"), validators=[Length(max=500)])
    timezone = ZoneField(_l("The meeting's time zone"), default="Asia/Seoul")
    duration_minutes = IntegerField(_l("Duration in minutes"), default=60,
                                    validators=[DataRequired(), NumberRange(min=15, max=1440)])
    reminder_hours = StringField(_l("Reminders, in hours before the start (comma-separated)"), default="168, 24",
                                 validators=[Length(max=60)])
    agenda_freeze_hours = IntegerField(_l("The agenda freezes, in hours before the start"), default=48,
                                       validators=[NumberRange(min=0, max=14 * 24)])
    platforms = SelectMultipleField(_l("Platforms invited"), validators=[DataRequired()])
    agencies = SelectMultipleField(_l("Agencies invited (plenary meetings)"))
    submit = SubmitField(_l("Save"))


class SlotForm(PortalForm):
    start = DateTimeLocalField(_l("Start"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    submit = SubmitField(_l("Propose this time"))


class ChooseForm(PortalForm):
    slots = SelectMultipleField(_l("Times that suit us"), coerce=int)
    submit = SubmitField(_l("Send our choice"))


class CounterForm(PortalForm):
    start = DateTimeLocalField(_l("Another time"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    note = TextAreaField(_l("Note to the organiser"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Propose this time"))


class RescheduleForm(PortalForm):
    start = DateTimeLocalField(_l("New start"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Reschedule and notify everyone"))


class CancelForm(PortalForm):
    reason = TextAreaField(_l("Reason for cancelling"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Cancel the consultation"))


class RsvpForm(PortalForm):
    response = RadioField(_l("Your answer"), validators=[DataRequired()],
                          choices=lambda: [(k, str(v)) for k, v in RSVP_NAMES.items() if k != "needs_action"])
    note = StringField(_l("Note (optional)"), validators=[Length(max=500)])
    submit = SubmitField(_l("Send my answer"))


class AgendaItemForm(PortalForm):
    title_ko = StringField(_l("Agenda item in Korean"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Agenda item in English"), validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Add to the agenda"))


class AgendaRequestForm(PortalForm):
    consultation_id = SelectField(_l("Consultation"), coerce=int, validators=[DataRequired()])
    submit = SubmitField(_l("Put on the agenda"))


class ButtonForm(PortalForm):
    submit = SubmitField()



