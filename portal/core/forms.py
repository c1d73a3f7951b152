"""Form mechanisms: every form reads its fields through portal.core.input (PortalForm), and a service's
refusal is copied onto the field it names (refuse)."""
from datetime import date

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeField, DecimalField, FloatField, IntegerField, SelectField, TextAreaField
from wtforms.fields import FieldList, FormField
from wtforms.validators import ValidationError as FieldError

from portal.core import input as reader
from portal.core import transaction, zones
from portal.core.exceptions import DomainError, ValidationError

DATE_RANGE_MESSAGE = _l("Give a date between 2000 and 2100.")
ZONE_MESSAGE = _l("Choose a time zone from the list.")


class PortalForm(FlaskForm):
    """The base of every form of the portal: after WTForms' own validators, each field's data passes
    through the one input reader (NFC text without control characters, ASCII-digit integers, dates within
    2000-2100); a value it refuses is an error on its field, in the viewer's language."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            try:
                _read_field(field)
            except reader.InputError as exc:
                field.errors = [*field.errors, str(exc.message)] if isinstance(field.errors, list) else [
                    str(exc.message)]
                valid = False
        return valid


class ZoneField(SelectField):
    """The time-zone picker (`portal.core.zones`): one <optgroup> per region, each zone named in the viewer's
    language with its offset now; `zone-picker.js` adds a search box above it. The value is the IANA name,
    and only a zone the list offers is accepted."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, choices=lambda: zones.grouped(), **kwargs)

    def process_data(self, value):
        # A stored old alias (US/Pacific) shows as the zone it stands for, so saving keeps the same time.
        super().process_data(zones.canonical(value) or value)

    def pre_validate(self, form):
        if not zones.is_offered(self.data):
            raise FieldError(str(ZONE_MESSAGE))

    def __call__(self, **kwargs):
        # What the search box says, in the page's language (the script has no catalogue of its own).
        kwargs.setdefault("data-zone-picker", "")
        kwargs.setdefault("data-search-label", gettext("Find a time zone by city, country or UTC offset"))
        kwargs.setdefault("data-no-match", gettext("No time zone matches; all are listed."))
        return super().__call__(**kwargs)


def _read_field(field) -> None:
    if isinstance(field, (FieldList, FormField)):
        for sub in field:
            _read_field(sub)
        return
    if field.type in ("CSRFTokenField", "FileField", "MultipleFileField", "PasswordField"):
        return
    raw = field.raw_data[0] if getattr(field, "raw_data", None) else None
    if isinstance(field, IntegerField) or (isinstance(field.data, int) and not isinstance(field.data, bool)):
        if isinstance(raw, str) and raw.strip():
            reader.integer(raw, field=field.name, low=-reader.MAX_INT - 1)
        return
    if isinstance(field, (DecimalField, FloatField)):
        if isinstance(raw, str) and not raw.isascii():
            raise reader.InputError(field.name, reader.INTEGER_MESSAGE % {"low": 0, "high": reader.MAX_INT})
        return
    if isinstance(field.data, date) or isinstance(field, DateTimeField):
        if isinstance(field.data, date) and not 2000 <= field.data.year <= 2100:
            raise reader.InputError(field.name, DATE_RANGE_MESSAGE)
        return
    if isinstance(field.data, str):
        field.data = reader.text(field.data, field=field.name, long=isinstance(field, TextAreaField))
    elif isinstance(raw, str):
        reader.text(raw, field=field.name, long=isinstance(field, TextAreaField))


def refuse(form: FlaskForm, error: DomainError) -> None:
    """Undo whatever the refused service had flushed and show its message on the form."""
    transaction.discard()
    field = getattr(error, "field", None) if isinstance(error, ValidationError) else None
    if field and field in form:
        form[field].errors = list(form[field].errors) + [str(error.message)]
    else:
        form.form_errors.append(str(error.message))
