"""The public signatory registry (no login): which platform committed to which template version, signed by
whom (name and title), when, until when, and the status. Nothing else of the platform is public: an entry
is built here from the commitment and its platform signature, field by field."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from portal.commitments.models import (
    EXPIRED,
    IN_FORCE,
    PLATFORM_SIDE,
    SIGNED,
    SUPERSEDED,
    WITHDRAWN,
    Commitment,
)
from portal.extensions import db

PUBLIC_STATUSES = frozenset({SIGNED, IN_FORCE, EXPIRED, SUPERSEDED, WITHDRAWN})


@dataclass(frozen=True)
class RegistryEntry:
    """What the public may know of a commitment: nothing else of the platform."""

    reference: str
    platform: str
    platform_name_ko: str
    platform_name_en: str
    template_title_ko: str
    template_title_en: str
    template_version: int
    signatory_name: str
    signatory_title: str
    signed_at: datetime
    in_force_at: datetime | None
    valid_until: date
    status: str


def entries() -> list[RegistryEntry]:
    """Every commitment a platform has signed, newest first."""
    rows = db.session.scalars(select(Commitment).where(Commitment.status.in_(PUBLIC_STATUSES))
                              .order_by(Commitment.signed_at.desc(), Commitment.id.desc()))
    entries = []
    for c in rows:
        signature = c.signature(PLATFORM_SIDE)
        if signature is None:
            continue
        entries.append(RegistryEntry(
            reference=c.reference, platform=c.platform.code, platform_name_ko=c.platform.name_ko,
            platform_name_en=c.platform.name_en, template_title_ko=c.template.title_ko,
            template_title_en=c.template.title_en, template_version=c.template.version,
            signatory_name=signature.name, signatory_title=signature.title, signed_at=signature.signed_at,
            in_force_at=c.in_force_at, valid_until=c.valid_until, status=c.status))
    return entries
