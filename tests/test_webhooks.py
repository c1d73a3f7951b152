"""Webhooks: a platform admin's endpoints, events queued with the change that causes them, and signed
deliveries through the outbox to a real HTTP receiver on loopback, retried and never sent twice."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core import outbox
from portal.core.audit import AuditEvent
from portal.core.documents import Document
from portal.core.exceptions import ValidationError
from portal.core.outbox import OutboxMessage
from portal.core.transaction import unit_of_work
from portal.extensions import db
from portal.requests import services as requests
from portal.requests.models import Request
from portal.webhooks import services as webhooks
from portal.webhooks.models import EVENTS, WebhookEndpoint
from tests.smtp import free_port

T0 = datetime(2026, 11, 25, 2, 0, 0, tzinfo=timezone.utc)
NOTHING = {"sent": 0, "retry": 0, "failed": 0}


@pytest.fixture
def app_config():
    return {"WEBHOOK_TIMEOUT": 2}


# --- A receiver on loopback --------------------------------------------------------------------------------

@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    verified: bool


class Receiver:
    """A real HTTP server on 127.0.0.1 that checks each delivery's signature with `secret` (401 when it does
    not hold) and otherwise answers the statuses given, in turn, the last one for ever after."""

    def __init__(self, *statuses: int):
        self.statuses = list(statuses or (200,))
        self.secret: str | None = None
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                verified = receiver.verify(headers, body)
                receiver.received.append(Received(self.path, headers, body, verified))
                status = (receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]) \
                    if verified else 401
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/somewhere-else")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/portal?source=pcp"

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        """What a receiver does: HMAC-SHA256 of timestamp "." body with the secret, compared in constant time."""
        if self.secret is None or "x-portal-timestamp" not in headers:
            return False
        signed = headers["x-portal-timestamp"].encode() + b"." + body
        expected = "sha256=" + hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("x-portal-signature", ""))

    def __enter__(self):
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


# --- Helpers --------------------------------------------------------------------------------------------------

def _register(app, parties, url: str, events=EVENTS) -> tuple[int, str]:
    """An endpoint of the parties' platform, registered by its admin through the service: (id, secret)."""
    with app.test_request_context():
        admin = db.session.get(User, parties.platform_admin.id)
        endpoint, secret = webhooks.register_endpoint(admin, url, list(events))
        db.session.commit()
        return endpoint.id, secret


def _deliveries(app, endpoint_id: int | None = None) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.channel == "webhook").order_by(OutboxMessage.id)
        if endpoint_id is not None:
            query = query.where(OutboxMessage.endpoint_id == endpoint_id)
        messages = db.session.scalars(query).all()
        for message in messages:
            db.session.expunge(message)
        return messages


def _events(app, endpoint_id: int | None = None) -> list[str]:
    return [message.template for message in _deliveries(app, endpoint_id)]


def _post_message(app, parties, request_id: int, author, body: str = "Please act on the first item.") -> None:
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        requests.post_message(db.session.get(User, author.id), req, body)
        db.session.commit()


def _tick_at(app, request_id: int, moment: str) -> None:
    """Run the deadline tick at the request's reminder time, or just after its deadline."""
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        now = req.remind_at if moment == "reminder" else req.deadline + timedelta(seconds=1)
        requests.tick(now=now)
        db.session.commit()


def _send(app) -> dict[str, int]:
    with app.app_context():
        return outbox.send_pending()


def _audit_actions(app, prefix: str = "webhook.") -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith(prefix))
                                       .order_by(AuditEvent.seq)))


def _endpoint_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


# --- Delivery: signed, retried after a 500, never twice ---------------------------------------------------

