from flask_babel import lazy_gettext as _l
from portal.core.forms import PortalForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.requests.labels import (
    CATEGORY_LABELS,
    OUTCOME_LABELS,
    PRIORITY_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    choices,
)


def _blank(label):
    return [("", str(label))]


class DraftForm(PortalForm):
    platform_id = SelectField(_l("Platform"), coerce=int, validators=[DataRequired()])
    request_type = SelectField(_l("Type"), choices=lambda: choices(TYPE_LABELS))
    category = SelectField(_l("Category"), choices=lambda: choices(CATEGORY_LABELS))
    priority = SelectField(_l("Priority"), choices=lambda: choices(PRIORITY_LABELS), default="standard")
    legal_basis_id = SelectField(_l("Legal basis"), coerce=lambda v: int(v) if v else None)
    legal_basis_text = TextAreaField(_l("Legal basis, in your words"), validators=[Length(max=10000)])
    # Translators: the Korean summary is the authoritative text of the request.
    summary_ko = TextAreaField(_l("Summary in Korean (authoritative)"), validators=[DataRequired(), Length(max=10000)])
    summary_en = TextAreaField(_l("Summary in English"), validators=[DataRequired(), Length(max=10000)])
    submit = SubmitField(_l("Save the draft"))


class ItemsForm(PortalForm):
    lines = TextAreaField(_l("Addresses, one per line"), render_kw={"rows": 20, "spellcheck": "false"})
    csv_file = FileField(_l("Or a CSV file (columns url, sha256, md5, pdq, note)"))
    submit = SubmitField(_l("Add the items"))


class ReasonForm(PortalForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Confirm"))


class ButtonForm(PortalForm):
    """A state change with nothing to enter: POST with a CSRF token."""
    submit = SubmitField(_l("Confirm"))


class OutcomeForm(PortalForm):
    # No default: an outcome is a statement of the platform, chosen each time ("" until then).
    outcome = SelectField(_l("Outcome"), choices=lambda: [("", _l("Choose an outcome"))] + choices(OUTCOME_LABELS),
                          validators=[DataRequired(_l("Choose an outcome."))])
    decline_reason = TextAreaField(_l("Reason for declining"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Record the outcome"))


class ExtensionForm(PortalForm):
    reason = TextAreaField(_l("Why more time is needed"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Ask for an extension"))


class GrantForm(PortalForm):
    # Translators: the date and time are entered in Korea Standard Time.
    new_deadline = DateTimeLocalField(_l("New deadline (KST)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    reason = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Grant the extension"))


class MessageForm(PortalForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=10000)], render_kw={"rows": 4})
    submit = SubmitField(_l("Send the message"))


class NoteForm(PortalForm):
    body = TextAreaField(_l("Internal note (only your agency sees it)"), validators=[DataRequired(), Length(max=10000)],
                         render_kw={"rows": 3})
    submit = SubmitField(_l("Add the note"))


class AttachmentForm(PortalForm):
    file = FileField(_l("Document (PDF, plain text or CSV, at most 20 MB)"))
    submit = SubmitField(_l("Attach"))


class SearchForm(PortalForm):
    # Posted, never put in the address bar: a reported address must not end up in a query string.
    q = StringField(_l("Reference or reported address"), validators=[DataRequired(), Length(max=2048)])
    submit = SubmitField(_l("Search"))


# What the list's status filter may be: still owed an answer, all, or one status of an issued request.
FILTER_STATUSES = ("open", "all", *(k for k in STATUS_LABELS if k not in ("draft", "awaiting_approval")))


class FilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    status = SelectField(_l("Status"), choices=lambda: [("open", str(_l("Open (answer due)"))), ("all", str(_l("All")))]
                         + [(k, str(STATUS_LABELS[k])) for k in FILTER_STATUSES[2:]], default="open")
    request_type = SelectField(_l("Type"), choices=lambda: _blank(_l("Any type")) + choices(TYPE_LABELS), default="")
    priority = SelectField(_l("Priority"), choices=lambda: _blank(_l("Any priority")) + choices(PRIORITY_LABELS),
                           default="")
    category = SelectField(_l("Category"), choices=lambda: _blank(_l("Any category")) + choices(CATEGORY_LABELS),
                           default="")
    overdue = BooleanField(_l("Overdue only"))
    unread = BooleanField(_l("Unread messages only"))
    submit = SubmitField(_l("Filter"))


class LegalBasisForm(PortalForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name_ko = StringField(_l("Name in Korean"), validators=[DataRequired(), Length(max=300)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Add the legal basis"))
