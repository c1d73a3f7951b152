"""Who may do what, asked by name.

Every view states its access with `@access(...)`; a view that does not is refused (deny by default) and a
test walks the URL map to prove each one does. Permissions are granted to roles here and nowhere else.
Objects of another organisation answer 404, never 403, so their existence is not revealed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user

from portal.extensions import db

# Roles and the organisation kind each belongs to (None: any kind).
ROLES: dict[str, str | None] = {
    "regulator_officer": "agency",
    "regulator_supervisor": "agency",
    "platform_agent": "platform",
    "platform_admin": "platform",
    "secretariat": "secretariat",
    "system_admin": None,
}

REGULATORS = frozenset({"regulator_officer", "regulator_supervisor"})
PLATFORM = frozenset({"platform_agent", "platform_admin"})
EVERYONE = frozenset(ROLES)

# The role matrix. A permission names a job; its roles may do it (within the scope rules below).
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard.view": EVERYONE,
    "account.manage_own": EVERYONE,
    "organisation.view": frozenset({"system_admin", "secretariat"}),
    "organisation.manage": frozenset({"system_admin", "secretariat"}),
    "user.view": frozenset({"system_admin", "secretariat", "platform_admin"}),
    "user.invite": frozenset({"system_admin", "secretariat", "platform_admin"}),
    "user.deactivate": frozenset({"system_admin", "platform_admin"}),
    "user.reset_2fa": frozenset({"system_admin", "platform_admin"}),
    # A platform's designated contacts: the addresses escalations go to besides its users.
    "contact.manage": frozenset({"system_admin", "secretariat", "platform_admin"}),
    "audit.view": frozenset({"system_admin"}),
    "outbox.view": frozenset({"system_admin"}),
    # --- Formal requests (portal/requests) ---------------------------------------------------------
    # Agencies reach the requests they issue, platforms those addressed to them (once issued).
    "request.view": REGULATORS | PLATFORM,
    "request.draft": REGULATORS,  # create, edit, delete drafts, submit them for approval
    "request.approve": frozenset({"regulator_supervisor"}),  # approve and issue, or send back
    "request.withdraw": REGULATORS,
    "request.close": REGULATORS,  # close, reopen
    "request.note": REGULATORS,  # internal notes the platform never sees
    "request.respond": PLATFORM,  # acknowledge, outcomes, submit the response, ask for an extension
    "request.decide_extension": frozenset({"regulator_supervisor"}),
    "request.message": REGULATORS | PLATFORM,
    "request.attach": REGULATORS | PLATFORM,
    "legal_basis.manage": frozenset({"system_admin", "secretariat"}),
    "deadline_policy.manage": frozenset({"system_admin", "secretariat"}),
    # --- Consultations (portal/consultations) -----------------------------------------------------------
    # Agencies and platforms see those they organise or are invited to (a platform once times are
    # proposed); the secretariat, which keeps the body's record, sees every one.
    "consultation.view": REGULATORS | PLATFORM | frozenset({"secretariat"}),
    # Create, propose times, schedule, reschedule, cancel, keep the agenda: within its own organisation.
    "consultation.organise": REGULATORS | frozenset({"secretariat"}),
    # An invited platform picks times or proposes another.
    "consultation.respond": PLATFORM,
    # --- Minutes and action items (portal/minutes) ---------------------------------------------------------
    # The secretariat keeps the minutes; once circulated, whoever sees the consultation reads them.
    "minutes.view": REGULATORS | PLATFORM | frozenset({"secretariat"}),
    # Draft, edit, circulate, approve, publish, amend; attendance, decisions and action items.
    "minutes.keep": frozenset({"secretariat"}),
    # Comment on circulated minutes: the secretariat and the participants' organisations.
    "minutes.comment": REGULATORS | PLATFORM | frozenset({"secretariat"}),
    # Mark an action item done or dropped: its owner organisation, or the secretariat.
    "action_item.update": REGULATORS | PLATFORM | frozenset({"secretariat"}),
    # --- Reports (portal/reports) -------------------------------------------------------------------------
    # Scorecards and the measures: agencies and the secretariat see every platform, a platform only its own
    # (portal.reports.services.visible_platform_ids narrows it; there is no object to scope).
    "report.view": REGULATORS | PLATFORM | frozenset({"secretariat"}),
    # The transparency report (CSV, PDF) covers every platform: agencies and the secretariat.
    "report.export": REGULATORS | frozenset({"secretariat"}),
    # --- Compliance commitments (portal/commitments) --------------------------------------------------
    "commitment_template.manage": frozenset({"secretariat"}),
    # Make a commitment for a platform (a supervisor for their own agency), send it, renew it.
    "commitment.create": frozenset({"secretariat", "regulator_supervisor"}),
    # Its agency's and its platform's users (once sent for signature); the secretariat sees every one.
    "commitment.view": REGULATORS | PLATFORM | frozenset({"secretariat"}),
    # Only a platform user the platform admin named authorised signatory (User.authorised_signatory).
    "commitment.sign": PLATFORM,
    "commitment.countersign": frozenset({"regulator_supervisor"}),
    "commitment.withdraw": frozenset({"regulator_supervisor"}),
    # Name a platform's users authorised signatories.
    "signatory.manage": frozenset({"platform_admin"}),
    # --- Issued documents (portal/core/documents, portal/documents) ------------------------------------
    # Download a stored PDF: its issuer's users and its recipient's (see OWN_ORGANISATION_ONLY).
    # Verification of a document is public (policy.PUBLIC) and needs no permission.
    "document.download": REGULATORS | PLATFORM | frozenset({"secretariat"}),
    # --- API (portal/api) ------------------------------------------------------------------------------
    # Every user manages their own tokens (account.manage_own); administrators revoke other people's.
    "api_token.revoke_any": frozenset({"system_admin", "platform_admin"}),
    # A platform's webhook endpoints (portal/webhooks): register, disable, delete, ping, read the log.
    "webhook.manage": frozenset({"platform_admin"}),
}

# Roles whose reach is their own organisation only, per permission.
OWN_ORGANISATION_ONLY: dict[str, frozenset[str]] = {
    "user.view": frozenset({"platform_admin"}),
    "user.invite": frozenset({"platform_admin"}),
    "user.deactivate": frozenset({"platform_admin"}),
    "user.reset_2fa": frozenset({"platform_admin"}),
    "contact.manage": frozenset({"platform_admin"}),
    # --- Formal requests: every role reaches only its own organisation's side of a request ----------
    **{permission: REGULATORS | PLATFORM for permission in (
        "request.view", "request.draft", "request.approve", "request.withdraw", "request.close",
        "request.note", "request.respond", "request.decide_extension", "request.message", "request.attach",
    )},
    # --- Consultations: only those of its organisation, as organiser or invitee -----------------------
    "consultation.view": REGULATORS | PLATFORM,
    "consultation.organise": REGULATORS | frozenset({"secretariat"}),
    "consultation.respond": PLATFORM,
    # --- Minutes: those of its organisation's consultations; action items its organisation owns --------
    "minutes.view": REGULATORS | PLATFORM,
    "minutes.comment": REGULATORS | PLATFORM,
    "action_item.update": REGULATORS | PLATFORM,
    # --- Commitments: only those of its organisation, as countersigning agency or platform ----------------
    "commitment.view": REGULATORS | PLATFORM,
    "commitment.sign": PLATFORM,
    "commitment.countersign": frozenset({"regulator_supervisor"}),
    "commitment.withdraw": frozenset({"regulator_supervisor"}),
    "signatory.manage": frozenset({"platform_admin"}),
    # --- Issued documents: only those its organisation issued or received ----------------------------
    "document.download": REGULATORS | PLATFORM | frozenset({"secretariat"}),
    # --- API: a platform admin revokes only its own organisation's tokens ---------------------------------
    "api_token.revoke_any": frozenset({"platform_admin"}),
    # --- Webhooks: a platform admin manages its own organisation's endpoints only ---------------------------
    "webhook.manage": frozenset({"platform_admin"}),
}

# Roles each role may hand out by invitation.
INVITABLE_ROLES: dict[str, frozenset[str]] = {
    "system_admin": EVERYONE,
    "secretariat": EVERYONE - {"system_admin"},
    "platform_admin": PLATFORM,
}

PUBLIC = "public"
AUTHENTICATED = "authenticated"
# Views that serve the login flow itself: no full session yet.
LOGIN_FLOW = "login_flow"


class PermissionDenied(Exception):
    def __init__(self, permission: str, obj=None):
        super().__init__(permission)
        self.permission = permission
        self.obj = obj


def roles_with(permission: str) -> frozenset[str]:
    return PERMISSIONS[permission]


def can(user, permission: str, obj=None) -> bool:
    """True when `user` may do `permission`, on `obj` when given."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    if user.role not in PERMISSIONS[permission]:
        return False
    if obj is not None and user.role in OWN_ORGANISATION_ONLY.get(permission, ()):
        return organisation_of(obj, user) == user.organisation_id
    return True


