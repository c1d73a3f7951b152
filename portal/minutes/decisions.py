"""Decisions of the minutes: records of their own inside a section, in both languages. Services flush,
never commit."""
from __future__ import annotations

from portal.accounts.models import User
from portal.core import audit, clock, policy
from portal.extensions import db
from portal.minutes.models import Decision, Minutes
from portal.minutes.rules import _both, _lock_for_writing, _touch, section_of


def add_decision(by: User, minutes: Minutes, section_id: int, text_ko: str, text_en: str) -> Decision:
    policy.require(by, "minutes.keep", minutes)
    text_ko, text_en = _both(text_ko, text_en)
    _lock_for_writing(minutes)
    section = section_of(minutes, section_id)
    decision = Decision(text_ko=text_ko, text_en=text_en, created_by_id=by.id, created_at=clock.now())
    section.decisions.append(decision)
    _touch(minutes)
    db.session.flush()
    audit.record("minutes.decision", minutes, details={"section": section.id, "decision": decision.id})
    return decision
