from flask_babel import lazy_gettext as _l
from portal.core.forms import PortalForm
from wtforms import SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

# In the order of portal.webhooks.models.EVENTS.
EVENT_LABELS = (
    ("request.issued", _l("A request to your platform is issued")),
    # Translators: sent with the reminder e-mail, some hours before the deadline.
    ("request.deadline_approaching", _l("The deadline of a request is approaching")),
    ("request.overdue", _l("A request becomes overdue")),
    ("request.message", _l("The agency posts a message on a request")),
    ("request.closed", _l("A request is closed")),
    ("consultation.scheduled", _l("A consultation with your platform is scheduled")),
    ("consultation.rescheduled", _l("A consultation with your platform moves to another time")),
    ("consultation.cancelled", _l("A consultation with your platform is cancelled")),
    ("minutes.circulated", _l("The minutes of a consultation with your platform are circulated for comments")),
    ("minutes.published", _l("The minutes of a consultation with your platform are published")),
    ("action_item.assigned", _l("An action item is assigned to your platform")),
    ("commitment.awaiting_signature", _l("A compliance commitment awaits your platform's signature")),
    ("commitment.in_force", _l("A compliance commitment of your platform is in force")),
    ("commitment.expiring", _l("A compliance commitment of your platform is about to expire")),
)


def event_name(event: str) -> str:
    return str(dict(EVENT_LABELS).get(event, event))


class EndpointForm(PortalForm):
    # The service checks the address and the events and says what is wrong in the viewer's language.
    url = StringField(_l("Address (URL)"), validators=[DataRequired()])
    events = SelectMultipleField(_l("Events"), choices=EVENT_LABELS, option_widget=CheckboxInput(),
                                 widget=ListWidget(prefix_label=False))
    submit = SubmitField(_l("Register endpoint"))


class ButtonForm(PortalForm):
    """A button that posts (with its CSRF token) and carries nothing else."""
