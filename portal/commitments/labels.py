"""Names of commitment states, for pages and the registry."""
from flask_babel import lazy_gettext as _l

from portal.commitments import models

STATUS_NAMES = {
    models.DRAFT: _l("Draft"),
    models.AWAITING_SIGNATURE: _l("Awaiting signature"),
    models.SIGNED: _l("Signed by the platform"),
    models.IN_FORCE: _l("In force"),
    models.EXPIRED: _l("Expired"),
    models.SUPERSEDED: _l("Superseded"),
    models.WITHDRAWN: _l("Withdrawn"),
}


def commitment_status_name(status: str) -> str:
    return str(STATUS_NAMES.get(status, status))


TEMPLATE_HELPERS = {"commitment_status_name": commitment_status_name}