def organisation_of(obj, user=None) -> int | None:
    # An object shared by two organisations (a request: its agency and its platform) names the one
    # through which this user reaches it, or None when the user's organisation has no side in it.
    if user is not None and hasattr(obj, "owning_organisation_id_for"):
        return obj.owning_organisation_id_for(user)
    if hasattr(obj, "owning_organisation_id"):
        return obj.owning_organisation_id
    return getattr(obj, "organisation_id", None)


def require(user, permission: str, obj=None) -> None:
    """Refuse unless `user` may do `permission` (on `obj`). Another organisation's object: 404."""
    if can(user, permission, obj):
        return
    raise PermissionDenied(permission, obj)


def visible(user, obj, permission: str) -> bool:
    """Whether the object may be shown at all: outside the user's reach it does not exist for them."""
    return can(user, permission, obj)


def scoped(query, model, user, permission: str):
    """Narrow a select() of `model` to what `user` may see for `permission`."""
    if user.role not in PERMISSIONS[permission]:
        return query.where(db.false())
    if user.role in OWN_ORGANISATION_ONLY.get(permission, ()):
        if hasattr(model, "scope_clause_for"):  # shared objects say which side the user is on
            return query.where(model.scope_clause_for(user))
        return query.where(model.organisation_id == user.organisation_id)
    return query