def test_receiver_verifies_the_signature_and_sees_a_retry_after_a_500(app, make):
    parties = make.parties()
    with Receiver(500, 200) as receiver:
        endpoint_id, receiver.secret = _register(app, parties, receiver.url, ["request.issued"])
        with time_machine.travel(T0, tick=False):
            request_id = make.request(parties, "issued")
            assert _send(app) == {"sent": 0, "retry": 1, "failed": 0}
            assert _send(app) == NOTHING  # not due before its backoff
        with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
            assert _send(app) == {"sent": 1, "retry": 0, "failed": 0}
        with time_machine.travel(T0 + timedelta(days=2), tick=False):
            assert _send(app) == NOTHING  # delivered: never sent again

    first, second = receiver.received
    assert first.verified and second.verified
    assert first.path == second.path == "/hooks/portal?source=pcp"
    assert first.body == second.body
    assert first.headers["x-portal-delivery"] == second.headers["x-portal-delivery"]
    assert first.headers["x-portal-event"] == "request.issued"
    assert first.headers["x-portal-timestamp"] == str(int(T0.timestamp()))
    assert second.headers["x-portal-timestamp"] == str(int((T0 + timedelta(minutes=2)).timestamp()))
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    payload = json.loads(second.body)
    assert payload["event"] == "request.issued" and payload["request"]["id"] == request_id

    [delivery] = _deliveries(app, endpoint_id)
    assert delivery.status == "sent" and delivery.attempts == 2
    assert delivery.delivery_id == first.headers["x-portal-delivery"]
    with app.app_context():
        attempts = db.session.get(OutboxMessage, delivery.id).attempt_log
        assert [(a.number, a.status_code, a.error) for a in attempts] == [(1, 500, None), (2, 200, None)]
        assert all(a.duration_ms >= 0 for a in attempts)


def test_the_delivery_log_shows_each_attempts_status_code(app, make, auth):
    parties = make.parties()
    with Receiver(503, 204) as receiver:
        endpoint_id, receiver.secret = _register(app, parties, receiver.url, ["request.issued"])
        with time_machine.travel(T0, tick=False):
            make.request(parties, "issued")
            _send(app)
        with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
            _send(app)
    auth.login(parties.platform_admin)
    page = auth.client.get(f"/webhooks/{endpoint_id}").data.decode()
    assert "HTTP 503" in page and "HTTP 204" in page and "request.issued" in page
    assert _deliveries(app)[0].delivery_id in page


def test_a_redirect_is_not_followed_and_counts_as_not_delivered(app, make):
    parties = make.parties()
    with Receiver(302) as receiver:
        endpoint_id, receiver.secret = _register(app, parties, receiver.url, ["request.issued"])
        with time_machine.travel(T0, tick=False):
            make.request(parties, "issued")
            assert _send(app)["retry"] == 1
    assert [r.path for r in receiver.received] == ["/hooks/portal?source=pcp"]
    [delivery] = _deliveries(app, endpoint_id)
    assert delivery.status == "pending" and delivery.last_error == "HTTP 302"


def test_an_unreachable_endpoint_is_given_up_after_the_last_attempt(app, make):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    parties = make.parties()
    endpoint_id, _secret = _register(app, parties, f"http://127.0.0.1:{free_port()}/hook", ["request.issued"])
    with time_machine.travel(T0, tick=False):
        make.request(parties, "issued")
        assert _send(app) == {"sent": 0, "retry": 1, "failed": 0}
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        assert _send(app) == {"sent": 0, "retry": 0, "failed": 1}
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        assert _send(app) == NOTHING
    [delivery] = _deliveries(app, endpoint_id)
    assert delivery.status == "failed" and delivery.attempts == 2
    with app.app_context():
        errors = [a.error for a in db.session.get(OutboxMessage, delivery.id).attempt_log]
    assert errors == ["connection: ConnectionRefusedError"] * 2


def test_a_delivery_left_sending_by_a_crash_is_never_resent(app, make, receiver):
    parties = make.parties()
    endpoint_id, receiver.secret = _register(app, parties, receiver.url, ["request.issued"])
    make.request(parties, "issued")
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.endpoint_id == endpoint_id))
        message.status = "sending"
        db.session.commit()
    assert _send(app) == NOTHING
    assert receiver.received == []


def test_in_production_a_delivery_never_reaches_a_local_address(app, make, receiver):
    parties = make.parties()
    endpoint_id, receiver.secret = _register(app, parties, receiver.url, ["request.issued"])
    make.request(parties, "issued")
    app.config["PORTAL_ENV"] = "production"  # say the name came to point at the portal's own network
    assert _send(app)["retry"] == 1
    assert receiver.received == []
    assert _deliveries(app, endpoint_id)[0].last_error == "address refused: not a public address"


