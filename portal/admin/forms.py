"""Forms of the administration pages. Choices that depend on who is acting are filled in by the view."""
from flask_babel import lazy_gettext as _l
from portal.core import input as reader
from portal.core.forms import PortalForm, ZoneField
from wtforms import DateField, EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.accounts.forms import LANGUAGE_CHOICES
from portal.accounts.labels import KIND_LABELS, ROLE_LABELS
from portal.accounts.services import EMAIL_SHAPE
from portal.core.outbox import STATUSES


def _kinds():
    return [(kind, str(label)) for kind, label in KIND_LABELS.items()]


def _int_or_none(value):
    try:
        return reader.optional_integer(value) if isinstance(value, str) or value is None else int(value)
    except (reader.InputError, TypeError, ValueError):
        return None


class OrganisationForm(PortalForm):
    # Translators: a short code of an organisation, e.g. KCSC; it starts request reference numbers.
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=12)],
                       render_kw={"autocomplete": "off", "spellcheck": "false"})
    kind = SelectField(_l("Kind of organisation"), choices=_kinds)
    name_ko = StringField(_l("Name in Korean"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    country = StringField(_l("Country"), validators=[DataRequired(), Length(max=2)], default="KR",
                          render_kw={"autocomplete": "off", "maxlength": 2})
    timezone = ZoneField(_l("Time zone"), default="Asia/Seoul")
    submit = SubmitField(_l("Create the organisation"))


class InviteForm(PortalForm):
    # A plain shape check: the address is proven when the invitee opens the link sent to it.
    email = EmailField(_l("E-mail address"), validators=[
        DataRequired(), Length(max=254),
        Regexp(EMAIL_SHAPE, message=_l("Enter an e-mail address such as name@example.org."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    organisation = SelectField(_l("Organisation"), coerce=_int_or_none, validators=[DataRequired()])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    # Translators: the language of the invitation e-mail and of the new account.
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="ko")
    submit = SubmitField(_l("Send the invitation"))


class ContactForm(PortalForm):
    """A designated contact. The language is checked by the service, which says what is wrong; the zone by
    its field (only a zone the picker offers), and again by the service."""
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "off", "spellcheck": "false"})
    # Translators: the language of the e-mails sent to a designated contact.
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="en", validate_choice=False)
    timezone = ZoneField(_l("Time zone"), default="Asia/Seoul")
    # Translators: what a designated contact's address is for, e.g. "24/7 on-call, escalations only".
    notes = TextAreaField(_l("Purpose and notes"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})
    submit = SubmitField(_l("Save"))


class NewContactForm(ContactForm):
    # A contact stays with the platform it was added to.
    organisation = SelectField(_l("Platform"), coerce=_int_or_none, validators=[DataRequired()])


class RoleForm(PortalForm):
    role = SelectField(_l("New role"), validators=[DataRequired()])
    submit = SubmitField(_l("Change the role"))


class _FilterForm(PortalForm):
    """Filters travel in the query string of a GET: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False


class UserFilterForm(_FilterForm):
    q = StringField(_l("E-mail address or name"), validators=[Optional(), Length(max=254)])
    organisation = SelectField(_l("Organisation"), coerce=_int_or_none, validate_choice=False)
    role = SelectField(_l("Role"), validate_choice=False,
                       choices=lambda: [("", str(_l("All")))] + [(r, str(l)) for r, l in ROLE_LABELS.items()])
    # Translators: filter of the user list: all accounts, active ones or deactivated ones.
    active = SelectField(_l("Status"), validate_choice=False, choices=lambda: [
        ("", str(_l("All"))), ("yes", str(_l("Active"))), ("no", str(_l("Deactivated")))])


class ContactFilterForm(_FilterForm):
    organisation = SelectField(_l("Platform"), coerce=_int_or_none, validate_choice=False)


class AuditFilterForm(_FilterForm):
    # Translators: filter of the audit log: the e-mail address of the person who acted.
    actor = StringField(_l("Actor's e-mail address"), validators=[Optional(), Length(max=254)])
    organisation = SelectField(_l("Organisation"), coerce=_int_or_none, validate_choice=False)
    # Translators: filter of the audit log; the start of an action's name is enough, e.g. "login".
    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
    # Translators: first day of a period, a date in Korea Standard Time.
    date_from = DateField(_l("From (KST)"), validators=[Optional()])
    # Translators: last day of a period (included), a date in Korea Standard Time.
    date_to = DateField(_l("To (KST)"), validators=[Optional()])


OUTBOX_STATUS_LABELS = {
    # Translators: an e-mail waiting in the outbox to be sent.
    "pending": _l("Queued"),
    # Translators: an e-mail handed to the mail server; stuck here, it is not retried automatically.
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}


def outbox_status_name(status: str) -> str:
    return str(OUTBOX_STATUS_LABELS.get(status, status))


class OutboxFilterForm(_FilterForm):
    status = SelectField(_l("Status"), validate_choice=False, choices=lambda: [("", str(_l("All")))] + [
        (status, outbox_status_name(status)) for status in STATUSES])
