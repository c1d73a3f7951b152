"""Site-wide pages: health check, language choice, the design system's files."""
from pathlib import Path

from flask import Blueprint

KRDS_RESOURCES = Path(__file__).resolve().parents[2] / "node_modules" / "krds-uiux" / "resources"

bp = Blueprint("site", __name__, static_folder=str(KRDS_RESOURCES), static_url_path="/static/krds")

from portal.site import views  # noqa: E402,F401
