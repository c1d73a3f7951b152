"""Minutes: the secretariat's record of each consultation, drafted per agenda item in both languages,
circulated for comments, approved, published (locked) and amended in new versions; attendance, decisions,
and action items that follow the requests."""
from flask import Blueprint

bp = Blueprint("minutes", __name__, url_prefix="/minutes")

from portal.minutes import views  # noqa: E402,F401
from portal.core import jobs  # noqa: E402


def _reminders() -> dict:
    from portal.minutes.followup import send_reminders

    return send_reminders()


jobs.register("minutes.action_item_reminders", _reminders, order=75)


@bp.record_once
def _helpers(state):
    from portal.minutes.labels import TEMPLATE_HELPERS

    state.app.jinja_env.globals.update(TEMPLATE_HELPERS)