def test_cli_sends_webhooks_without_an_smtp_host(app, make, runner, receiver):
    parties = make.parties()
    _endpoint_id, receiver.secret = _register(app, parties, receiver.url, ["request.issued"])
    make.request(parties, "issued")
    result = runner.invoke(args=["outbox", "send"])
    assert "no SMTP host" in result.output and "sent: 1" in result.output
    assert len(receiver.received) == 1 and receiver.received[0].verified
    with app.app_context():  # the e-mails about the same change wait for a mail server
        assert db.session.scalar(select(func.count()).where(OutboxMessage.channel == "email",
                                                            OutboxMessage.status == "pending")) > 0


# --- Events: each queued by its action, in the same transaction, to the right platform only ---------------

def _issued(app, make, parties):
    make.request(parties, "issued")


def _agency_message(app, make, parties):
    _post_message(app, parties, make.request(parties, "issued"), parties.officer)


def _closed(app, make, parties):
    make.request(parties, "closed")


def _reminder(app, make, parties):
    _tick_at(app, make.request(parties, "issued"), "reminder")


def _overdue(app, make, parties):
    _tick_at(app, make.request(parties, "acknowledged"), "overdue")


@pytest.mark.parametrize("event, action", [
    ("request.issued", _issued),
    ("request.message", _agency_message),
    ("request.closed", _closed),
    ("request.deadline_approaching", _reminder),
    ("request.overdue", _overdue),
])
def test_each_event_is_queued_by_its_action_for_subscribed_endpoints_of_the_platform(app, make, event, action):
    parties = make.parties()
    subscribed, _ = _register(app, parties, "https://hooks.example.com/subscribed", [event])
    others = [e for e in EVENTS if e != event]
    not_subscribed, _ = _register(app, parties, "https://hooks.example.com/others", others)
    elsewhere = make.parties()
    other_platform, _ = _register(app, elsewhere, "https://hooks.example.org/all", EVENTS)

    action(app, make, parties)

    assert _events(app, subscribed) == [event]
    assert event not in _events(app, not_subscribed)
    assert _events(app, other_platform) == []
    [delivery] = _deliveries(app, subscribed)
    payload = json.loads(delivery.body_text)
    assert payload["event"] == event and delivery.subject == event
    with app.app_context():
        req = db.session.get(Request, payload["request"]["id"])
        assert req.platform_id == parties.platform
        assert payload["request"] == {"id": req.id, "reference": req.reference, "platform": req.platform.code,
                                      "status": req.status,
                                      "deadline": req.deadline.strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_a_platforms_own_message_is_not_announced_back_to_it(app, make):
    parties = make.parties()
    endpoint_id, _ = _register(app, parties, "https://hooks.example.com/messages", ["request.message"])
    request_id = make.request(parties, "issued")
    _post_message(app, parties, request_id, parties.agent)
    assert _events(app, endpoint_id) == []


def test_an_event_is_queued_in_the_transaction_of_its_change(app, make):
    parties = make.parties()
    endpoint_id, _ = _register(app, parties, "https://hooks.example.com/messages", ["request.message"])
    request_id = make.request(parties, "issued")
    with app.test_request_context():
        officer, req = db.session.get(User, parties.officer.id), db.session.get(Request, request_id)
        with pytest.raises(ValidationError):
            requests.post_message(officer, req, "  ")  # refused: nothing queued
        requests.post_message(officer, req, "Please confirm the removal.")
        queued = select(func.count()).where(OutboxMessage.endpoint_id == endpoint_id)
        assert db.session.scalar(queued) == 1
        db.session.rollback()  # the change is undone, and its announcement with it
    assert _events(app, endpoint_id) == []


def test_a_closing_is_announced_once_its_certificate_is_stored(app, make):
    parties = make.parties()
    endpoint_id, _ = _register(app, parties, "https://hooks.example.com/closed", ["request.closed"])
    request_id = make.request(parties, "responded_fully")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        requests.close(db.session.get(User, parties.officer.id), req)
        assert db.session.scalar(select(func.count()).where(OutboxMessage.endpoint_id == endpoint_id)) == 0
        db.session.rollback()
    with app.test_request_context(), unit_of_work():
        requests.close(db.session.get(User, parties.officer.id), db.session.get(Request, request_id))
    assert _events(app, endpoint_id) == ["request.closed"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document).where(
            Document.kind == "closure_certificate")) == 1


