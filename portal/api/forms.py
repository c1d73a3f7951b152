from flask_babel import lazy_gettext as _l
from portal.core.forms import PortalForm
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from portal.api.tokens import MAX_NAME, VALIDITY_DAYS

SCOPE_LABELS = (
    ("requests:read", _l("Read requests, items, messages and documents")),
    ("requests:write", _l("Draft, submit, approve, withdraw, close and reopen requests; post messages")),
    ("requests:respond", _l("Acknowledge, record outcomes, respond, ask for extensions; post messages")),
)


class TokenForm(PortalForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_NAME)])
    scopes = SelectMultipleField(_l("Scopes"), choices=SCOPE_LABELS, validators=[DataRequired()],
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    valid_days = SelectField(_l("Valid for"), coerce=int, default=90,
                             choices=[(days, _l("%(n)s days", n=days)) for days in VALIDITY_DAYS])
    submit = SubmitField(_l("Create token"))


class ConfirmForm(PortalForm):
    pass
