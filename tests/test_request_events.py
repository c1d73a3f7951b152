"""The requests domain announces what happens to a request as domain events (portal/core/events); the
webhooks subscribe to them, so requests never imports webhooks."""
from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from portal.accounts.models import User
from portal.core import events
from portal.core.transaction import unit_of_work
from portal.extensions import db
from portal.requests import services as requests
from portal.requests.models import Request

REQUEST_EVENTS = ("request.issued", "request.deadline_approaching", "request.overdue", "request.message",
                  "request.closed")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_requests_domain_never_imports_webhooks():
    package = Path(__file__).resolve().parent.parent / "portal" / "requests"
    offenders = {str(path.relative_to(package)): sorted(n for n in _imports(path) if n.startswith("portal.webhooks"))
                 for path in package.rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def _heard(heard) -> list[tuple[str, int]]:
    return [(name, inspect(data["req"]).identity[0]) for name, data in heard]


def test_issuing_announces_request_issued_once_when_the_notice_is_stored(app, make):
    parties = make.parties()
    with events.listening(*REQUEST_EVENTS) as heard:
        request_id = make.request(parties, "issued")
    assert _heard(heard) == [("request.issued", request_id)]
    with app.app_context():
        assert db.session.get(Request, request_id).notice_ready_at is not None


def test_closing_announces_request_closed(app, make):
    parties = make.parties()
    request_id = make.request(parties, "responded_fully")
    with events.listening(*REQUEST_EVENTS) as heard, app.test_request_context(), unit_of_work():
        requests.close(db.session.get(User, parties.officer.id), db.session.get(Request, request_id))
    assert _heard(heard) == [("request.closed", request_id)]


@pytest.mark.parametrize("author", ["officer", "agent"])
def test_each_message_is_an_event_naming_its_author(app, make, author):
    """Both sides' messages are events; the webhooks choose not to echo the platform's own back to it."""
    parties = make.parties()
    request_id = make.request(parties, "issued")
    with events.listening(*REQUEST_EVENTS) as heard, app.test_request_context(), unit_of_work():
        by = db.session.get(User, getattr(parties, author).id)
        message = requests.post_message(by, db.session.get(Request, request_id), "Please act on it.")
        message_id = message.id
        [(name, data)] = heard
        assert name == "request.message" and data["message"].id == message_id and data["by"].id == by.id
    assert _heard(heard) == [("request.message", request_id)]


def test_the_tick_announces_the_deadline_approaching_and_then_overdue(app, make):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    with app.test_request_context():
        req = db.session.get(Request, request_id)
        remind_at, deadline = req.remind_at, req.deadline
    for moment, event in ((remind_at, "request.deadline_approaching"), (deadline + timedelta(seconds=1),
                                                                         "request.overdue")):
        with events.listening(*REQUEST_EVENTS) as heard, app.test_request_context(), unit_of_work():
            requests.tick(now=moment)
            [(name, data)] = heard
            assert data["occurred_at"] == moment
        assert _heard(heard) == [(event, request_id)]


def test_a_listener_hears_nothing_once_its_block_has_ended():
    with events.listening("test.something") as heard:
        events.emit("test.something", value=1)
    events.emit("test.something", value=2)
    assert heard == [("test.something", {"value": 1})]
