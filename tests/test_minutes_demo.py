"""`demo seed` adds the draft minutes of the demo plenary, with a decision and one action item of a platform."""
from sqlalchemy import select

from portal.consultations.models import Consultation
from portal.extensions import db
from portal.minutes.models import ActionItem, Decision, Minutes


def test_demo_seed_drafts_the_plenarys_minutes_with_one_action_item(app, runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "1 minutes" in result.output
    with app.app_context():
        [minutes] = db.session.scalars(select(Minutes)).all()
        assert db.session.get(Consultation, minutes.consultation_id).kind == "plenary"
        assert minutes.status == "draft" and minutes.revision == 1
        assert minutes.sections[0].text_en and minutes.sections[0].text_ko
        assert db.session.scalar(select(Decision.id))
        [item] = db.session.scalars(select(ActionItem)).all()
        assert item.owner_organisation.code == "GLOBCHAT" and item.status == "open"
        assert len(minutes.sections) == 3  # two agenda items and other business
