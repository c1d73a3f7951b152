from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.minutes.labels import ATTENDANCE_NAMES, ACTION_STATUS_NAMES
from portal.minutes.models import MAX_TEXT


class SectionForm(FlaskForm):
    based_on = HiddenField(validators=[DataRequired()])
    text_ko = TextAreaField(_l("Text in Korean"), validators=[Length(max=MAX_TEXT)])
    text_en = TextAreaField(_l("Text in English"), validators=[Length(max=MAX_TEXT)])
    save = SubmitField(_l("Save the section"))
    keep = SubmitField(_l("Keep as my draft"))


class CirculateForm(FlaskForm):
    comment_days = IntegerField(_l("Comment period in days"), default=7, validators=[Optional(), NumberRange(0, 60)])
    submit = SubmitField(_l("Circulate for comments"))


class CommentForm(FlaskForm):
    section = SelectField(_l("Section"), coerce=int, validators=[DataRequired()])
    text = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField(_l("Send the comment"))


class DecisionForm(FlaskForm):
    text_ko = TextAreaField(_l("Decision in Korean"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    text_en = TextAreaField(_l("Decision in English"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    submit = SubmitField(_l("Record the decision"))


class ActionItemForm(FlaskForm):
    text_ko = TextAreaField(_l("Action item in Korean"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    text_en = TextAreaField(_l("Action item in English"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    owner = SelectField(_l("Owner organisation"), validators=[DataRequired()])
    due = DateField(_l("Due date (KST)"), validators=[DataRequired()])
    requests = StringField(_l("Request numbers (ids, comma-separated, optional)"), validators=[Length(max=300)])
    submit = SubmitField(_l("Add the action item"))


class ActionStatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=lambda: [(k, str(v)) for k, v in ACTION_STATUS_NAMES.items()],
                         validators=[DataRequired()])
    submit = SubmitField(_l("Change the status"))


class AttendanceForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    status = SelectField(_l("Attendance"), choices=lambda: [(k, str(v)) for k, v in ATTENDANCE_NAMES.items()],
                         validators=[DataRequired()])
    arrived = SelectField(_l("Arrived at"), coerce=int, validate_choice=False)
    left = SelectField(_l("Left after"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Record the attendance"))


class RecusalForm(FlaskForm):
    section = SelectField(_l("Section"), coerce=int, validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[Length(max=500)])
    submit = SubmitField(_l("Record the recusal"))


class CarryForm(FlaskForm):
    consultation_id = SelectField(_l("Consultation"), coerce=int, validators=[DataRequired()])
    submit = SubmitField(_l("Carry the open action items forward"))


class ButtonForm(FlaskForm):
    submit = SubmitField()
