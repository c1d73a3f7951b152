"""Names of request types, categories, priorities, statuses and outcomes as users read them."""
from dataclasses import dataclass

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape

from portal.i18n import ngettext

TYPE_LABELS = {
    "removal": _l("Removal"),
    # Translators: a request to block access to content from Korea (geo-blocking), not worldwide removal.
    "blocking": _l("Blocking of access in Korea"),
    "preservation": _l("Data preservation"),
    "information": _l("Information"),
}
CATEGORY_LABELS = {
    "deepfake": _l("Sexual deepfake"),
    "ncii": _l("Non-consensual intimate imagery"),
    "csam": _l("Child sexual abuse material"),
    "other": _l("Other"),
}
PRIORITY_LABELS = {"urgent": _l("Urgent"), "standard": _l("Standard")}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "awaiting_approval": _l("Awaiting approval"),
    "issued": _l("Issued"),
    "acknowledged": _l("Acknowledged"),
    "responded_partly": _l("Partly answered"),
    "responded_fully": _l("Fully answered"),
    "closed": _l("Closed"),
    "withdrawn": _l("Withdrawn"),
}
OUTCOME_LABELS = {
    "removed": _l("Removed"),
    "blocked_kr": _l("Blocked in Korea"),
    "restricted": _l("Restricted"),
    "not_found": _l("Not found"),
    "declined": _l("Declined"),
    "needs_information": _l("Needs information"),
}
EVENT_LABELS = {
    "drafted": _l("Draft created"),
    "draft_updated": _l("Draft edited"),
    "items_added": _l("Items added"),
    "items_removed": _l("Items removed"),
    "attachment_added": _l("Attachment added"),
    "submit": _l("Submitted for approval"),
    "send_back": _l("Sent back to the drafter"),
    "issue": _l("Approved and issued"),
    "withdraw": _l("Withdrawn"),
    "acknowledge": _l("Acknowledged by the platform"),
    "respond": _l("Response submitted"),
    "close": _l("Closed"),
    "reopen": _l("Reopened"),
    "extension_requested": _l("Extension requested"),
    "extension_granted": _l("Extension granted"),
    "extension_refused": _l("Extension refused"),
    "reminder_sent": _l("Deadline reminder sent"),
    "overdue": _l("Deadline passed"),
    "very_overdue": _l("Very overdue: escalated"),
}
# What the list's caption says of its order (the `sort` values of portal.requests.services.queries.SORTS).
SORT_CAPTIONS = {
    "deadline": _l("Requests sorted by deadline, earliest first"),
    "-deadline": _l("Requests sorted by deadline, latest first"),
    "issued": _l("Requests sorted by date of issue, oldest first"),
    "-issued": _l("Requests sorted by date of issue, newest first"),
    "reference": _l("Requests sorted by reference, in ascending order"),
    "-reference": _l("Requests sorted by reference, in descending order"),
    "status": _l("Requests sorted by status, in the order of the lifecycle"),
    "-status": _l("Requests sorted by status, in the reverse order of the lifecycle"),
}
EXTENSION_STATUS_LABELS = {"pending": _l("Waiting for a decision"), "granted": _l("Granted"),
                           "refused": _l("Refused")}


def draft_name(number: int) -> str:
    """A request before it has a reference, in the current language: "Draft 8"."""
    # Translators: a request not yet issued, named by its number until it gets a reference, e.g. "Draft 8".
    return _("Draft %(number)s", number=number)


# Every table of names translated once per language: lists name each row's type, category, priority and
# status, and every list page builds its filter form.
_TRANSLATED: dict[tuple[str, int], dict[str, str]] = {}


def _translated(labels: dict, language: str | None = None) -> dict[str, str]:
    """The names of `labels` in `language` (the current one when None)."""
    if language is None:
        locale = get_locale()
        if locale is None:  # no app context: whatever lazy strings give, uncached
            return {code: str(label) for code, label in labels.items()}
        language = str(locale)
    key = (language, id(labels))
    if key not in _TRANSLATED:
        with force_locale(language):
            _TRANSLATED[key] = {code: str(label) for code, label in labels.items()}
    return _TRANSLATED[key]


def _label(labels: dict, key) -> str:
    if key not in labels:  # an unknown code is shown as it is
        return key or ""
    return _translated(labels)[key]


@dataclass(frozen=True)
class Names:
    """The names of one language, for a list that names every row's type, category, priority and status:
    HTML-escaped once (Markup), as the list writes its rows itself (portal/requests/listing.py)."""
    type: dict[str, str]
    category: dict[str, str]
    priority: dict[str, str]
    status: dict[str, str]


_NAMES: dict[str, Names] = {}


def names(language: str) -> Names:
    """Every type, category, priority and status name in `language` ("ko" or "en"), translated once."""
    if language not in _NAMES:
        _NAMES[language] = Names(*({code: escape(name) for code, name in _translated(table, language).items()}
                                   for table in (TYPE_LABELS, CATEGORY_LABELS, PRIORITY_LABELS, STATUS_LABELS)))
    return _NAMES[language]


def type_name(value) -> str:
    return _label(TYPE_LABELS, value)


def category_name(value) -> str:
    return _label(CATEGORY_LABELS, value)


def priority_name(value) -> str:
    return _label(PRIORITY_LABELS, value)


def status_name(value) -> str:
    return _label(STATUS_LABELS, value)


def outcome_name(value) -> str:
    return _label(OUTCOME_LABELS, value)


def event_name(value) -> str:
    return _label(EVENT_LABELS, value)


def extension_status_name(value) -> str:
    return _label(EXTENSION_STATUS_LABELS, value)


def outcome_label_map() -> dict[str, str]:
    """Every outcome's name in the current language, translated once (for long tables)."""
    return {key: str(label) for key, label in OUTCOME_LABELS.items()}


def request_count(total: int) -> str:
    """How many requests a list holds, with the language's thousands separator: "1,234 requests"."""
    # Translators: the number of requests a filtered list holds; %(num)s is already grouped, e.g. 1,234.
    return ngettext("%(num)s request", "%(num)s requests", total)


def sort_caption(sort: str) -> str:
    return _label(SORT_CAPTIONS, sort)


def choices(labels: dict) -> list[tuple[str, str]]:
    """(code, name) of each entry in the current language."""
    return list(_translated(labels).items())  # a new list: a form may change its own


TEMPLATE_HELPERS = {
    "type_name": type_name, "category_name": category_name, "priority_name": priority_name,
    "status_name": status_name, "outcome_name": outcome_name, "event_name": event_name,
    "extension_status_name": extension_status_name, "outcome_label_map": outcome_label_map,
    "request_count": request_count, "sort_caption": sort_caption,
}
