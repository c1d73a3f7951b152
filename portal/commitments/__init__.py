"""Compliance commitments: versioned bilingual templates, a platform's commitment signed by its authorised
signatory after a fresh second factor and countersigned by an agency, the evidence of it, and the public
signatory registry."""
from flask import Blueprint

bp = Blueprint("commitments", __name__)

from portal.commitments import views  # noqa: E402,F401
from portal.core import jobs  # noqa: E402


def _reminders() -> dict:
    from portal.commitments.followup import send_renewal_reminders

    return send_renewal_reminders()


def _expire() -> dict:
    from portal.commitments.followup import expire_commitments

    return expire_commitments()


jobs.register("commitments.expire", _expire, order=55)
jobs.register("commitments.renewal_reminders", _reminders, order=75)


@bp.record_once
def _labels(state):
    from portal.commitments.labels import TEMPLATE_HELPERS

    state.app.jinja_env.globals.update(TEMPLATE_HELPERS)
