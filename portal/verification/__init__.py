"""Public verification of issued documents (no login): by reference and code, by QR code, or by the file."""
from flask import Blueprint

bp = Blueprint("verification", __name__)

from portal.verification import views  # noqa: E402,F401
