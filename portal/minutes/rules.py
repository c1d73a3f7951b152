"""What every write to the minutes shares: the row's lock, the rule that approved and published minutes no
longer change, finding a section, and the checks of texts. Used by the services of each concern
(portal/minutes/services.py, attendance.py, decisions.py, actions.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import NoResultFound

from portal.core import clock, workflow
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.i18n import Number
from portal.minutes.models import CIRCULATED, DRAFT, MAX_TEXT, Minutes, Section

# Where the sections, attendance, decisions and action items may still change.
EDITABLE = frozenset({DRAFT, CIRCULATED})


def section_of(minutes: Minutes, section_id: int) -> Section:
    section = next((s for s in minutes.sections if s.id == section_id), None)
    if section is None:
        raise NotFound(_l("Section not found."))
    return section


def _lock(minutes: Minutes) -> str:
    """Lock the minutes' row for the rest of the unit of work and return its state as stored now.

    `core.workflow.lock`: on PostgreSQL `FOR UPDATE` makes concurrent saves wait for each other; SQLite's
    writer lock, taken by every POST's unit of work, does the same. State and revision are re-read, never
    trusted from the loaded object."""
    try:
        workflow.lock(minutes)
    except NoResultFound:
        raise NotFound(_l("Minutes not found.")) from None
    return minutes.status


def _lock_for_writing(minutes: Minutes) -> int:
    """Lock, refuse unless the content may still change, and return the current revision."""
    status = _lock(minutes)
    if status not in EDITABLE:
        raise Conflict(_l("These minutes are approved or published and can no longer be changed."))
    return minutes.revision


def _touch(minutes: Minutes) -> None:
    minutes.updated_at = clock.now()


def _text(value, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(field, _l("This field must be text."))
    if len(value) > MAX_TEXT:
        raise ValidationError(field, _l("A text holds at most %(num)s characters.", num=Number(MAX_TEXT)))
    return value.replace("\r\n", "\n")


def _both(text_ko, text_en) -> tuple[str, str]:
    text_ko, text_en = (_text(text_ko, "text_ko") or "").strip(), (_text(text_en, "text_en") or "").strip()
    if not text_ko or not text_en:
        raise ValidationError("text_ko" if not text_ko else "text_en", _l("Give the text in Korean and in English."))
    return text_ko, text_en
