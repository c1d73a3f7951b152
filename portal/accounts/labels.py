"""Names of roles and organisation kinds as users read them."""
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "regulator_officer": _l("Regulator officer"),
    "regulator_supervisor": _l("Regulator supervisor"),
    "platform_agent": _l("Platform agent"),
    "platform_admin": _l("Platform administrator"),
    "secretariat": _l("Secretariat"),
    "system_admin": _l("System administrator"),
}

KIND_LABELS = {
    "agency": _l("Agency"),
    "platform": _l("Platform"),
    "secretariat": _l("Secretariat"),
}


def role_name(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def kind_name(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
