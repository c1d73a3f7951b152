"""The request list written in one pass (portal/requests/listing.py), and the per-page look-ups that made the
inbox several times faster (issue 15): each must show what the templates showed, in both languages."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from babel.dates import format_datetime
from sqlalchemy import event

from portal.core import clock
from portal.extensions import db
from portal.requests.models import Request

START = datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)


def _row(page: str, reference: str) -> str:
    match = re.search(r'<tr class="[^"]*"><td><a href="/requests/\d+">' + re.escape(reference) + r"</a>.*?</tr>", page)
    assert match, f"no row of {reference}"
    return match.group(0)


def _issued_at_start(app, make, parties, **fields) -> tuple[int, str]:
    """A request issued at START (an urgent one is due 24 hours later): its id and reference."""
    with time_machine.travel(START, tick=False):
        request_id = make.request(parties, **fields)
    with app.app_context():
        return request_id, db.session.get(Request, request_id).reference


def test_a_row_names_the_other_side_and_translates_every_code_in_both_languages(app, make, auth, client):
    parties = make.parties()
    with time_machine.travel(START, tick=False):
        request_id = make.request(parties, request_type="removal", category="deepfake", priority="urgent")
    with app.app_context():
        req = db.session.get(Request, request_id)
        reference, agency, platform = req.reference, req.agency, req.platform
        names = {"agency": (agency.name_ko, agency.name_en), "platform": (platform.name_ko, platform.name_en)}
    with time_machine.travel(START + timedelta(hours=2), tick=False):
        auth.login(parties.agent)
        english = _row(client.get("/requests/?lang=en").get_data(as_text=True), reference)
        korean = _row(client.get("/requests/?lang=ko").get_data(as_text=True), reference)
        auth.logout()
        auth.login(parties.officer)
        officer = _row(client.get("/requests/?lang=en").get_data(as_text=True), reference)
    assert f"<td>{names['agency'][1]}</td>" in english and f"<td>{names['agency'][0]}</td>" in korean
    assert f"<td>{names['platform'][1]}</td>" in officer  # an agency's list names the platform
    assert "Removal<span class=\"portal-summary\">Sexual deepfake</span>" in english
    assert "<strong>Urgent</strong>" in english and "<strong>긴급</strong>" in korean
    assert "삭제" in korean and "성적 허위영상물(딥페이크)" in korean
    assert "25 November 2026" in english and "2026년 11월 25일" in korean
    # The deadline in KST and the platform's zone, with its countdown: what the request page shows too.
    with app.app_context():
        deadline = db.session.get(Request, request_id).deadline
    assert clock.format_moment(deadline, "America/Los_Angeles", "en") in english
    assert clock.format_moment(deadline, "America/Los_Angeles", "ko") in korean
    assert 'class="portal-countdown"' in english and " left</span>" in english and " 남음</span>" in korean


def test_lateness_marks_the_row_and_its_deadline_and_the_request_page_agrees(app, make, auth, client):
    parties = make.parties()
    late, reference = _issued_at_start(app, make, parties, priority="urgent")
    with time_machine.travel(START + timedelta(hours=30), tick=False):
        auth.login(parties.agent)
        page = client.get("/requests/?lang=en").get_data(as_text=True)
        detail = client.get(f"/requests/{late}?lang=en").get_data(as_text=True)
    row = _row(page, reference)
    assert row.startswith('<tr class="is-overdue">')
    assert 'class="portal-deadline is-overdue"' in row and "portal-badge-warning\">Overdue</strong>" in row
    assert "overdue by 6 h 0 min" in row and "portal-deadline-explained" not in row
    # The request page's deadline cell is the same one, with the sentence that explains it.
    assert 'class="portal-deadline is-overdue"' in detail and "portal-deadline-explained" in detail
    assert "overdue by 6 h 0 min" in detail


def test_an_agency_sees_its_request_whose_notice_is_being_prepared(app, make, auth, client):
    parties = make.parties()
    request_id = make.request(parties)
    with app.app_context():
        req = db.session.get(Request, request_id)
        req.notice_ready_at = None
        reference = req.reference
        db.session.commit()
    auth.login(parties.officer)
    row = _row(client.get("/requests/?lang=en").get_data(as_text=True), reference)
    assert "Issued · Notice being prepared" in row
    auth.logout()
    auth.login(parties.agent)  # the platform sees it once the notice is ready
    assert reference not in client.get("/requests/?lang=en").get_data(as_text=True)


def test_names_in_a_row_are_escaped(app, make, auth, client):
    agency = make.organisation("agency", name_en="<script>alert(1)</script> & Co", name_ko="<b>기관</b>")
    parties = make.parties()
    officer_less = make.user("platform_agent", parties.platform, language="en")
    with app.app_context():
        db.session.get(Request, make.request(parties)).agency_id = agency
        db.session.commit()
    auth.login(officer_less)
    page = client.get("/requests/?lang=en").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    assert "&lt;b&gt;기관&lt;/b&gt;" in client.get("/requests/?lang=ko").get_data(as_text=True)


# --- Dates without Babel's pattern machinery, as Babel writes them ------------------------------------------

MOMENTS = [datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc), datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc),
           datetime(2027, 2, 28, 14, 3, 59, 999999, tzinfo=timezone.utc), datetime(1, 1, 2, 9, 5, tzinfo=timezone.utc),
           datetime(9999, 12, 30, 1, 1, tzinfo=timezone.utc)] + \
          [datetime(2026, month, 9 + month, month, 7 * month % 60, tzinfo=timezone.utc) for month in range(1, 13)]


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("kind", ["moment", "day", "meeting", "clock"])
def test_the_compiled_formats_write_what_babel_writes(kind, language):
    for moment in MOMENTS:
        expected = clock.drawable(format_datetime(moment, clock.PATTERNS[language][kind], tzinfo=clock.KST,
                                                  locale=language))
        assert clock.format_local(moment, clock.KST, kind, language) == expected, (moment, kind, language)
    assert clock.format_day(date(2026, 3, 4), "en") == "4 March 2026"
    assert clock.format_day(date(2026, 3, 4), "ko") == "2026년 3월 4일"


def test_a_pattern_with_a_field_the_formatter_does_not_know_is_refused(monkeypatch):
    monkeypatch.setitem(clock.PATTERNS, "en", {**clock.PATTERNS["en"], "odd": "QQQ yyyy"})
    with pytest.raises(ValueError, match="not supported"):
        clock.format_local(START, clock.KST, "odd", "en")


# --- Template catalogue, menu, cookie -----------------------------------------------------------------------

def test_the_pages_gettext_keeps_jinja_rules(app):
    with app.test_request_context("/?lang=en"):
        render = app.jinja_env.from_string
        assert render('{{ _("Line %(line)s: %(message)s", line=3, message="<b>") }}').render(
            **_context(app)) == "Line 3: &lt;b&gt;"
        assert render('{{ ngettext("%(num)s request", "%(num)s requests", 12345) }}').render(
            **_context(app)) == "12,345 requests"
    with app.test_request_context("/?lang=ko"):
        assert app.jinja_env.from_string('{{ _("Requests") }}').render(**_context(app)) == "요청 목록"


def _context(app) -> dict:
    context: dict = {}
    app.update_template_context(context)
    return context


def test_the_menu_follows_the_role_and_the_language(app, make, auth, client):
    parties = make.parties()
    auth.login(parties.agent)
    english = client.get("/home?lang=en").get_data(as_text=True)
    korean = client.get("/home?lang=ko").get_data(as_text=True)
    assert ">Requests</a>" in english and ">요청 목록</a>" in korean
    assert ">New request</a>" not in english  # a platform drafts nothing
    auth.logout()
    auth.login(parties.officer)
    assert ">New request</a>" in client.get("/home?lang=en").get_data(as_text=True)


def test_a_page_does_not_send_the_session_cookie_again(app, make, auth, client):
    parties = make.parties()
    auth.login(parties.agent)
    client.get("/requests/")  # the first page's forms put the CSRF secret in the session: sent once
    response = client.get("/requests/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers  # not re-signed on every page; the idle timeout is kept server-side


@pytest.mark.parametrize("side", ["agent", "officer"])
def test_the_inbox_and_its_count_read_the_partial_open_index_on_sqlite(app, make, side):
    parties = make.parties()
    make.request(parties)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the plan is SQLite's; PostgreSQL chooses by its statistics")
        from portal.accounts.models import User
        from portal.requests.services.queries import Filters, list_requests

        viewer = db.session.get(User, getattr(parties, side).id)
        statements = []

        def note(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            page = list_requests(viewer, Filters(), count=True, rows=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        assert page.total == 1 and page.requests[0].counterpart_name_en
        # The count rides on the page's one statement, as a subquery. Both read the side's open index, which
        # holds only what the side may see: SQLite takes a partial index only when the statement carries its
        # condition as written, so the statuses are values in the statement, not parameters.
        assert len(statements) == 1, statements
        statement, parameters = statements[0]
        assert "NOT IN ('awaiting_approval', 'draft')" in statement
        plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        index = f"INDEX ix_requests_{'platform' if side == 'agent' else 'agency'}_open_deadline"
        subquery = [row[-1] for row in plan if row[1] != 0]  # the rows under "SCALAR SUBQUERY"
        outer = [row[-1] for row in plan if row[1] == 0 and row[-1].startswith("SEARCH requests")]
        assert any(index in step for step in subquery) and any(index in step for step in outer), plan


def test_the_count_is_right_on_every_page_and_on_an_empty_one(app, make):
    parties = make.parties()
    for _ in range(5):
        make.request(parties)
    with app.app_context():
        from portal.accounts.models import User
        from portal.requests.services.queries import Filters, list_requests

        agent = db.session.get(User, parties.agent.id)
        first = list_requests(agent, Filters(), limit=2, count=True, rows=True)
        second = list_requests(agent, Filters(), after=first.next_after, limit=2, count=True, rows=True)
        last = list_requests(agent, Filters(), after=second.next_after, limit=2, count=True, rows=True)
        assert [len(p.requests) for p in (first, second, last)] == [2, 2, 1]
        assert first.total == second.total == last.total == 5  # the filters' count, not the page's
        beyond = list_requests(agent, Filters(), after=f"{last.requests[-1].deadline.isoformat()}|{10**9}",
                               limit=2, count=True, rows=True)
        assert beyond.requests == [] and beyond.total == 5
        nothing = list_requests(agent, Filters(reference="ZZ-0000-000000"), count=True, rows=True)
        assert nothing.requests == [] and nothing.total == 0


# --- What is made once and kept (core/memo): never a stale page -------------------------------------------

def test_a_kept_row_still_counts_down_and_turns_overdue_as_time_passes(app, make, auth, client):
    parties = make.parties()
    request_id, reference = _issued_at_start(app, make, parties, priority="urgent")
    seen = []
    for hours in (2, 2, 23.5, 30):
        with time_machine.travel(START + timedelta(hours=hours), tick=False):
            auth.login(parties.agent)  # a session of that moment (an older one would have timed out)
            seen.append(_row(client.get("/requests/?lang=en").get_data(as_text=True), reference))
            auth.logout()
    assert seen[0] == seen[1]  # the same page twice: the same row
    assert "22 h 0 min left" in seen[0] and seen[0].startswith('<tr class="">')
    assert "0 h 30 min left" in seen[2] and seen[2].startswith('<tr class="">')
    assert "overdue by 6 h 0 min" in seen[3] and seen[3].startswith('<tr class="is-overdue">')
    # The cells that do not depend on time are the same in every one.
    cells = [row.split('<span class="portal-deadline')[0].split(">", 1)[1] for row in seen]
    assert len(set(cells)) == 1


def test_a_row_shows_its_new_status_and_the_list_count_follows(app, make, auth, client):
    parties = make.parties()
    request_id = make.request(parties)
    with app.app_context():
        reference = db.session.get(Request, request_id).reference
    auth.login(parties.agent)
    before = client.get("/requests/?lang=en&status=all").get_data(as_text=True)
    assert ">Issued<" in _row(before, reference)
    with app.app_context():
        req = db.session.get(Request, request_id)
        req.status, req.is_open = "acknowledged", True
        db.session.commit()
    after = client.get("/requests/?lang=en&status=all").get_data(as_text=True)
    assert ">Acknowledged<" in _row(after, reference) and ">Issued<" not in _row(after, reference)
    with app.app_context():
        req = db.session.get(Request, request_id)
        req.status, req.is_open = "closed", False
        db.session.commit()
    # The default list (still owed an answer) was asked before: its kept statement reads the table anew.
    assert reference not in client.get("/requests/?lang=en").get_data(as_text=True)


def test_the_overdue_filter_is_as_of_each_page_not_of_the_first(app, make, auth, client):
    parties = make.parties()
    request_id, reference = _issued_at_start(app, make, parties, priority="urgent")
    for hours, listed in ((23, False), (25, True)):
        with time_machine.travel(START + timedelta(hours=hours), tick=False):
            auth.login(parties.agent)
            assert (reference in client.get("/requests/?lang=en&overdue=y").get_data(as_text=True)) is listed
            auth.logout()


def test_the_filter_panel_shows_each_choice_in_each_language(app, make, auth, client):
    parties = make.parties()
    make.request(parties)
    auth.login(parties.agent)
    plain = client.get("/requests/?lang=en").get_data(as_text=True)
    chosen = client.get("/requests/?lang=en&priority=urgent&overdue=y").get_data(as_text=True)
    korean = client.get("/requests/?lang=ko&priority=urgent&overdue=y").get_data(as_text=True)
    assert '<details class="portal-filter-panel">' in plain and "in use" not in plain
    assert '<details class="portal-filter-panel" open>' in chosen and "2 in use" in chosen
    assert re.search(r'<option selected value="urgent">Urgent</option>', chosen)
    assert re.search(r'<input checked id="overdue" name="overdue" type="checkbox" value="y">', chosen)
    assert re.search(r'<option selected value="urgent">긴급</option>', korean) and "필터" in korean
    # Asked again, the first panel is unchanged: nothing of the second leaked into it.
    assert client.get("/requests/?lang=en").get_data(as_text=True).count("selected value=") == plain.count("selected value=")
