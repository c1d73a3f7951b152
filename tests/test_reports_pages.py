"""Scorecard pages, the page that explains the measures and the lists of requests behind a figure."""
import re
from datetime import timedelta

import pytest

from tests.reports_support import kst, shaped

PERIOD = {"from": "2026-11-01", "to": "2026-12-01"}


@pytest.fixture
def two_platforms(make):
    first = make.parties()
    second = make.parties()
    issued = kst(2026, 11, 10, 9, 0)
    for _ in range(5):
        shaped(make, first, issued=issued, status="responded_fully", outcomes=[("removed", issued + timedelta(hours=2))])
    late = shaped(make, second, issued=issued, deadline=kst(2026, 11, 11, 0, 0))
    return first, second, late


def _code(app, organisation_id):
    from portal.accounts.models import Organisation
    from portal.extensions import db

    with app.app_context():
        return db.session.get(Organisation, organisation_id).code


@pytest.mark.parametrize("role", ["regulator_officer", "regulator_supervisor", "secretariat"])
def test_agencies_and_secretariat_see_every_platform(app, client, auth, two_platforms, role):
    first, second, _late = two_platforms
    auth.as_role(role)
    page = client.get("/reports/", query_string=PERIOD).get_data(as_text=True)
    assert _code(app, first.platform) in page and _code(app, second.platform) in page
    assert "100.0 %" in page  # five of five within the deadline


def test_a_platform_sees_only_its_own_figures(app, client, auth, two_platforms):
    first, second, _late = two_platforms
    auth.login(first.agent)
    page = client.get("/reports/", query_string=PERIOD).get_data(as_text=True)
    assert _code(app, first.platform) in page and _code(app, second.platform) not in page


def test_a_platform_asking_for_another_platform_gets_404(app, client, auth, two_platforms):
    first, second, _late = two_platforms
    auth.login(first.agent)
    assert client.get("/reports/", query_string={**PERIOD, "platform": _code(app, second.platform)}).status_code == 404
    assert client.get("/reports/requests", query_string={
        **PERIOD, "platform": _code(app, second.platform), "measure": "received"}).status_code == 404


def test_small_cells_show_no_share(app, client, auth, two_platforms):
    _first, second, _late = two_platforms
    auth.as_role("secretariat")
    page = client.get("/reports/", query_string={**PERIOD, "platform": _code(app, second.platform)}).get_data(as_text=True)
    assert "Fewer than 5 requests" in page and " %" not in page.split("Outcome mix")[0].split("Fewer than")[1]


def test_every_figure_links_to_the_requests_behind_it(app, client, auth, two_platforms):
    _first, second, late = two_platforms
    auth.login(second.officer)
    page = client.get("/reports/", query_string=PERIOD).get_data(as_text=True)
    code = _code(app, second.platform)
    assert f"/reports/requests?platform={code}&amp;measure=overdue_now" in page
    listing = client.get("/reports/requests", query_string={**PERIOD, "platform": code, "measure": "overdue_now"})
    assert listing.status_code == 200
    assert f"/requests/{late}" in listing.get_data(as_text=True)  # its own agency's request opens


def test_requests_behind_of_another_agency_are_listed_without_a_link(app, client, auth, two_platforms):
    first, _second, _late = two_platforms
    auth.as_role("regulator_officer")
    listing = client.get("/reports/requests", query_string={
        **PERIOD, "platform": _code(app, first.platform), "measure": "within_deadline"}).get_data(as_text=True)
    assert listing.count("<tr><td>") == 5
    assert not re.search(r'href="/requests/[0-9]', listing)


def test_unknown_measure_is_404(client, auth):
    auth.as_role("secretariat")
    assert client.get("/reports/requests", query_string={"measure": "nope"}).status_code == 404


def test_a_bad_period_falls_back_to_this_month_with_a_message(client, auth):
    auth.as_role("secretariat")
    page = client.get("/reports/", query_string={"from": "2026-13-01"})
    assert page.status_code == 200 and "YYYY-MM-DD" in page.get_data(as_text=True)


@pytest.mark.parametrize(("lang", "word"), [("en", "Time to act"), ("ko", "조치 시간")])
def test_the_measures_are_explained_in_both_languages(client, auth, lang, word):
    auth.as_role("regulator_officer")
    page = client.get("/reports/measures", query_string={"lang": lang})
    assert page.status_code == 200 and word in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["system_admin"])
def test_roles_without_reports_are_refused(client, auth, role):
    auth.as_role(role)
    assert client.get("/reports/").status_code in (403, 404)


def test_scorecard_in_the_menu(client, auth):
    auth.as_role("secretariat")
    assert "/reports/" in client.get("/home").get_data(as_text=True)