def test_payload_carries_ids_never_addresses_notes_or_message_text(app, make):
    parties = make.parties()
    endpoint_id, _ = _register(app, parties, "https://hooks.example.com/all", EVENTS)
    request_id = make.request(parties, "issued", urls=("https://victim-photos.example/album/42",))
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        requests.add_note(db.session.get(User, parties.officer.id), req, "internal-note-text")
        db.session.commit()
    _post_message(app, parties, request_id, parties.officer, "message-body-text")

    deliveries = _deliveries(app, endpoint_id)
    assert [d.template for d in deliveries] == ["request.issued", "request.message"]
    for delivery in deliveries:
        for secret in ("victim-photos", "album/42", "internal-note-text", "message-body-text"):
            assert secret not in delivery.body_text
        payload = json.loads(delivery.body_text)
        assert set(payload) <= {"event", "id", "occurred_at", "request", "message"}
        assert set(payload["request"]) == {"id", "reference", "platform", "status", "deadline"}
    message = json.loads(deliveries[1].body_text)["message"]
    assert set(message) == {"id"}


def test_a_disabled_endpoint_gets_nothing_new_and_its_queue_is_not_sent(app, make, auth, receiver):
    parties = make.parties()
    endpoint_id, receiver.secret = _register(app, parties, receiver.url, EVENTS)
    request_id = make.request(parties, "issued")  # queued while active
    auth.login(parties.platform_admin)
    assert auth.client.post(f"/webhooks/{endpoint_id}/disable").status_code == 302
    _post_message(app, parties, request_id, parties.officer)
    assert _events(app, endpoint_id) == ["request.issued"]
    assert _send(app) == {"sent": 0, "retry": 0, "failed": 1}
    assert receiver.received == []
    assert auth.client.post(f"/webhooks/{endpoint_id}/enable").status_code == 302
    _post_message(app, parties, request_id, parties.officer)
    assert _send(app)["sent"] == 1 and len(receiver.received) == 1
    assert _audit_actions(app) == ["webhook.endpoint_registered", "webhook.endpoint_disabled",
                                   "webhook.endpoint_enabled"]


def test_deleting_an_endpoint_removes_it_and_its_secret_but_keeps_the_outbox_record(app, make, auth):
    parties = make.parties()
    endpoint_id, secret = _register(app, parties, "https://hooks.example.com/gone", ["request.issued"])
    make.request(parties, "issued")
    auth.login(parties.platform_admin)
    response = auth.client.post(f"/webhooks/{endpoint_id}/delete")
    assert response.status_code == 302 and response.location.endswith("/webhooks/")
    assert _endpoint_count(app) == 0
    [delivery] = _deliveries(app)
    assert delivery.endpoint_id is None and delivery.status == "failed"
    assert secret not in delivery.body_text
    assert _audit_actions(app)[-1] == "webhook.endpoint_deleted"
    assert auth.client.get(f"/webhooks/{endpoint_id}").status_code == 404


# --- Pages: who may, what they check ---------------------------------------------------------------------

def test_the_secret_is_shown_once_and_signs_the_test_ping(app, make, auth, runner, receiver):
    parties = make.parties()
    auth.login(parties.platform_admin)
    assert 'href="/webhooks/"' in auth.client.get("/home").data.decode()  # the menu entry
    created = auth.client.post("/webhooks/", data={"url": receiver.url, "events": ["request.issued"]})
    assert created.status_code == 200
    receiver.secret = re.search(r"whsec_[A-Za-z0-9_-]+", created.data.decode()).group(0)
    with app.app_context():
        endpoint = db.session.scalar(select(WebhookEndpoint))
        endpoint_id = endpoint.id
        assert endpoint.organisation_id == parties.platform and endpoint.event_list == ["request.issued"]
    for page in ("/webhooks/", f"/webhooks/{endpoint_id}"):
        assert receiver.secret not in auth.client.get(page).data.decode()

    response = auth.client.post(f"/webhooks/{endpoint_id}/ping")
    assert response.status_code == 302 and response.location.endswith(f"/webhooks/{endpoint_id}")
    assert "sent: 1" in runner.invoke(args=["outbox", "send"]).output
    [ping] = receiver.received
    assert ping.verified and ping.headers["x-portal-event"] == "ping"
    assert json.loads(ping.body)["platform"] == _platform_code(app, parties.platform)
    assert "HTTP 200" in auth.client.get(f"/webhooks/{endpoint_id}").data.decode()
    assert _audit_actions(app) == ["webhook.endpoint_registered", "webhook.ping_queued"]


