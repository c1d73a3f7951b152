"""Accounts: organisations, users, login with mandatory TOTP, sessions, invitations, password reset."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)

from portal.accounts import views  # noqa: E402,F401


@bp.app_context_processor
def _labels():
    from portal.accounts.labels import kind_name, role_name

    return {"role_name": role_name, "kind_name": kind_name}
