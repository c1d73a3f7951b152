"""The list of requests and the inbox at a desk: a result count, sorting by column heading (a whitelisted
`sort`, keyset pages that stay right in every order) and filters that stay out of the way."""
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.requests import services
from portal.requests.labels import request_count
from portal.requests.models import STATUSES, Request
from portal.requests.services.queries import DEFAULT_SORT, SORTS, next_sort, sort_direction, sort_of


@pytest.mark.parametrize("asked, sort", [
    ("reference", "reference"), ("-issued", "-issued"), ("status", "status"), ("-deadline", "-deadline"),
    (None, DEFAULT_SORT), ("", DEFAULT_SORT), ("summary", DEFAULT_SORT), ("--status", DEFAULT_SORT),
    ("deadline; drop table requests", DEFAULT_SORT), ("Reference", DEFAULT_SORT),
])
def test_sort_parameter_is_whitelisted_and_falls_back_to_the_deadline(asked, sort):
    assert sort_of(asked) == sort


def test_headings_toggle_their_order_and_name_it_for_aria_sort():
    assert DEFAULT_SORT == "deadline" and set(SORTS) == {
        prefix + column for prefix in ("", "-") for column in ("deadline", "issued", "reference", "status")}
    assert sort_direction("deadline", "deadline") == "ascending"
    assert sort_direction("issued", "-issued") == "descending"
    assert sort_direction("reference", "deadline") is None
    assert next_sort("deadline", "deadline") == "-deadline" and next_sort("deadline", "-deadline") == "deadline"
    assert next_sort("issued", "deadline") == "-issued"  # the newest issued first
    assert next_sort("reference", "-issued") == "reference"


@pytest.mark.parametrize("language, one, many", [
    ("en", "1 request", "12,345 requests"), ("ko", "요청 1건", "요청 12,345건"),
])
def test_result_count_has_the_languages_thousands_separator(app, language, one, many):
    with app.test_request_context(f"/?lang={language}"):
        assert request_count(1) == one and request_count(12345) == many


@pytest.fixture
def listed(app, make):
    """Seven requests of one agency and platform in several states, issued one after the other."""
    parties = make.parties()
    ids = [make.request(parties, status, urls=(f"https://example.com/{n}",), priority=priority)
           for n, (status, priority) in enumerate([
               ("issued", "standard"), ("closed", "urgent"), ("acknowledged", "standard"), ("issued", "urgent"),
               ("withdrawn", "standard"), ("responded_partly", "urgent"), ("acknowledged", "urgent")])]
    return parties, ids


def _expected(app, ids, sort: str) -> list[int]:
    with app.app_context():
        rows = db.session.scalars(select(Request).where(Request.id.in_(ids))).all()
        key = {"deadline": lambda r: r.deadline, "issued": lambda r: r.issued_at,
               "reference": lambda r: r.reference, "status": lambda r: STATUSES.index(r.status)}[sort.lstrip("-")]
        return [r.id for r in sorted(rows, key=lambda r: (key(r), r.id), reverse=sort.startswith("-"))]


def _walk(client, path: str) -> tuple[list[int], int]:
    seen, pages = [], 0
    while path:
        page = client.get(path).get_data(as_text=True)
        pages += 1
        seen += [int(i) for i in re.findall(r'<td><a href="/requests/(\d+)">', page)]
        found = re.search(r'href="(/requests/\?[^"]*after=[^"]+)">', page)
        path = found.group(1).replace("&amp;", "&") if found else None
    return seen, pages


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_every_order_pages_through_every_request_once(app, auth, client, listed, monkeypatch, sort):
    parties, ids = listed
    monkeypatch.setattr("portal.requests.services.queries.PAGE_SIZE", 3)
    auth.login(parties.agent)
    seen, pages = _walk(client, f"/requests/?status=all&sort={sort}")
    assert seen == _expected(app, ids, sort) and pages == 3


def test_an_unknown_sort_lists_by_deadline_without_error(app, auth, client, listed):
    parties, ids = listed
    auth.login(parties.agent)
    response = client.get("/requests/?status=all&sort=nonsense")
    assert response.status_code == 200
    seen = [int(i) for i in re.findall(r'<td><a href="/requests/(\d+)">', response.get_data(as_text=True))]
    assert seen == _expected(app, ids, "deadline")


def test_a_page_link_of_another_order_shows_the_first_page(app, auth, client, listed):
    parties, ids = listed
    auth.login(parties.agent)
    response = client.get("/requests/?status=all&sort=-issued&after=AG1-2026-000003|4")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "This page link is not valid." in body
    assert [int(i) for i in re.findall(r'<td><a href="/requests/(\d+)">', body)] == _expected(app, ids, "-issued")


def test_the_sorted_heading_says_so_and_links_to_the_reverse(auth, client, listed):
    parties, _ids = listed
    auth.login(parties.agent)
    body = client.get("/requests/?status=all&sort=reference&priority=urgent").get_data(as_text=True)
    sorted_headings = re.findall(r'<th scope="col" aria-sort="(\w+)"><a class="portal-sort-link" href="([^"]+)">', body)
    assert len(sorted_headings) == 1
    direction, link = sorted_headings[0]
    assert direction == "ascending" and "sort=-reference" in link and "priority=urgent" in link
    assert 'href="/requests/?sort=-issued&amp;status=all&amp;priority=urgent"' in body
    assert "Requests sorted by reference, in ascending order" in body


@pytest.mark.parametrize("language, count", [("en", "4 requests"), ("ko", "요청 4건")])
def test_the_list_says_how_many_requests_match(auth, client, listed, language, count):
    parties, _ids = listed
    auth.login(parties.officer)
    body = client.get(f"/requests/?priority=urgent&status=all&lang={language}").get_data(as_text=True)
    assert f'<p class="portal-result-count" id="result-count">{count}</p>' in body


def test_the_count_counts_every_page_not_only_this_one(app, make, listed, monkeypatch):
    parties, ids = listed
    monkeypatch.setattr("portal.requests.services.queries.PAGE_SIZE", 2)
    with app.test_request_context():
        from portal.accounts.models import User
        agent = db.session.get(User, parties.agent.id)
        page = services.list_requests(agent, services.Filters(status="all"), count=True)
        assert len(page.requests) == 2 and page.total == len(ids)
        assert services.list_requests(agent, services.Filters(status="all")).total is None  # the API's lists


def test_filters_fold_away_unless_one_is_in_use(auth, client, listed):
    parties, _ids = listed
    auth.login(parties.agent)
    plain = client.get("/requests/").get_data(as_text=True)
    filtered = client.get("/requests/?priority=urgent").get_data(as_text=True)
    assert '<details class="portal-filter-panel">' in plain
    assert '<details class="portal-filter-panel" open>' in filtered and "1 in use" in filtered
