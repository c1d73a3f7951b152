"""The main menu: each entry shows only to the roles whose permission it needs."""
from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.core import policy
from portal.i18n import current_language

# (endpoint, label, permission). Domains add their entries with `add`.
ENTRIES: list[tuple[str, object, str]] = [
    ("dashboard.home", _l("Home"), "dashboard.view"),
    ("requests.index", _l("Requests"), "request.view"),
    ("requests.new", _l("New request"), "request.draft"),
    ("consultations.index", _l("Consultations"), "consultation.view"),
    ("reports.scorecard", _l("Scorecards"), "report.view"),
    ("commitments.index", _l("Commitments"), "commitment.view"),
    ("commitments.signatories", _l("Signatories"), "signatory.manage"),
    ("requests.settings", _l("Request settings"), "legal_basis.manage"),
    ("admin.organisations", _l("Organisations"), "organisation.view"),
    ("admin.users", _l("Users"), "user.view"),
    ("admin.contacts", _l("Designated contacts"), "contact.manage"),
    ("admin.audit_log", _l("Audit log"), "audit.view"),
    ("admin.outbox", _l("Outbox"), "outbox.view"),
    ("api_pages.admin_tokens", _l("API tokens"), "api_token.revoke_any"),
    ("webhooks.index", _l("Webhooks"), "webhook.manage"),
    ("accounts.account", _l("My account"), "account.manage_own"),
]


# The menu depends on the role and the language alone: made once for each pair.
_MENUS: dict[tuple[str, str], list[tuple[str, str]]] = {}


def main_menu() -> list[tuple[str, str]]:
    user = current_user._get_current_object()
    if not user.is_authenticated or not user.active:
        return []
    key = (user.role, current_language())
    if key not in _MENUS:
        _MENUS[key] = [(endpoint, str(label)) for endpoint, label, permission in ENTRIES
                       if policy.can_role(user.role, permission)]
    return _MENUS[key]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["main_menu"] = main_menu
