"""Webhook events of minutes: `minutes.circulated`, `minutes.published` (with the signed PDF's reference)
and `action_item.assigned`, delivered to the platforms concerned only, without personal data; an endpoint
may subscribe to every event at once."""
import json
from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.core import outbox
from portal.extensions import db
from portal.minutes.models import Minutes
from portal.webhooks.models import EVENTS, WebhookEndpoint
from tests.minutes_support import minutes


def _subscribe(app, admin_id, events=EVENTS):
    from portal.webhooks import services as webhooks

    with app.test_request_context():
        admin = db.session.get(User, admin_id)
        endpoint, _secret = webhooks.register_endpoint(admin, f"https://hooks{admin_id}.example.com/portal",
                                                       list(events))
        db.session.commit()
        return endpoint.id


def _deliveries(app, endpoint_id):
    with app.app_context():
        return [json.loads(m.body_text) for m in db.session.scalars(
            select(outbox.OutboxMessage).where(outbox.OutboxMessage.channel == "webhook",
                                               outbox.OutboxMessage.endpoint_id == endpoint_id)
            .order_by(outbox.OutboxMessage.id))]


def test_every_event_fits_one_endpoint(app, make):
    parties = make.parties()
    endpoint_id = _subscribe(app, parties.platform_admin.id)
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id).event_list == list(EVENTS)


def test_platforms_hear_of_circulation_publication_and_their_action_items_without_people(app, make):
    from portal.minutes import actions, services

    setting = minutes(make)
    endpoint_id = _subscribe(app, setting.parties.platform_admin.id)
    other = make.parties()
    other_endpoint = _subscribe(app, other.platform_admin.id)
    with make.app.test_request_context():
        by = db.session.get(User, setting.secretariat.id)
        m = db.session.get(Minutes, setting.minutes_id)
        code = db.session.get(Organisation, setting.parties.platform).code
        agency = db.session.get(Organisation, setting.parties.agency).code
        item = actions.add(by, m, setting.section_ids[0], text_ko="자료 제출", text_en="Send the data",
                           owner_code=code, owner_user_id=setting.parties.agent.id,
                           due_on=date.today() + timedelta(days=7))
        actions.add(by, m, setting.section_ids[0], text_ko="검토", text_en="Review", owner_code=agency,
                    due_on=date.today() + timedelta(days=7))
        for step in ("circulate", "approve", "publish"):
            getattr(services, step)(by, m)
        db.session.commit()
        item_id = item.id
    delivered = _deliveries(app, endpoint_id)
    assert [d["event"] for d in delivered] == ["action_item.assigned", "minutes.circulated", "minutes.published"]
    assigned, circulated, published = delivered
    assert assigned["action_item"]["id"] == item_id and assigned["action_item"]["owner"] == code
    assert circulated["minutes"]["id"] == setting.minutes_id and circulated["minutes"]["status"] == "circulated"
    assert published["minutes"]["status"] == "published"
    [document] = published["minutes"]["documents"]
    assert document["reference"] == f"MIN-{setting.consultation_id:06d}-v1"
    with app.app_context():
        bodies = [m.body_text for m in db.session.scalars(
            select(outbox.OutboxMessage).where(outbox.OutboxMessage.channel == "webhook"))]
        agent = db.session.get(User, setting.parties.agent.id)
        for body in bodies:
            assert "@" not in body and agent.name not in body and "Send the data" not in body
    assert _deliveries(app, other_endpoint) == []  # another platform's consultation: nothing
