"""Formal and destructive steps carry a translated question (data-confirm) that portal.js asks before the form
is sent, naming what will happen: the browser test tests/e2e/test_confirmations.py clicks through them."""
import html
import re

import pytest

from portal.accounts.models import User
from portal.core.transaction import unit_of_work
from portal.extensions import db
from portal.requests import services
from portal.requests.models import Request
from portal.webhooks import services as webhooks


def _questions(page: str) -> dict[str, str]:
    """The data-confirm question of each form on the page, by the form's action path's last segment."""
    found = {}
    for action, question in re.findall(r'<form[^>]*action="([^"]+)"[^>]*data-confirm="([^"]*)"', page):
        found[action.rstrip("/").rsplit("/", 1)[-1]] = html.unescape(question)
    return found


def _page(auth, user, path: str, lang: str = "en") -> str:
    auth.login(user)
    return auth.client.get(f"{path}?lang={lang}").data.decode()


def _answer_first(app, parties, request_id: int, *, ask_extension: bool = False) -> None:
    with app.test_request_context(), unit_of_work():
        agent = db.session.get(User, parties.agent.id)
        req = db.session.get(Request, request_id)
        if ask_extension:
            services.request_extension(agent, req, "We need more time.")
        else:
            services.set_outcomes(agent, req, [services.items_page(req, 0, 1)[0].id], "removed")


def test_approving_asks_and_says_a_signed_notice_goes_out(make, auth):
    parties = make.parties()
    request_id = make.request(parties, "awaiting_approval")
    question = _questions(_page(auth, parties.supervisor, f"/requests/{request_id}"))["issue"]
    assert "signed notice" in question and "cannot be undone" in question


def test_deleting_a_draft_asks_and_names_its_items(make, auth):
    parties = make.parties()
    request_id = make.request(parties, "draft")
    assert _questions(_page(auth, parties.officer, f"/requests/{request_id}"))["delete"] == (
        "Delete this draft and its 2 items? This cannot be undone.")


def test_closing_names_unanswered_items_and_a_pending_extension(app, make, auth):
    parties = make.parties()
    request_id = make.request(parties, "responded_partly")
    _answer_first(app, parties, request_id, ask_extension=True)
    question = _questions(_page(auth, parties.officer, f"/requests/{request_id}"))["close"]
    assert "1 item has no outcome yet." in question
    assert "An extension is still pending" in question


def test_closing_a_fully_answered_request_names_no_gap(make, auth):
    parties = make.parties()
    request_id = make.request(parties, "responded_fully")
    question = _questions(_page(auth, parties.officer, f"/requests/{request_id}"))["close"]
    assert "no outcome" not in question and "extension" not in question


def test_a_partial_response_says_it_is_partial(app, make, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    _answer_first(app, parties, request_id)
    question = _questions(_page(auth, parties.agent, f"/requests/{request_id}"))["respond"]
    assert "1 item has no outcome yet: this is a partial response." in question


def test_deleting_a_webhook_endpoint_asks_and_names_its_address(app, make, auth):
    parties = make.parties()
    with app.test_request_context(), unit_of_work():
        admin = db.session.get(User, parties.platform_admin.id)
        endpoint, _secret = webhooks.register_endpoint(admin, "https://hooks.example.com/portal", ["request.issued"])
        endpoint_id = endpoint.id
    question = _questions(_page(auth, parties.platform_admin, f"/webhooks/{endpoint_id}"))["delete"]
    assert "https://hooks.example.com/portal" in question and "cannot be undone" in question


@pytest.mark.parametrize("status, role, action", [
    ("draft", "officer", "delete"), ("awaiting_approval", "supervisor", "issue"),
    ("responded_fully", "officer", "close"),
])
def test_the_questions_are_korean_on_korean_pages(make, auth, status, role, action):
    parties = make.parties()
    request_id = make.request(parties, status)
    question = _questions(_page(auth, getattr(parties, role), f"/requests/{request_id}", "ko"))[action]
    assert re.search(r"[가-힣]", question) and not re.search(r"[A-Za-z]{4,}", question)