def access(rule: str | Mapping[str, str]) -> Callable:
    """Declare who may reach a view: PUBLIC, LOGIN_FLOW, AUTHENTICATED, or a permission name; or, for a view
    whose methods do different jobs, one of these per method (`{"GET": "request.view", "POST": ...}`; HEAD
    follows GET, and a method not named is refused)."""
    rules = dict(rule) if isinstance(rule, Mapping) else None
    for name in (rules.values() if rules is not None else (rule,)):
        if name not in (PUBLIC, AUTHENTICATED, LOGIN_FLOW) and name not in PERMISSIONS:
            raise KeyError(f"unknown access rule {name!r}")

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(*args, **kwargs)

        wrapped.access_rule = rules if rules is not None else rule
        return wrapped

    return decorate


def access_rule_of(endpoint: str, method: str | None = None) -> str | Mapping[str, str] | None:
    return access_rule_of_view(current_app, endpoint, method)


def access_rule_of_view(app, endpoint: str, method: str | None = None) -> str | Mapping[str, str] | None:
    """The rule a view declares; with `method`, the one that applies to that method (None: refused)."""
    rule = getattr(app.view_functions.get(endpoint), "access_rule", None)
    if method is None or not isinstance(rule, Mapping):
        return rule
    if method in ("HEAD", "OPTIONS"):  # OPTIONS only lists the methods: as strict as the page itself
        return rule.get("GET") or next(iter(rule.values()))
    return rule.get(method)


def can_role(role: str, permission: str) -> bool:
    """The bare matrix, before any scope rule."""
    return role in PERMISSIONS[permission]


def enforce_access() -> None:
    """before_request: refuse any view without a declared rule, and apply the declared one."""
    if request.endpoint is None:
        return  # 404/405 handled by Flask
    if request.endpoint == "static" or request.endpoint.endswith(".static"):
        return  # files of the portal's own look; nothing personal is served this way
    rule = access_rule_of(request.endpoint, request.method)
    if rule is None:
        current_app.logger.error("view %s declares no access rule; refused", request.endpoint)
        raise PermissionDenied("undeclared")
    if rule in (PUBLIC, LOGIN_FLOW):
        return
    if not current_user.is_authenticated:
        abort(401)
    if rule == AUTHENTICATED:
        return
    require(current_user, rule)


def permissions_of(role: str) -> Iterable[str]:
    return sorted(p for p, roles in PERMISSIONS.items() if role in roles)