def _platform_code(app, organisation_id: int) -> str:
    from portal.accounts.models import Organisation

    with app.app_context():
        return db.session.get(Organisation, organisation_id).code


def test_a_disabled_endpoint_cannot_be_pinged(app, make, auth):
    parties = make.parties()
    endpoint_id, _ = _register(app, parties, "https://hooks.example.com/x", ["request.issued"])
    auth.login(parties.platform_admin)
    auth.client.post(f"/webhooks/{endpoint_id}/disable")
    page = auth.client.post(f"/webhooks/{endpoint_id}/ping", follow_redirects=True).data.decode()
    assert "Enable the endpoint before sending it a test ping." in page
    assert _deliveries(app) == []


@pytest.mark.parametrize("method, path", [
    ("GET", "/webhooks/{id}"), ("POST", "/webhooks/{id}/ping"), ("POST", "/webhooks/{id}/disable"),
    ("POST", "/webhooks/{id}/enable"), ("POST", "/webhooks/{id}/delete"),
])
def test_another_platforms_admin_gets_404_on_an_endpoint(app, make, auth, method, path):
    owner = make.parties()
    endpoint_id, _ = _register(app, owner, "https://hooks.example.com/theirs", ["request.issued"])
    auth.login(make.parties().platform_admin)
    response = auth.client.open(path.format(id=endpoint_id), method=method)
    assert response.status_code == 404
    assert "hooks.example.com/theirs" not in auth.client.get("/webhooks/").data.decode()
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None and endpoint.active
    assert _deliveries(app) == []


@pytest.mark.parametrize("method, path", [
    ("GET", "/webhooks/"), ("POST", "/webhooks/"), ("GET", "/webhooks/{id}"), ("POST", "/webhooks/{id}/ping"),
    ("POST", "/webhooks/{id}/delete"),
])
def test_a_platform_agent_cannot_manage_endpoints(app, make, auth, method, path):
    parties = make.parties()
    endpoint_id, _ = _register(app, parties, "https://hooks.example.com/ours", ["request.issued"])
    auth.login(parties.agent)
    data = {"url": "https://hooks.example.com/agent", "events": ["request.issued"]} if method == "POST" else None
    assert auth.client.open(path.format(id=endpoint_id), method=method, data=data).status_code == 403
    assert _endpoint_count(app) == 1 and _deliveries(app) == []
    assert "/webhooks/" not in auth.client.get("/home").data.decode()


def _field_error(page: str, field: str) -> str | None:
    found = re.search(rf'<p class="form-hint-invalid" id="{field}-error">(.*?)</p>', page, re.S)
    return found.group(1).strip() if found else None


def _translated(app, message: str, language: str) -> str:
    with app.test_request_context(), force_locale(language):
        return gettext(message)


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("data, field, message", [
    ({"url": "not an address", "events": ["request.issued"]}, "url",
     "Enter a full address that starts with https://."),
    ({"url": "https://hooks.example.com/portal", "events": []}, "events", "Choose at least one event."),
    ({"url": "https://me:pw@hooks.example.com/portal", "events": ["request.issued"]}, "url",
     "Leave the user name and password out of the address."),
    ({"url": "http://hooks.example.com/portal", "events": ["request.issued"]}, "url",
     "Outside production, plain http:// is accepted only for the computer the portal runs on (127.0.0.1, ::1 or "
     "localhost). Use https://."),
])
def test_bad_input_gives_a_translated_field_error_and_changes_nothing(app, make, auth, language, data, field,
                                                                      message):
    parties = make.parties()
    auth.login(parties.platform_admin)
    response = auth.client.post(f"/webhooks/?lang={language}", data=data)
    page = response.data.decode()
    assert response.status_code == 200 and f'<html lang="{language}">' in page
    assert _field_error(page, field) == _translated(app, message, language)
    assert _endpoint_count(app) == 0 and _audit_actions(app) == []


