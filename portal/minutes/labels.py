"""How the minutes' states, attendance and action items read in the current language, and the helpers
other domains' pages use to show action items (the home page, a request's page)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user

STATUS_NAMES = {
    "draft": _l("Draft"), "circulated": _l("Circulated for comments"), "approved": _l("Approved"),
    "published": _l("Published"), "superseded": _l("Amended (superseded)"),
}
ATTENDANCE_NAMES = {"present": _l("Present"), "remote": _l("Remote"), "excused": _l("Excused"),
                    "absent": _l("Absent")}
ACTION_STATUS_NAMES = {"open": _l("Open"), "done": _l("Done"), "dropped": _l("Dropped")}
REVISION_KINDS = {"edit": _l("Edited"), "merged": _l("Merged with a concurrent edit"),
                  "restored": _l("Restored"), "confirmed": _l("Translation confirmed")}


def minutes_status_name(status: str) -> str:
    return str(STATUS_NAMES.get(status, status))


def attendance_name(status: str) -> str:
    return str(ATTENDANCE_NAMES.get(status, status))


def action_status_name(status: str) -> str:
    return str(ACTION_STATUS_NAMES.get(status, status))


def revision_kind_name(kind: str) -> str:
    return str(REVISION_KINDS.get(kind, kind))


def my_action_items():
    """The open action items of the viewer's organisation (the home page)."""
    from portal.minutes import actions

    if not current_user.is_authenticated:
        return []
    return actions.of_owner(current_user)


def action_items_for_request(req):
    """The action items naming a request, for its page (its viewers already passed request.view)."""
    from portal.minutes import actions

    return actions.for_request(current_user, req.id)


TEMPLATE_HELPERS = {
    "minutes_status_name": minutes_status_name, "attendance_name": attendance_name,
    "action_status_name": action_status_name, "revision_kind_name": revision_kind_name,
    "my_action_items": my_action_items, "action_items_for_request": action_items_for_request,
}
