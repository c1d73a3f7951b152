"""Reports: the measures of how platforms answer requests (defined once in `measures`), per-platform
scorecards, the role dashboards' counts and the transparency report (CSV and PDF)."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from portal.reports import views  # noqa: E402,F401


@bp.record_once
def _labels(state):
    from portal.reports.labels import measure_name

    state.app.jinja_env.globals.update(measure_name=measure_name)
