"""Consultations: meetings of the body and bilateral consultations with a platform, scheduled across time
zones, with calendar invitations every client understands, RSVPs, reminders and an agenda."""
from flask import Blueprint

bp = Blueprint("consultations", __name__, url_prefix="/consultations")

from portal.consultations import views  # noqa: E402,F401
from portal.core import jobs  # noqa: E402


def _reminders() -> dict:
    from portal.consultations.followup import send_reminders

    return send_reminders()


def _freeze() -> dict:
    from portal.consultations.followup import freeze_agendas

    return freeze_agendas()


# After the requests' tick (order 50), so that a request marked very overdue this round is on the agenda.
jobs.register("consultations.freeze_agendas", _freeze, order=60)
jobs.register("consultations.reminders", _reminders, order=70)


@bp.record_once
def _labels(state):
    from portal.consultations.labels import TEMPLATE_HELPERS

    state.app.jinja_env.globals.update(TEMPLATE_HELPERS)
