"""Formal requests: agencies issue takedown, blocking, preservation and information requests to
platforms, which acknowledge and answer them item by item within a deadline."""
from flask import Blueprint

bp = Blueprint("requests", __name__, url_prefix="/requests")

from portal.requests import views  # noqa: E402,F401
from portal.core import jobs  # noqa: E402


def _tick() -> dict:
    from portal.requests.services import tick

    return tick()


jobs.register("requests.tick", _tick)


@bp.record_once
def _labels(state):
    from portal.requests import deadlines
    from portal.requests.labels import TEMPLATE_HELPERS
    from portal.requests.services.queries import next_sort, sort_direction

    state.app.jinja_env.globals.update(
        TEMPLATE_HELPERS, deadline_cell=_deadline_cell, deadline_explanation=deadlines.explanation,
        deadline_countdown=deadlines.countdown, sort_direction=sort_direction, next_sort=next_sort)


def _deadline_cell(req, now=None, explain: bool = True):
    from portal.requests.listing import Viewer, deadline_cell

    return deadline_cell(req, Viewer.current(now), explain)
