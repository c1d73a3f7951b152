"""Search as users type it: a reference fragment, an address as pasted (normalised like items), a hash, words
of the summary; always within the requests the user may see."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.requests import services
from portal.requests.models import Request, RequestItem


def _found(app, user_id: int, **filters) -> set[int]:
    with app.test_request_context():
        user = db.session.get(User, user_id)
        return {r.id for r in services.list_requests(user, services.Filters(status="all", **filters)).requests}


@pytest.fixture
def issued(app, make):
    parties = make.parties()
    request_id = make.request(parties, "issued", urls=("https://victim.example/private/alice-123",))
    with app.app_context():
        reference = db.session.get(Request, request_id).reference
    return parties, request_id, reference


def test_a_reference_fragment_finds_the_request(app, issued):
    parties, request_id, reference = issued
    assert request_id in _found(app, parties.officer.id, text=reference[-6:])


@pytest.mark.parametrize("pasted", ["victim.example/private/alice-123", "victim.example/private/alice-123/",
                                    "https://VICTIM.example/private/alice-123#t=5"])
def test_an_address_as_pasted_finds_the_request(app, issued, pasted):
    parties, request_id, _reference = issued
    assert request_id in _found(app, parties.agent.id, text=pasted)


def test_the_search_form_sends_an_address_without_scheme_by_its_hashes(app, issued, auth):
    parties, request_id, _reference = issued
    auth.login(parties.officer)
    response = auth.client.post("/requests/search", data={"q": "victim.example/private/alice-123"})
    assert "victim.example" not in response.headers["Location"] and "url=" in response.headers["Location"]
    assert f"/requests/{request_id}" in auth.client.get(response.headers["Location"]).data.decode()


def test_a_hash_finds_the_request(app, issued):
    parties, request_id, _reference = issued
    with app.app_context():
        url_hash = db.session.scalars(select(RequestItem.url_hash).where(RequestItem.request_id == request_id)).one()
    assert request_id in _found(app, parties.officer.id, text=url_hash.upper())


def test_words_of_the_summary_find_the_request(app, issued):
    parties, request_id, _reference = issued
    assert request_id in _found(app, parties.officer.id, text="test REQUEST")
    assert request_id in _found(app, parties.officer.id, text="시험")
    assert request_id not in _found(app, parties.officer.id, text="test nothing-like-this")


def test_another_platform_finds_nothing(app, make, issued):
    _parties, _request_id, reference = issued
    other = make.parties()
    for text in (reference[-6:], "victim.example/private/alice-123", "test request"):
        assert _found(app, other.agent.id, text=text) == set()


def test_sorting_and_paging_a_search_by_address_keep_every_variant_of_it(app, make, auth):
    """A pasted address without scheme is searched by the hashes of its variants (https, http, with and
    without the trailing slash): the sort links carry all of them, not the first (the pager's links are made
    from the same arguments)."""
    parties = make.parties()
    ids = [make.request(parties, "issued", urls=(url,)) for url in
           ("http://victim.example/private/bob", "https://victim.example/private/bob/")]
    auth.login(parties.officer)
    location = auth.client.post("/requests/search", data={"q": "victim.example/private/bob"}).headers["Location"]
    asked = parse_qs(urlsplit(location).query)["url"]
    assert len(asked) > 1
    page = auth.client.get(location).data.decode()
    assert all(f'href="/requests/{request_id}"' in page for request_id in ids)
    links = [link.replace("&amp;", "&") for link in re.findall(r'class="portal-sort-link" href="([^"]+)"', page)]
    assert links
    for link in links:
        assert sorted(parse_qs(urlsplit(link).query)["url"]) == sorted(asked)
        sorted_page = auth.client.get(link).data.decode()
        assert all(f'href="/requests/{request_id}"' in sorted_page for request_id in ids)
