"""Consultations and minutes declare their lifecycles as core.workflow tables, and every change of state
goes through `workflow.transition`: locked, re-read, refused with Conflict once it no longer applies,
audited with the actor."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.consultations import services as consultations
from portal.consultations.models import STATUSES as CONSULTATION_STATUSES
from portal.consultations.models import Consultation
from portal.core import workflow
from portal.core.audit import AuditEvent
from portal.core.exceptions import Conflict
from portal.extensions import db
from portal.minutes import services as minutes_services
from portal.minutes.models import STATUSES as MINUTES_STATUSES
from portal.minutes.models import Minutes
from tests.consultations_support import consultation
from tests.minutes_support import minutes


def test_the_tables_are_workflows_over_the_models_states():
    assert consultations.CONSULTATIONS.model is Consultation
    assert minutes_services.MINUTES.model is Minutes
    for flow, states in ((consultations.CONSULTATIONS, CONSULTATION_STATUSES),
                         (minutes_services.MINUTES, MINUTES_STATUSES)):
        for step in flow.table.values():
            assert step.sources <= set(states) and step.target in states and step.permission


def _heard_transitions():
    heard = []

    def record(sender, **data):
        heard.append((sender, data["action"], data["source"], data["target"]))

    return heard, record


def test_scheduling_a_consultation_is_a_workflow_transition_audited_with_its_actor(app, make):
    parties = make.parties()
    heard, record = _heard_transitions()
    with workflow.transitioned.connected_to(record):
        meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    assert [h for h in heard if h[0] == "consultation"] == [
        ("consultation", "propose", "draft", "proposed"), ("consultation", "schedule", "proposed", "scheduled")]
    with app.app_context():
        row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "consultation.schedule")).one()
        assert row.actor_id == parties.officer.id and row.object_id == str(meeting.id)


def test_a_consultation_step_that_no_longer_applies_is_a_conflict(app, make):
    parties = make.parties()
    meeting = consultation(make, parties.officer, [parties.platform], status="scheduled")
    with app.test_request_context():
        by = db.session.get(User, parties.officer.id)
        c = db.session.get(Consultation, meeting.id)
        consultations.cancel(by, c, "No longer needed")
        with pytest.raises(Conflict):
            consultations.cancel(by, c, "Twice")


def test_publishing_an_amendment_supersedes_the_version_it_amends_through_the_workflow(app, make):
    setting = minutes(make, status="published")
    heard, record = _heard_transitions()
    with app.test_request_context(), workflow.transitioned.connected_to(record):
        by = db.session.get(User, setting.secretariat.id)
        first = db.session.get(Minutes, setting.minutes_id)
        second = minutes_services.amend(by, first)
        for step in ("circulate", "approve", "publish"):
            getattr(minutes_services, step)(by, second)
        assert (first.status, second.status) == ("superseded", "published")
        with pytest.raises(Conflict):
            minutes_services.publish(by, second)
    assert heard == [("minutes", "circulate", "draft", "circulated"), ("minutes", "approve", "circulated", "approved"),
                     ("minutes", "publish", "approved", "published"),
                     ("minutes", "supersede", "published", "superseded")]