@pytest.mark.parametrize("url, accepted", [
    ("http://127.0.0.1:8080/hook", False),
    ("http://localhost/hook", False),
    ("https://127.0.0.1/hook", False),
    ("https://10.1.2.3/hook", False),
    ("https://2130706433/hook", False),
    ("https://0x7f000001/hook", False),
    ("https://127.1/hook", False),
    ("https://0177.0.0.1/hook", False),
    ("https://167772161/hook", False),
    ("https://[64:ff9b::7f00:1]/hook", False),
    ("https://[64:ff9b:1::a00:1]/hook", False),
    ("https://[2002:a00:1::1]/hook", False),
    ("https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", False),
    ("https://[::ffff:10.0.0.1]/hook", False),
    ("https://1.2.3.999/hook", False),
    ("https://hooks.example.com/portal", True),
    ("https://[2606:4700::1111]/portal", True),
])
def test_https_to_a_public_address_is_required_in_production(app, make, auth, url, accepted):
    parties = make.parties()
    auth.login(parties.platform_admin)
    app.config["PORTAL_ENV"] = "production"
    page = auth.client.post("/webhooks/", data={"url": url, "events": ["request.issued"]}).data.decode()
    assert (_field_error(page, "url") is None) == accepted
    assert _endpoint_count(app) == (1 if accepted else 0)


def test_an_address_literal_is_stored_in_its_canonical_form(app, make):
    parties = make.parties()
    endpoint_id, _ = _register(app, parties, "https://0x08080808:8443/hook?k=1", ["request.issued"])
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id).url == "https://8.8.8.8:8443/hook?k=1"


def test_loopback_written_as_a_number_is_loopback_outside_production(app, make, auth):
    parties = make.parties()
    auth.login(parties.platform_admin)
    page = auth.client.post("/webhooks/", data={"url": "http://2130706433:9000/hook",
                                                "events": list(EVENTS)}).data.decode()
    assert "whsec_" in page
    with app.app_context():
        assert db.session.scalar(select(WebhookEndpoint.url)) == "http://127.0.0.1:9000/hook"


@pytest.mark.parametrize("resolved", ["64:ff9b::7f00:1", "2002:7f00:1::1", "::ffff:127.0.0.1"])
def test_in_production_a_name_resolving_to_an_embedded_local_address_is_refused_at_delivery(
        app, make, monkeypatch, resolved):
    parties = make.parties()
    endpoint_id, _ = _register(app, parties, "https://hooks.example.com/portal", ["request.issued"])
    make.request(parties, "issued")
    app.config["PORTAL_ENV"] = "production"
    monkeypatch.setattr(outbox.socket, "getaddrinfo",
                        lambda host, port, **kw: [(None, None, None, "", (resolved, port, 0, 0))])
    assert _send(app)["retry"] == 1
    assert _deliveries(app, endpoint_id)[0].last_error == "address refused: not a public address"


def test_loopback_http_is_accepted_outside_production(app, make, auth):
    parties = make.parties()
    auth.login(parties.platform_admin)
    page = auth.client.post("/webhooks/", data={"url": "http://[::1]:9000/hook", "events": list(EVENTS)}).data.decode()
    assert "whsec_" in page and _endpoint_count(app) == 1


def test_the_same_address_cannot_be_registered_twice(app, make, auth):
    parties = make.parties()
    _register(app, parties, "https://hooks.example.com/once", ["request.issued"])
    auth.login(parties.platform_admin)
    page = auth.client.post("/webhooks/", data={"url": "https://hooks.example.com/once",
                                                "events": ["request.closed"]}).data.decode()
    assert _field_error(page, "url") == "This address is already registered."
    assert _endpoint_count(app) == 1


def test_the_system_admin_reads_a_delivery_in_the_outbox(app, make, auth):
    parties = make.parties()
    _register(app, parties, "https://hooks.example.com/portal", ["request.issued"])
    make.request(parties, "issued")
    [delivery] = _deliveries(app)
    auth.as_role("system_admin")
    page = auth.client.get(f"/admin/outbox/{delivery.id}").data.decode()
    assert "Webhook delivery in the outbox" in page and delivery.delivery_id in page
    assert "https://hooks.example.com/portal" in page
