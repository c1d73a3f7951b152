"""Minutes: every rule of drafting, saving without lost edits, circulating, commenting, approving,
publishing and amending the minutes of a consultation (attendance: `attendance`; decisions: `decisions`;
the lock and checks every write shares: `rules`).

Services flush, never commit (the request, command or job commits once). Every change of state goes through
`_move`, a `core.workflow.transition` on the table `MINUTES`, which re-reads the state under the row's lock and refuses with `Conflict` when the action no
longer applies; every write of content goes through `_lock_for_writing`, which does the same and refuses
once the minutes are approved or published (locked: every write is a Conflict).

No lost edits: a save names the revision it was based on. Based on the current revision, it applies.
Based on an older one, it still applies when only other sections changed since (a merge), and is refused
with `SectionConflict`, carrying both texts, when this very section changed since.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import NoResultFound

from portal.accounts.models import User
from portal.consultations.models import CANCELLED, Consultation
from portal.core import audit, clock, events, policy, workflow
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.core.workflow import Transition
from portal.extensions import db
from portal.i18n import Number
from portal.minutes import notices, pdf
# Attendance and decisions live in their own modules, the shared rules of writing in `rules`; reachable
# here as before (services.set_attendance, services.present_for, services.section_of, ...).
from portal.minutes.attendance import (  # noqa: F401
    attendance_for,
    present_for,
    recuse,
    section_order,
    set_attendance,
)
from portal.minutes.decisions import add_decision  # noqa: F401
from portal.minutes.models import (
    APPROVED,
    CIRCULATED,
    DRAFT,
    LANGUAGES,
    PUBLISHED,
    SUPERSEDED,
    Attendance,
    Comment,
    Decision,
    Draft,
    Minutes,
    Recusal,
    Revision,
    Section,
)
from portal.minutes.rules import (  # noqa: F401
    EDITABLE,
    _both,
    _lock,
    _lock_for_writing,
    _text,
    _touch,
    section_of,
)

# The lifecycle: one table of core.workflow transitions, taken by `_move`. Every step is the keeper's.
_CHANGED = _l("These minutes have changed meanwhile: reload the page.")
TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("circulate", frozenset({DRAFT}), CIRCULATED, "minutes.keep", _CHANGED),
    Transition("approve", frozenset({CIRCULATED}), APPROVED, "minutes.keep", _CHANGED),
    Transition("publish", frozenset({APPROVED}), PUBLISHED, "minutes.keep", _CHANGED),
    # Version n once version n+1, its amendment, is published.
    Transition("supersede", frozenset({PUBLISHED}), SUPERSEDED, "minutes.keep", _CHANGED),
)}
# Minutes keep no history table of their own: their revisions and the audit trail are their history.
MINUTES = workflow.Workflow(name="minutes", model=Minutes, transitions=TRANSITIONS.values(),
                            history=lambda *args, **kwargs: None)

OTHER_BUSINESS = ("기타 안건", "Other business")
MAX_COMMENT = 5000
MAX_COMMENT_DAYS = 60


class SectionConflict(Conflict):
    """A save based on a stale revision of a section that changed since: both texts, to merge by hand."""

    def __init__(self, section: Section, *, current_revision: int, mine: dict[str, str]):
        super().__init__(_l("This section was changed by someone else since you opened it. Your text and "
                            "the current text are shown: merge them and save again."))
        self.section_id = section.id
        self.current_revision = current_revision
        self.current = {"text_ko": section.text_ko, "text_en": section.text_en}
        self.mine = mine


# --- Reading --------------------------------------------------------------------------------------------

def get(by: User, minutes_id: int, *, permission: str = "minutes.view") -> Minutes:
    """The minutes, or NotFound when they do not exist or lie outside `by`'s reach (the same)."""
    minutes = db.session.get(Minutes, minutes_id)
    if minutes is None or not policy.can(by, "minutes.view", minutes):
        raise NotFound(_l("Minutes not found."))
    policy.require(by, permission, minutes)
    return minutes


def of_consultation(by: User, consultation: Consultation) -> list[Minutes]:
    """Every version of the consultation's minutes `by` may see, newest first."""
    found = db.session.scalars(select(Minutes).where(Minutes.consultation_id == consultation.id)
                               .order_by(Minutes.version.desc()))
    return [m for m in found if policy.can(by, "minutes.view", m)]


def can_keep(by: User) -> bool:
    return policy.can(by, "minutes.keep")


