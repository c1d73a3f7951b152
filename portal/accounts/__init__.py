"""Accounts: organisations, users, login with mandatory TOTP, sessions, invitations, password reset."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)

from portal.accounts import views  # noqa: E402,F401


# The domains' template helpers are the templates' globals, set once (a context processor ran for every
# template drawn, and merged its names into the context again).
@bp.record_once
def _labels(state):
    from portal.accounts.labels import kind_name, role_name

    state.app.jinja_env.globals.update(role_name=role_name, kind_name=kind_name)
