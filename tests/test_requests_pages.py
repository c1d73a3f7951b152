"""The pages, through the test client: the whole flow by form posts, both languages, inert addresses."""
import io
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.requests.models import Request, RequestItem

ADDRESS = "https://victim-site.example/private/alice-123"


def _flow_until_issued(make, auth, client, app):
    parties = make.parties()
    auth.login(parties.officer)
    response = client.post("/requests/new", data={
        "platform_id": parties.platform, "request_type": "removal", "category": "deepfake", "priority": "urgent",
        "legal_basis_id": "", "legal_basis_text": "정보통신망법 제44조의7", "summary_ko": "딥페이크 삭제 요청",
        "summary_en": "Removal of deepfakes"})
    assert response.status_code == 302, response.get_data(as_text=True)
    request_id = int(re.search(r"/requests/(\d+)/items/add", response.location).group(1))
    csv = "url,sha256,md5,pdq,note\nhttps://cdn.example.net/v/1,,,,영상\n".encode("cp949")
    response = client.post(f"/requests/{request_id}/items/add", data={
        "lines": f"{ADDRESS}\n{ADDRESS}#dup\n", "csv_file": (io.BytesIO(csv), "items.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert client.post(f"/requests/{request_id}/submit").status_code == 302
    auth.logout()
    auth.login(parties.supervisor)
    assert client.post(f"/requests/{request_id}/issue").status_code == 302
    auth.logout()
    return parties, request_id


def test_officer_drafts_supervisor_issues_platform_answers_officer_closes(app, make, auth, client):
    parties, request_id = _flow_until_issued(make, auth, client, app)
    auth.login(parties.agent)
    assert client.post(f"/requests/{request_id}/acknowledge").status_code == 302
    with app.app_context():
        ids = list(db.session.scalars(select(RequestItem.id).where(RequestItem.request_id == request_id)))
    assert len(ids) == 2  # the duplicate was merged
    client.post(f"/requests/{request_id}/outcomes", data={"scope": "selected", "item": [str(ids[0])],
                                                          "outcome": "removed"})
    client.post(f"/requests/{request_id}/items/{ids[1]}", data={"outcome": "declined", "decline_reason": "Not us"})
    assert client.post(f"/requests/{request_id}/respond").status_code == 302
    auth.logout()
    auth.login(parties.officer)
    assert client.post(f"/requests/{request_id}/close").status_code == 302
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert req.status == "closed" and req.responded_at and req.acknowledged_at
        assert [e for e in db.session.scalars(select(RequestItem.decline_reason).where(
            RequestItem.request_id == request_id)) if e] == ["Not us"]


def test_wrong_lines_are_listed_by_number_and_the_text_kept(app, make, auth, client):
    parties = make.parties()
    request_id = make.request(parties, "draft", urls=())
    auth.login(parties.officer)
    response = client.post(f"/requests/{request_id}/items/add?lang=en",
                           data={"lines": "https://ok.example/\nftp://bad.example/\n"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Line 2: Only http:// and https:// addresses are accepted." in page
    assert "ftp://bad.example/" in page  # the pasted text is still there to fix


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("who", ["officer", "supervisor", "agent", "platform_admin"])
def test_every_page_renders_in_both_languages_with_inert_addresses(app, make, auth, client, language, who):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged", urls=(ADDRESS,))
    auth.login(getattr(parties, who))
    with app.app_context():
        item_id = db.session.scalar(select(RequestItem.id).where(RequestItem.request_id == request_id))
    pages = [f"/requests/?lang={language}", f"/requests/{request_id}?lang={language}",
             f"/requests/{request_id}/items/{item_id}?lang={language}"]
    if who in ("officer", "supervisor"):
        pages.append(f"/requests/new?lang={language}")
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in page
        assert not re.search(r'<(a|img|iframe|link|script)[^>]+(href|src)="[^"]*victim-site', page)
        assert "<script>" not in page and " on" + "click=" not in page
    detail = client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert f'<code class="portal-inert-url" id="url-{item_id}" translate="no">{ADDRESS}</code>' in detail
    assert f'data-copy="url-{item_id}"' in detail


def test_overdue_requests_stand_out_in_the_inbox(app, make, auth, client):
    from datetime import datetime, timedelta, timezone

    import time_machine

    parties = make.parties()
    start = datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)
    with time_machine.travel(start, tick=False):
        late = make.request(parties, priority="urgent")
        very_late = make.request(parties, priority="urgent")
    with time_machine.travel(start + timedelta(hours=30), tick=False):
        on_time = make.request(parties, priority="standard")
    with app.app_context():
        db.session.get(Request, very_late).very_overdue_from = start + timedelta(hours=29)
        db.session.commit()
        refs = {rid: db.session.get(Request, rid).reference for rid in (late, very_late, on_time)}
    with time_machine.travel(start + timedelta(hours=30), tick=False):
        auth.login(parties.agent)
        page = client.get("/requests/?lang=en").get_data(as_text=True)
        overdue_only = client.get("/requests/?overdue=y&lang=en").get_data(as_text=True)
    rows = re.findall(r'<tr class="([^"]*)">\s*<td><a href="/requests/\d+">([^<]+)</a>', page)
    assert rows == [("is-overdue", refs[late]), ("is-very-overdue", refs[very_late]), ("", refs[on_time])]
    assert "Very overdue" in page and "overdue by 6 h 0 min" in page
    assert refs[on_time] not in overdue_only and refs[late] in overdue_only


def test_inbox_pages_by_deadline(app, make, auth, client, monkeypatch):
    parties = make.parties()
    ids = [make.request(parties, urls=(f"https://example.com/{n}",)) for n in range(5)]
    monkeypatch.setattr("portal.requests.services.queries.PAGE_SIZE", 2)
    auth.login(parties.agent)
    seen, path, pages = [], "/requests/", 0
    while path:
        page = client.get(path).get_data(as_text=True)
        pages += 1
        seen += [int(i) for i in re.findall(r'<td><a href="/requests/(\d+)">', page)]
        found = re.search(r'href="(/requests/\?[^"]*after=[^"]+)">', page)
        path = found.group(1).replace("&amp;", "&") if found else None
    assert seen == ids and pages == 3


def test_filters(app, make, auth, client):
    parties = make.parties()
    urgent = make.request(parties, priority="urgent", request_type="blocking", category="ncii")
    standard = make.request(parties, priority="standard", request_type="removal", category="deepfake")
    closed = make.request(parties, "closed")
    with app.app_context():
        ref = {rid: db.session.get(Request, rid).reference for rid in (urgent, standard, closed)}
    auth.login(parties.agent)

    def listed(query):
        page = client.get(f"/requests/?{query}").get_data(as_text=True)
        return {rid for rid, r in ref.items() if r in page}

    assert listed("") == {urgent, standard}
    assert listed("status=all") == {urgent, standard, closed}
    assert listed("status=closed") == {closed}
    assert listed("priority=urgent") == {urgent}
    assert listed("request_type=removal") == {standard}
    assert listed("category=ncii") == {urgent}


def test_an_item_page_links_to_the_items_before_and_after_it(app, make, auth, client):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged", urls=("https://a.example/1", "https://a.example/2",
                                                             "https://a.example/3"))
    with app.app_context():
        first, middle, last = db.session.scalars(select(RequestItem.id).where(
            RequestItem.request_id == request_id).order_by(RequestItem.position))
    auth.login(parties.agent)
    page = client.get(f"/requests/{request_id}/items/{middle}").get_data(as_text=True)
    assert f'rel="prev" href="/requests/{request_id}/items/{first}"' in page
    assert f'rel="next" href="/requests/{request_id}/items/{last}"' in page
    first_page = client.get(f"/requests/{request_id}/items/{first}?lang=ko").get_data(as_text=True)
    assert 'rel="prev"' not in first_page and "다음 항목" in first_page
    assert 'rel="next"' not in client.get(f"/requests/{request_id}/items/{last}").get_data(as_text=True)


@pytest.mark.parametrize("language, reason_error, message_error", [
    ("ko", "사유를 입력하십시오.", "메시지: 이 항목은 필수입니다."),
    ("en", "Give a reason.", "Message: This field is required.")])
def test_empty_boxes_are_refused_by_the_server_in_the_pages_language(make, auth, client, language, reason_error,
                                                                      message_error):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    auth.login(parties.agent)
    for path, data, expected in ((f"/requests/{request_id}/extensions?lang={language}", {"reason": " "},
                                  reason_error),
                                 (f"/requests/{request_id}/messages?lang={language}", {"body": ""},
                                  message_error)):
        page = client.post(path, data=data, follow_redirects=True).get_data(as_text=True)
        assert expected in page, path
    # The boxes carry the translated text that portal.js shows in place of the browser's bubble.
    page = client.get(f"/requests/{request_id}?lang={language}").get_data(as_text=True)
    assert f'data-required-message="{reason_error}"' in page


def test_no_empty_actions_heading_for_a_user_with_nothing_to_do(app, make, auth, client):
    parties = make.parties()
    request_id = make.request(parties, "closed")
    auth.login(parties.agent)
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert ">Actions<" not in page


def test_a_name_that_ends_in_a_full_stop_closes_a_sentence_with_one():
    from portal.i18n import one_full_stop

    assert one_full_stop("Sent to GlobeChat Messenger Ltd..") == "Sent to GlobeChat Messenger Ltd."
    assert one_full_stop("Wait... then go.") == "Wait... then go."
    assert one_full_stop("GlobeChat Ltd.에 보냈습니다.") == "GlobeChat Ltd.에 보냈습니다."
