"""API v1 of minutes: creation once, ETag and If-Match (merge, 409 with both texts, 428), the lifecycle
with 409 after publishing, the amendment chain, comments, action items, and 404 across organisations."""
import hashlib
from datetime import date, timedelta

from portal.accounts.models import Organisation
from portal.extensions import db
from tests.api_support import api_as
from tests.consultations_support import consultation
from tests.minutes_support import minutes


def _code(app, organisation_id):
    with app.app_context():
        return db.session.get(Organisation, organisation_id).code


def test_create_from_the_agenda_then_409_when_it_exists(app, client, make):
    parties = make.parties()
    secretariat = make.user("secretariat", make.organisation("secretariat"))
    from portal.consultations.services import AgendaEntry

    meeting = consultation(make, parties.officer, [parties.platform], agenda=[AgendaEntry("안건", "Item")])
    api = api_as(app, client, secretariat)
    response = api.post(f"/consultations/{meeting.id}/minutes")
    assert response.status_code == 201
    body = response.get_json()["minutes"]
    assert body["status"] == "draft" and body["version"] == 1 and body["revision"] == 0
    assert [s["title_en"] for s in body["sections"]] == ["Item", "Other business"]
    assert response.headers["ETag"] == body["etag"]
    assert api.post(f"/consultations/{meeting.id}/minutes").status_code == 409
    # Agencies and platforms do not keep minutes.
    assert api_as(app, client, parties.officer).post(f"/consultations/{meeting.id}/minutes").status_code == 403


def test_if_match_merges_other_sections_and_refuses_the_same_one(app, client, make):
    setting = minutes(make)
    first = api_as(app, client, setting.secretariat)
    second = api_as(app, client, make.user("secretariat", setting.secretariat.organisation_id))
    etag = first.get(f"/minutes/{setting.minutes_id}").headers["ETag"]
    a, b = setting.section_ids[0], setting.section_ids[1]
    path = f"/minutes/{setting.minutes_id}/sections/"
    assert first.patch(path + str(a), json={"text_en": "x"}).status_code == 428
    one = first.patch(path + str(a), json={"text_ko": "가", "text_en": "First"}, headers={"If-Match": etag})
    assert one.status_code == 200 and one.headers["ETag"] != etag
    # Stale ETag, another section: merged.
    two = second.patch(path + str(b), json={"text_en": "Second"}, headers={"If-Match": etag})
    assert two.status_code == 200
    sections = {s["id"]: s for s in two.get_json()["minutes"]["sections"]}
    assert sections[a]["text_en"] == "First" and sections[b]["text_en"] == "Second"
    # Stale ETag, the same section: 409 with both texts; nothing overwritten.
    three = second.patch(path + str(a), json={"text_en": "Mine"}, headers={"If-Match": etag})
    assert three.status_code == 409
    refused = three.get_json()
    assert refused["current"]["text_en"] == "First" and refused["mine"]["text_en"] == "Mine"
    assert refused["etag"] == two.headers["ETag"]
    assert second.patch(path + str(a), json={"text_en": "Merged"},
                        headers={"If-Match": refused["etag"]}).status_code == 200


def test_unknown_field_is_refused_naming_it(app, client, make):
    setting = minutes(make)
    api = api_as(app, client, setting.secretariat)
    etag = api.get(f"/minutes/{setting.minutes_id}").headers["ETag"]
    response = api.patch(f"/minutes/{setting.minutes_id}/sections/{setting.section_ids[0]}",
                         json={"text_fr": "non"}, headers={"If-Match": etag})
    assert response.status_code == 422 and response.get_json()["field"] == "text_fr"


def test_lifecycle_comments_409_after_publishing_and_amendment_chain(app, client, make):
    setting = minutes(make)
    keeper = api_as(app, client, setting.secretariat)
    agent = api_as(app, client, setting.parties.agent)
    m = f"/minutes/{setting.minutes_id}"
    assert agent.get(m).status_code == 404  # a draft is the secretariat's alone
    assert keeper.post(m + "/circulate", json={"comment_days": 0}).get_json()["minutes"]["status"] == "circulated"
    comment = agent.post(m + "/comments", json={"section": setting.section_ids[0], "text": "Our view"})
    assert comment.status_code == 201 and comment.get_json()["comment"]["version"] == 1
    assert keeper.post(m + "/approve").status_code == 200
    published = keeper.post(m + "/publish")
    assert published.get_json()["minutes"]["status"] == "published"
    etag = published.headers["ETag"]
    assert keeper.patch(f"{m}/sections/{setting.section_ids[0]}", json={"text_en": "late"},
                        headers={"If-Match": etag}).status_code == 409
    assert keeper.post(m + "/publish").status_code == 409
    assert agent.post(m + "/comments", json={"section": setting.section_ids[0], "text": "late"}).status_code == 409
    amended = keeper.post(m + "/amend")
    assert amended.status_code == 201
    v2 = amended.get_json()["minutes"]
    assert v2["version"] == 2 and v2["amends"] == setting.minutes_id and v2["status"] == "draft"
    assert keeper.post(m + "/amend").status_code == 409
    assert agent.get(m).get_json()["minutes"]["status"] == "published"


def test_every_participant_downloads_the_published_pdf_and_no_one_else(app, client, make):
    setting = minutes(make)
    keeper = api_as(app, client, setting.secretariat)
    m = f"/minutes/{setting.minutes_id}"
    for step in ("/circulate", "/approve", "/publish"):
        assert keeper.post(m + step, json={"comment_days": 0} if step == "/circulate" else {}).status_code == 200
    agent = api_as(app, client, setting.parties.agent)
    [listed] = agent.get(m).get_json()["documents"]
    assert listed["kind"] == "minutes" and listed["download"].endswith(f"{m}/documents/{listed['id']}")
    response = agent.get(f"{m}/documents/{listed['id']}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert hashlib.sha256(response.data).hexdigest() == listed["sha256"]
    assert agent.get(f"{m}/documents/{listed['id'] + 1000}").status_code == 404
    outsider = api_as(app, client, make.parties().agent)
    assert outsider.get(f"{m}/documents/{listed['id']}").status_code == 404


def test_action_items_owner_list_status_and_404_across_organisations(app, client, make):
    setting = minutes(make)
    keeper = api_as(app, client, setting.secretariat)
    request_id = make.request(setting.parties)
    response = keeper.post(f"/minutes/{setting.minutes_id}/sections/{setting.section_ids[0]}/action-items", json={
        "text_ko": "보고서 제출", "text_en": "Submit the report", "owner": _code(app, setting.parties.platform),
        "due": (date.today() + timedelta(days=10)).isoformat(), "requests": [request_id]})
    assert response.status_code == 201
    item = response.get_json()["action_item"]
    assert item["requests"] == [request_id] and item["status"] == "open"
    agent = api_as(app, client, setting.parties.agent)
    listed = agent.get("/action-items?owner=me&status=open").get_json()["action_items"]
    assert [i["id"] for i in listed] == [item["id"]]
    stranger = api_as(app, client, make.parties().agent)
    assert stranger.get("/action-items?owner=me").get_json()["action_items"] == []
    assert stranger.patch(f"/action-items/{item['id']}", json={"status": "done"}).status_code == 404
    assert stranger.get(f"/minutes/{setting.minutes_id}").status_code == 404
    done = agent.patch(f"/action-items/{item['id']}", json={"status": "done"})
    assert done.status_code == 200 and done.get_json()["action_item"]["status"] == "done"
