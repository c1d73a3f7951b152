from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.commitments.text import MAX_BODY


class TemplateForm(FlaskForm):
    title_ko = StringField(_l("Title in Korean"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=300)])
    body_ko = TextAreaField(_l("Text in Korean (authoritative)"), validators=[DataRequired(), Length(max=MAX_BODY)])
    body_en = TextAreaField(_l("Text in English"), validators=[DataRequired(), Length(max=MAX_BODY)])
    submit = SubmitField(_l("Save the template"))


class CommitmentForm(FlaskForm):
    template = SelectField(_l("Template"), coerce=int, validators=[DataRequired()])
    platform = SelectField(_l("Platform"), validators=[DataRequired()])
    countersigning_agency = SelectField(_l("Countersigning agency"), validators=[DataRequired()])
    effective_from = DateField(_l("Effective from"), validators=[DataRequired()])
    valid_until = DateField(_l("Valid until"), validators=[DataRequired()])
    submit = SubmitField(_l("Create the commitment"))


class SignForm(FlaskForm):
    name = StringField(_l("Your full name"), validators=[DataRequired(), Length(max=200)])
    title = StringField(_l("Your title"), validators=[DataRequired(), Length(max=200)])
    consent = BooleanField(_l("I agree to the sentence above"), validators=[DataRequired()])
    document_sha256 = StringField(validators=[DataRequired(), Length(min=64, max=64)])
    code = StringField(_l("A new code from your authenticator app"), validators=[DataRequired(), Length(max=12)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("Sign"))


class CountersignForm(FlaskForm):
    document_sha256 = StringField(validators=[DataRequired(), Length(min=64, max=64)])
    code = StringField(_l("A new code from your authenticator app"), validators=[DataRequired(), Length(max=12)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("Countersign"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Withdraw the commitment"))


class RenewForm(FlaskForm):
    effective_from = DateField(_l("Effective from"), validators=[DataRequired()])
    valid_until = DateField(_l("Valid until"), validators=[DataRequired()])
    submit = SubmitField(_l("Renew the commitment"))