def comments_of(minutes: Minutes) -> list[Comment]:
    return list(db.session.scalars(select(Comment).where(Comment.minutes_id == minutes.id)
                                   .order_by(Comment.id)))


def draft_of(by: User, section: Section) -> Draft | None:
    """`by`'s autosaved texts of the section, if any."""
    return db.session.scalar(select(Draft).where(Draft.section_id == section.id, Draft.user_id == by.id))


def revisions(minutes: Minutes) -> list[Revision]:
    return list(db.session.scalars(select(Revision).where(Revision.minutes_id == minutes.id)
                                   .order_by(Revision.number.desc())))


def revision_of(minutes: Minutes, number: int) -> Revision:
    found = db.session.scalar(select(Revision).where(Revision.minutes_id == minutes.id,
                                                     Revision.number == number))
    if found is None:
        raise NotFound(_l("Revision not found."))
    return found


# --- Creating -------------------------------------------------------------------------------------------

def create(by: User, consultation: Consultation) -> Minutes:
    """The draft minutes of a consultation, one section per agenda item in order plus "other business".
    Conflict when the consultation already has minutes."""
    policy.require(by, "minutes.keep")
    locked = db.session.scalar(select(Consultation.status).where(Consultation.id == consultation.id)
                               .with_for_update())
    if locked == CANCELLED:
        raise Conflict(_l("A cancelled consultation has no minutes."))
    if db.session.scalar(select(Minutes.id).where(Minutes.consultation_id == consultation.id)) is not None:
        raise Conflict(_l("This consultation already has minutes."))
    now = clock.now()
    minutes = Minutes(consultation_id=consultation.id, version=1, status=DRAFT, revision=0,
                      created_by_id=by.id, created_at=now, updated_at=now)
    entries = [(item.id, item.title_ko, item.title_en) for item in consultation.agenda]
    entries.append((None, *OTHER_BUSINESS))
    for position, (item_id, title_ko, title_en) in enumerate(entries, 1):
        minutes.sections.append(Section(position=position, agenda_item_id=item_id, title_ko=title_ko,
                                        title_en=title_en, text_ko="", text_en="", revision=0))
    for participant in consultation.participants:
        minutes.attendance.append(Attendance(organisation_id=participant.organisation_id,
                                             user_id=participant.user_id, name=participant.user.name,
                                             status="absent" if participant.rsvp == "declined" else "present"))
    db.session.add(minutes)
    db.session.flush()
    audit.record("minutes.created", minutes, details={"consultation": consultation.id})
    return minutes


# --- Saving sections ------------------------------------------------------------------------------------

def save_section(by: User, minutes: Minutes, section_id: int, *, based_on: int, text_ko: str | None = None,
                 text_en: str | None = None) -> Revision | None:
    """Save one section's texts based on revision `based_on` (see the module's docstring). A language
    that changes flags the other as needing an update of its translation; editing that one clears it.
    Returns the new revision, or None when nothing changed."""
    policy.require(by, "minutes.keep", minutes)
    current = _lock_for_writing(minutes)
    section = section_of(minutes, section_id)
    db.session.refresh(section)
    text_ko, text_en = _text(text_ko, "text_ko"), _text(text_en, "text_en")
    if based_on > current or based_on < 0:
        raise ValidationError("based_on", _l("This revision does not exist."))
    if based_on < current and section.revision > based_on:
        raise SectionConflict(section, current_revision=current,
                              mine={"text_ko": text_ko if text_ko is not None else section.text_ko,
                                    "text_en": text_en if text_en is not None else section.text_en})
    changed_ko = text_ko is not None and text_ko != section.text_ko
    changed_en = text_en is not None and text_en != section.text_en
    if not changed_ko and not changed_en:
        _forget_draft(by, section)
        return None
    # Editing the flagged language is its translation's update; editing the other one flags it.
    if changed_ko and not changed_en and not section.ko_needs_update:
        section.en_needs_update = True
    if changed_en and not changed_ko and not section.en_needs_update:
        section.ko_needs_update = True
    if changed_ko:
        section.text_ko, section.ko_needs_update = text_ko, False
    if changed_en:
        section.text_en, section.en_needs_update = text_en, False
    kind = "edit" if based_on == current else "merged"
    return _new_revision(by, minutes, section, based_on=based_on, kind=kind)


def confirm_translation(by: User, minutes: Minutes, section_id: int, language: str) -> Revision:
    """The text in `language` still says what the other says: clear its "needs update" flag."""
    policy.require(by, "minutes.keep", minutes)
    if language not in LANGUAGES:
        raise ValidationError("language", _l("Choose Korean or English."))
    current = _lock_for_writing(minutes)
    section = section_of(minutes, section_id)
    db.session.refresh(section)
    setattr(section, f"{language}_needs_update", False)
    return _new_revision(by, minutes, section, based_on=current, kind="confirmed")


