"""Absolute links in e-mails, documents and webhooks are built from `PUBLIC_BASE_URL` and the URL map
(portal/core/links), the same inside an HTTP request as in the worker or the CLI: no fake request context."""
from __future__ import annotations

from pathlib import Path

import pytest

from portal.core.documents.codes import verification_url
from portal.extensions import db
from portal.requests import services as requests
from portal.requests.models import Request


def test_no_module_builds_links_in_a_fake_request_context():
    portal = Path(__file__).resolve().parent.parent / "portal"
    assert [str(p.relative_to(portal)) for p in portal.rglob("*.py")
            if "test_request_context" in p.read_text(encoding="utf-8")] == []


def test_request_and_verification_links_are_the_same_outside_and_inside_a_request(app, make):
    request_id = make.request(make.parties(), "issued")
    with app.app_context():  # as in the worker: no HTTP request at all
        outside = requests.request_link(db.session.get(Request, request_id)), verification_url("ABCD2345EFGH")
    with app.test_request_context("/somewhere/else"):
        inside = requests.request_link(db.session.get(Request, request_id)), verification_url("ABCD2345EFGH")
    assert outside == inside == (f"http://portal.test/requests/{request_id}",
                                 "http://portal.test/verify/ABCD2345EFGH")


@pytest.mark.parametrize("app_config", [{"PUBLIC_BASE_URL": "https://gov.example.kr/cooperation/"}])
def test_a_base_address_under_a_path_keeps_its_path(app, make):
    request_id = make.request(make.parties(), "issued")
    with app.app_context():
        assert requests.request_link(db.session.get(Request, request_id)) == \
            f"https://gov.example.kr/cooperation/requests/{request_id}"
        assert verification_url("ABCD2345EFGH") == "https://gov.example.kr/cooperation/verify/ABCD2345EFGH"