def restore(by: User, minutes: Minutes, number: int) -> Revision:
    """Make the texts of revision `number` the section's current texts again, as a new revision."""
    policy.require(by, "minutes.keep", minutes)
    current = _lock_for_writing(minutes)
    old = revision_of(minutes, number)
    section = section_of(minutes, old.section_id)
    db.session.refresh(section)
    section.text_ko, section.text_en = old.text_ko, old.text_en
    section.ko_needs_update = section.en_needs_update = False
    return _new_revision(by, minutes, section, based_on=current, kind="restored", restored_from=number)


def autosave(by: User, minutes: Minutes, section_id: int, *, based_on: int, text_ko: str, text_en: str) -> Draft:
    """Keep `by`'s unsaved texts of a section server-side (one per editor and section), so that a session
    time-out loses nothing. Saving the section forgets it."""
    policy.require(by, "minutes.keep", minutes)
    _lock_for_writing(minutes)
    section = section_of(minutes, section_id)
    draft = draft_of(by, section)
    if draft is None:
        draft = Draft(section_id=section.id, user_id=by.id)
        db.session.add(draft)
    draft.based_on = based_on
    draft.text_ko, draft.text_en = _text(text_ko, "text_ko") or "", _text(text_en, "text_en") or ""
    draft.saved_at = clock.now()
    db.session.flush()
    return draft


def _new_revision(by: User, minutes: Minutes, section: Section, *, based_on: int, kind: str,
                  restored_from: int | None = None) -> Revision:
    minutes.revision += 1
    minutes.updated_at = clock.now()
    section.revision = minutes.revision
    revision = Revision(minutes_id=minutes.id, number=minutes.revision, section_id=section.id, author_id=by.id,
                        based_on=based_on, kind=kind, restored_from=restored_from, text_ko=section.text_ko,
                        text_en=section.text_en, created_at=clock.now())
    db.session.add(revision)
    _forget_draft(by, section)
    db.session.flush()
    audit.record("minutes.section_saved", minutes,
                 details={"section": section.id, "revision": revision.number, "kind": kind})
    return revision


def _forget_draft(by: User, section: Section) -> None:
    db.session.execute(delete(Draft).where(Draft.section_id == section.id, Draft.user_id == by.id))


# --- Lifecycle ------------------------------------------------------------------------------------------

def circulate(by: User, minutes: Minutes, *, comment_days: int | None = None) -> None:
    """Send the draft to the participants for comments (for `comment_days`, when given)."""
    policy.require(by, "minutes.keep", minutes)
    if comment_days is not None and not 0 <= comment_days <= MAX_COMMENT_DAYS:
        raise ValidationError("comment_days", _l("The comment period is from 0 to %(num)s days.",
                                                 num=MAX_COMMENT_DAYS))
    _move(by, minutes, "circulate")
    minutes.circulated_at = clock.now()
    minutes.comments_until = clock.now() + timedelta(days=comment_days) if comment_days else None
    db.session.flush()
    notices.circulated(minutes)
    events.emit("minutes.circulated", minutes=minutes)


def approve(by: User, minutes: Minutes) -> None:
    """The secretariat approves the circulated minutes after the comment period; who and when is kept."""
    policy.require(by, "minutes.keep", minutes)
    if minutes.comments_until is not None and clock.now() < minutes.comments_until:
        raise Conflict(_l("The comment period has not ended yet."))
    _move(by, minutes, "approve")
    minutes.approved_at, minutes.approved_by_id = clock.now(), by.id


def publish(by: User, minutes: Minutes) -> None:
    """Publish approved minutes: from now on they are locked. The version they amend becomes superseded.
    The signed PDF of the version is issued and attached to the e-mail telling the participants."""
    policy.require(by, "minutes.keep", minutes)
    _move(by, minutes, "publish")
    minutes.published_at, minutes.published_by_id = clock.now(), by.id
    if minutes.amends_id is not None:
        previous = db.session.get(Minutes, minutes.amends_id)
        _move(by, previous, "supersede", details={"by_version": minutes.version})
        previous.superseded_at = clock.now()
    db.session.flush()
    # Small enough to render in this transaction (see portal/minutes/pdf.py): the PDF, the e-mails that
    # attach it and the publication commit together or not at all.
    document = pdf.issue(by, minutes)
    notices.published(minutes, document)
    events.emit("minutes.published", minutes=minutes)


def amend(by: User, minutes: Minutes) -> Minutes:
    """Version n+1 of published minutes, a draft pointing to version n, which stays as it is. Sections,
    decisions and attendance are copied; action items stay with the sections that recorded them."""
    policy.require(by, "minutes.keep", minutes)
    status = _lock(minutes)
    if status != PUBLISHED:
        raise Conflict(_l("Only the published version can be amended."))
    if db.session.scalar(select(Minutes.id).where(Minutes.amends_id == minutes.id)) is not None:
        raise Conflict(_l("This version is already being amended."))
    now = clock.now()
    amendment = Minutes(consultation_id=minutes.consultation_id, version=minutes.version + 1,
                        amends_id=minutes.id, status=DRAFT, revision=0, created_by_id=by.id,
                        created_at=now, updated_at=now)
    copies: dict[int, Section] = {}
    for section in minutes.sections:
        copy = Section(position=section.position, agenda_item_id=section.agenda_item_id,
                       copied_from_id=section.id, title_ko=section.title_ko, title_en=section.title_en,
                       text_ko=section.text_ko, text_en=section.text_en, ko_needs_update=section.ko_needs_update,
                       en_needs_update=section.en_needs_update, revision=0)
        for decision in section.decisions:
            copy.decisions.append(Decision(text_ko=decision.text_ko, text_en=decision.text_en,
                                           created_by_id=decision.created_by_id, created_at=decision.created_at))
        amendment.sections.append(copy)
        copies[section.id] = copy
    db.session.add(amendment)
    db.session.flush()
    for person in minutes.attendance:
        row = Attendance(organisation_id=person.organisation_id, user_id=person.user_id, name=person.name,
                         status=person.status,
                         arrived_section_id=copies[person.arrived_section_id].id if person.arrived_section_id else None,
                         left_section_id=copies[person.left_section_id].id if person.left_section_id else None)
        row.recusals = [Recusal(section_id=copies[r.section_id].id, reason=r.reason) for r in person.recusals]
        amendment.attendance.append(row)
    db.session.flush()
    audit.record("minutes.amended", amendment, details={"amends": minutes.id, "version": amendment.version})
    return amendment


def chain(minutes: Minutes) -> list[Minutes]:
    """This version and those it amends, newest first."""
    found, current = [], minutes
    while current is not None:
        found.append(current)
        current = current.amends
    return found


# --- Comments -------------------------------------------------------------------------------------------

def comment(by: User, minutes: Minutes, section_id: int, text: str) -> Comment:
    """A comment on one section of the circulated version, visible to the secretariat and the participants."""
    policy.require(by, "minutes.comment", minutes)
    text = (_text(text, "text") or "").strip()
    if not text:
        raise ValidationError("text", _l("Write the comment."))
    if len(text) > MAX_COMMENT:
        raise ValidationError("text", _l("A comment holds at most %(num)s characters.", num=Number(MAX_COMMENT)))
    status = _lock(minutes)
    if status != CIRCULATED:
        raise Conflict(_l("Comments are taken only while the minutes are circulated."))
    section = section_of(minutes, section_id)
    row = Comment(minutes_id=minutes.id, section_id=section.id, version=minutes.version, revision=minutes.revision,
                  author_id=by.id, organisation_id=by.organisation_id, text=text, created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record("minutes.commented", minutes, details={"section": section.id, "comment": row.id})
    return row


# --- Internals ---------------------------------------------------------------------------------------------

def _move(by: User, minutes: Minutes, action: str, details: dict | None = None) -> None:
    """Apply `action` under the row's lock, or refuse with Conflict when the state no longer allows it."""
    try:
        workflow.transition(MINUTES, minutes, action, by, **(details or {}))
    except NoResultFound:
        raise NotFound(_l("Minutes not found.")) from None


@dataclass
class Status:
    """What the page offers one viewer."""

    keep: bool
    editable: bool
    can_comment: bool


def status_for(by: User, minutes: Minutes) -> Status:
    keep = policy.can(by, "minutes.keep", minutes)
    return Status(keep=keep, editable=keep and minutes.status in EDITABLE,
                  can_comment=minutes.status == CIRCULATED and policy.can(by, "minutes.comment", minutes))


def latest_of(consultation_id: int) -> Minutes | None:
    return db.session.scalar(select(Minutes).where(Minutes.consultation_id == consultation_id)
                             .order_by(Minutes.version.desc()).limit(1))

