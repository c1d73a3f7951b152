"""Minutes: drafting from the agenda, no lost edits with two real editors, translation flags, history and
word diff, the lifecycle (409 once published), amendments, attendance per item, action items with their
reminders once, on the owner's home page and the request's page, and who may see what."""
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core import clock, jobs
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.minutes.diff import compare, tokens
from portal.minutes.models import ActionItem, Minutes, Revision, Section
from tests.minutes_support import minutes


def login(auth, user, client=None):
    auth.logout(client)
    auth.login(user, client)


def _minutes(app, minutes_id) -> Minutes:
    with app.app_context():
        m = db.session.get(Minutes, minutes_id)
        _ = [s.text_ko for s in m.sections]
        db.session.expunge_all()
        return m


def _save(client, setting, section_id, based_on, text_ko=None, text_en=None, keep=False):
    data = {f"s{section_id}-based_on": str(based_on)}
    if text_ko is not None:
        data[f"s{section_id}-text_ko"] = text_ko
    if text_en is not None:
        data[f"s{section_id}-text_en"] = text_en
    data[f"s{section_id}-{'keep' if keep else 'save'}"] = "1"
    return client.post(f"/minutes/{setting.minutes_id}/sections/{section_id}", data=data)


def _section(app, section_id) -> Section:
    with app.app_context():
        s = db.session.get(Section, section_id)
        db.session.expunge(s)
        return s


# --- Drafting ---------------------------------------------------------------------------------------------

def test_secretariat_drafts_minutes_from_the_agenda_once(app, client, make, auth):
    setting = minutes(make, agenda=3)
    m = _minutes(app, setting.minutes_id)
    assert m.status == "draft" and m.version == 1 and m.revision == 0
    assert [s.title_en for s in m.sections] == ["Item 1", "Item 2", "Item 3", "Other business"]
    login(auth, setting.secretariat)
    # Refused (the web answers a Conflict with its message and back to the page; the API with 409).
    assert client.post(f"/minutes/consultation/{setting.consultation_id}").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Minutes)) == 1
    assert client.get(f"/minutes/{setting.minutes_id}?lang=ko").status_code == 200
    assert client.get(f"/minutes/{setting.minutes_id}?lang=en").status_code == 200


def test_draft_minutes_are_the_secretariats_alone(app, client, make, auth):
    setting = minutes(make)
    for user in (setting.parties.officer, setting.parties.agent):
        login(auth, user)
        assert client.get(f"/minutes/{setting.minutes_id}").status_code == 404


def test_circulated_minutes_are_not_visible_to_another_platform(app, client, make, auth):
    setting = minutes(make, status="circulated")
    login(auth, setting.parties.agent)
    assert client.get(f"/minutes/{setting.minutes_id}").status_code == 200
    stranger = make.parties()
    login(auth, stranger.agent)
    assert client.get(f"/minutes/{setting.minutes_id}").status_code == 404
    assert client.post(f"/minutes/{setting.minutes_id}/comments",
                       data={"comment-section": setting.section_ids[0], "comment-text": "x"}).status_code == 404


# --- No lost edits: two real editors -----------------------------------------------------------------

def _two_editors(app, make, auth, setting):
    other = make.user("secretariat", db_org(app, setting.secretariat))
    first, second = app.test_client(), app.test_client()
    login(auth, setting.secretariat, first)
    login(auth, other, second)
    return first, second


def db_org(app, made):
    return made.organisation_id


def test_stale_save_of_another_section_merges(app, make, auth):
    setting = minutes(make)
    first, second = _two_editors(app, make, auth, setting)
    a, b = setting.section_ids[0], setting.section_ids[1]
    # Both opened the minutes at revision 0.
    assert _save(first, setting, a, 0, "첫째 안건 기록", "Record of the first item").status_code == 303
    assert _save(second, setting, b, 0, "둘째 안건 기록", "Record of the second item").status_code == 303
    assert _section(app, a).text_en == "Record of the first item"
    assert _section(app, b).text_en == "Record of the second item"
    with app.app_context():
        kinds = [r.kind for r in db.session.scalars(select(Revision).order_by(Revision.number))]
    assert kinds == ["edit", "merged"]
    assert _minutes(app, setting.minutes_id).revision == 2


def test_stale_save_of_the_same_section_is_refused_with_both_texts(app, make, auth):
    setting = minutes(make)
    first, second = _two_editors(app, make, auth, setting)
    a = setting.section_ids[0]
    assert _save(first, setting, a, 0, "먼저 쓴 글", "Written first").status_code == 303
    response = _save(second, setting, a, 0, "나중에 쓴 글", "Written second")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Written first" in page and "Written second" in page
    assert _section(app, a).text_en == "Written first"  # nothing overwritten
    # Merged by hand, based on the current revision: saved.
    assert _save(second, setting, a, 1, "합친 글", "Merged by hand").status_code == 303
    assert _section(app, a).text_en == "Merged by hand"


def test_changing_one_language_flags_the_other_until_edited_or_confirmed(app, client, make, auth):
    setting = minutes(make)
    login(auth, setting.secretariat)
    a = setting.section_ids[0]
    _save(client, setting, a, 0, "한국어 원문", "")
    s = _section(app, a)
    assert s.en_needs_update and not s.ko_needs_update
    _save(client, setting, a, 1, "한국어 원문", "English text")
    s = _section(app, a)
    assert not s.en_needs_update and not s.ko_needs_update
    _save(client, setting, a, 2, "한국어 원문 수정", "English text")
    assert _section(app, a).en_needs_update
    assert client.post(f"/minutes/{setting.minutes_id}/sections/{a}/confirm/en").status_code == 303
    assert not _section(app, a).en_needs_update


def test_autosaved_draft_is_kept_per_editor_and_shown_again(app, client, make, auth):
    setting = minutes(make)
    login(auth, setting.secretariat)
    a = setting.section_ids[0]
    assert _save(client, setting, a, 0, "저장 전 초안", "Unsaved draft", keep=True).status_code == 303
    assert _section(app, a).text_en == ""  # not saved, only kept
    page = client.get(f"/minutes/{setting.minutes_id}").get_data(as_text=True)
    assert "Unsaved draft" in page
    other = make.user("secretariat", setting.secretariat.organisation_id)
    login(auth, other)
    assert "Unsaved draft" not in client.get(f"/minutes/{setting.minutes_id}").get_data(as_text=True)


def test_page_script_autosave_answers_204_and_keeps_the_draft(app, client, make, auth):
    from portal.minutes.models import Draft

    setting = minutes(make)
    login(auth, setting.secretariat)
    a = setting.section_ids[0]
    response = client.post(f"/minutes/{setting.minutes_id}/sections/{a}/autosave",
                           data={f"s{a}-based_on": "0", f"s{a}-text_ko": "입력 중", f"s{a}-text_en": "Typing"})
    assert response.status_code == 204
    with app.app_context():
        draft = db.session.scalar(select(Draft).where(Draft.section_id == a))
        assert (draft.user_id, draft.text_en, draft.based_on) == (setting.secretariat.id, "Typing", 0)
    # Saving the section forgets the draft.
    _save(client, setting, a, 0, "입력 끝", "Done typing")
    with app.app_context():
        assert db.session.scalar(select(Draft).where(Draft.section_id == a)) is None


# --- History --------------------------------------------------------------------------------------------

def test_korean_diff_marks_whole_eojeol_and_punctuation_apart():
    assert tokens("회의에서 결정했다.") == ["회의에서", " ", "결정했다", "."]
    pieces = compare("플랫폼은 회의에서 결정했다.", "플랫폼은 회의에 결정했다!")
    assert [(p.kind, p.text) for p in pieces if p.kind != "same"] == [
        ("removed", "회의에서"), ("added", "회의에"), ("removed", "."), ("added", "!")]


def test_history_compares_two_revisions_and_restoring_makes_a_new_one(app, client, make, auth):
    setting = minutes(make)
    login(auth, setting.secretariat)
    a = setting.section_ids[0]
    _save(client, setting, a, 0, "첫 문장", "The first text")
    _save(client, setting, a, 1, "첫 문장 고침", "The second text")
    page = client.get(f"/minutes/{setting.minutes_id}/history?a=1&b=2&language=en").get_data(as_text=True)
    assert "<del>first</del>" in page and "<ins>second</ins>" in page
    page = client.get(f"/minutes/{setting.minutes_id}/history?a=1&b=2&language=ko").get_data(as_text=True)
    assert "<ins> 고침</ins>" in page or "<ins>고침</ins>" in page
    assert client.post(f"/minutes/{setting.minutes_id}/revisions/1/restore").status_code == 303
    assert _section(app, a).text_en == "The first text"
    with app.app_context():
        last = db.session.scalar(select(Revision).order_by(Revision.number.desc()).limit(1))
        assert (last.number, last.kind, last.restored_from) == (3, "restored", 1)


# --- Lifecycle ------------------------------------------------------------------------------------------

def test_whole_lifecycle_with_comments_approval_and_publication(app, client, make, auth):
    setting = minutes(make)
    login(auth, setting.secretariat)
    assert client.post(f"/minutes/{setting.minutes_id}/circulate", data={"circulate-comment_days": "0"}).status_code == 303
    login(auth, setting.parties.agent)
    assert client.post(f"/minutes/{setting.minutes_id}/comments",
                       data={"comment-section": setting.section_ids[0], "comment-text": "Please add our view"}).status_code == 303
    login(auth, setting.parties.officer)
    assert "Please add our view" in client.get(f"/minutes/{setting.minutes_id}").get_data(as_text=True)
    assert client.post(f"/minutes/{setting.minutes_id}/approve").status_code == 403
    login(auth, setting.secretariat)
    assert client.post(f"/minutes/{setting.minutes_id}/approve").status_code == 303
    m = _minutes(app, setting.minutes_id)
    assert m.status == "approved" and m.approved_by_id == setting.secretariat.id and m.approved_at is not None
    assert client.post(f"/minutes/{setting.minutes_id}/publish").status_code == 303
    assert _minutes(app, setting.minutes_id).status == "published"
    with app.app_context():
        templates = set(db.session.scalars(select(OutboxMessage.template)))
    assert {"minutes_circulated", "minutes_published"} <= templates


def test_approval_waits_for_the_end_of_the_comment_period(app, client, make, auth):
    setting = minutes(make)
    login(auth, setting.secretariat)
    client.post(f"/minutes/{setting.minutes_id}/circulate", data={"circulate-comment_days": "7"})
    assert client.post(f"/minutes/{setting.minutes_id}/approve").status_code == 303  # refused, back to the page
    assert _minutes(app, setting.minutes_id).status == "circulated"
    with time_machine.travel(clock.now() + timedelta(days=8)):
        login(auth, setting.secretariat)
        client.post(f"/minutes/{setting.minutes_id}/approve")
    assert _minutes(app, setting.minutes_id).status == "approved"


def test_every_write_to_published_minutes_is_a_conflict(app, make):
    from portal.minutes import actions, services

    setting = minutes(make, status="published")
    with app.test_request_context():
        by = db.session.get(User, setting.secretariat.id)
        m = db.session.get(Minutes, setting.minutes_id)
        a = setting.section_ids[0]
        attempts = [
            lambda: services.save_section(by, m, a, based_on=m.revision, text_ko="x", text_en="y"),
            lambda: services.autosave(by, m, a, based_on=m.revision, text_ko="x", text_en="y"),
            lambda: services.add_decision(by, m, a, "결정", "Decision"),
            lambda: services.comment(by, m, a, "late"),
            lambda: services.set_attendance(by, m, organisation_code=by.organisation.code, status="present"),
            lambda: services.confirm_translation(by, m, a, "en"),
            lambda: services.approve(by, m),
            lambda: services.publish(by, m),
            lambda: actions.add(by, m, a, text_ko="할 일", text_en="Task", owner_code=by.organisation.code,
                                due_on=date.today()),
        ]
        from portal.core.exceptions import Conflict

        for attempt in attempts:
            with pytest.raises(Conflict):
                attempt()


def test_amendment_makes_version_two_pointing_to_one_which_stays_readable(app, client, make, auth):
    setting = minutes(make, status="published")
    login(auth, setting.secretariat)
    response = client.post(f"/minutes/{setting.minutes_id}/amend")
    assert response.status_code == 303
    amendment_id = int(response.location.split("/")[-1].split("#")[0])
    new = _minutes(app, amendment_id)
    assert (new.version, new.amends_id, new.status) == (2, setting.minutes_id, "draft")
    assert client.post(f"/minutes/{setting.minutes_id}/amend").status_code == 303  # refused: already amended
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Minutes)) == 2
    client.post(f"/minutes/{amendment_id}/circulate", data={"circulate-comment_days": "0"})
    client.post(f"/minutes/{amendment_id}/approve")
    client.post(f"/minutes/{amendment_id}/publish")
    assert _minutes(app, amendment_id).status == "published"
    assert _minutes(app, setting.minutes_id).status == "superseded"
    login(auth, setting.parties.agent)
    assert client.get(f"/minutes/{setting.minutes_id}").status_code == 200  # version 1 stays readable


# --- Attendance per item ----------------------------------------------------------------------------------

def test_attendance_per_item_with_late_arrival_and_recusal(app, make):
    from portal.minutes import services

    setting = minutes(make, agenda=3)
    with app.test_request_context():
        by = db.session.get(User, setting.secretariat.id)
        m = db.session.get(Minutes, setting.minutes_id)
        first, second, third, other = m.sections
        agency_code = db.session.get(User, setting.parties.officer.id).organisation.code
        late = services.set_attendance(by, m, organisation_code=agency_code, user_id=setting.parties.supervisor.id,
                                       status="remote", arrived_section_id=second.id, left_section_id=third.id)
        services.recuse(by, m, late.id, third.id, "conflict of interest")
        present = [services.present_for(m, late, s) for s in (first, second, third, other)]
        assert present == [False, True, False, False]
        absent = services.set_attendance(by, m, organisation_code=agency_code, user_id=setting.parties.officer.id,
                                         status="excused")
        assert not any(services.present_for(m, absent, s) for s in m.sections)
        db.session.commit()


# --- Action items -----------------------------------------------------------------------------------------

def _action_item(app, setting, *, due: date, request_ids=()) -> int:
    from portal.minutes import actions

    with app.test_request_context():
        by = db.session.get(User, setting.secretariat.id)
        m = db.session.get(Minutes, setting.minutes_id)
        platform = db.session.get(User, setting.parties.agent.id).organisation
        item = actions.add(by, m, setting.section_ids[0], text_ko="삭제 절차 보고", text_en="Report on the removal process",
                           owner_code=platform.code, due_on=due, request_ids=list(request_ids))
        db.session.commit()
        return item.id


def test_action_item_shows_on_owners_home_and_on_the_linked_request(app, client, make, auth):
    setting = minutes(make)
    request_id = make.request(setting.parties)
    item_id = _action_item(app, setting, due=date.today() + timedelta(days=30), request_ids=[request_id])
    # Visible on the request once the minutes are circulated.
    with app.test_request_context():
        from portal.minutes import services
        services.circulate(db.session.get(User, setting.secretariat.id), db.session.get(Minutes, setting.minutes_id))
        db.session.commit()
    login(auth, setting.parties.agent)
    home = client.get("/home").get_data(as_text=True)
    assert f'id="my-action-item-{item_id}"' in home
    assert "Report on the removal process" in client.get(f"/requests/{request_id}").get_data(as_text=True)
    login(auth, setting.parties.officer)
    assert f'id="request-action-item-{item_id}"' in client.get(f"/requests/{request_id}").get_data(as_text=True)
    # The owner marks it done; another platform cannot even find it.
    stranger = make.parties()
    login(auth, stranger.agent)
    assert client.post(f"/minutes/action-items/{item_id}/status", data={"status-status": "done"}).status_code == 404
    login(auth, setting.parties.agent)
    assert client.post(f"/minutes/action-items/{item_id}/status", data={"status-status": "done"}).status_code == 303
    with app.app_context():
        item = db.session.get(ActionItem, item_id)
        assert item.status == "done" and item.status_changed_by_id == setting.parties.agent.id


def test_action_item_reminders_are_sent_once_before_and_once_overdue(app, make):
    setting = minutes(make)
    today = clock.now().astimezone(clock.KST).date()
    _action_item(app, setting, due=today + timedelta(days=2))

    def count(template):
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.template == template))

    people = 2  # the platform's agent and admin (no person named)
    for _round in range(2):
        with app.app_context():
            jobs.run_round()
    assert count("action_item_due") == people and count("action_item_overdue") == 0
    with time_machine.travel(clock.now() + timedelta(days=4)):
        for _round in range(2):
            with app.app_context():
                jobs.run_round()
    assert count("action_item_due") == people and count("action_item_overdue") == people


def test_open_action_items_are_carried_onto_the_next_agenda_with_one_action(app, client, make, auth):
    from tests.consultations_support import consultation

    setting = minutes(make)
    _action_item(app, setting, due=date.today() + timedelta(days=30))
    done = _action_item(app, setting, due=date.today() + timedelta(days=30))
    with app.test_request_context():
        from portal.minutes import actions
        actions.set_status(db.session.get(User, setting.secretariat.id), db.session.get(ActionItem, done), "done")
        db.session.commit()
    following = consultation(make, setting.secretariat, [setting.parties.platform], status="draft")
    login(auth, setting.secretariat)
    response = client.post(f"/minutes/{setting.minutes_id}/carry-forward", data={"carry-consultation_id": following.id})
    assert response.status_code == 303
    from portal.consultations.models import Consultation
    with app.app_context():
        titles = [i.title_en for i in db.session.get(Consultation, following.id).agenda]
    assert titles == ["Follow-up: Report on the removal process"]
    client.post(f"/minutes/{setting.minutes_id}/carry-forward", data={"carry-consultation_id": following.id})
    with app.app_context():
        assert len(db.session.get(Consultation, following.id).agenda) == 1  # once


# --- Concurrency: real concurrent saves, each in its own transaction (SQLite or PostgreSQL) ---------------

def _concurrently(app, setting, jobs_):
    import threading

    from portal.core.exceptions import Conflict
    from portal.minutes import services

    barrier = threading.Barrier(len(jobs_))
    outcomes, errors = [], []

    def run(section_id, text):
        try:
            with app.test_request_context():
                barrier.wait(timeout=30)
                by = db.session.get(User, setting.secretariat.id)
                m = db.session.get(Minutes, setting.minutes_id)
                try:
                    services.save_section(by, m, section_id, based_on=0, text_ko=text, text_en=text)
                    db.session.commit()
                    outcomes.append("saved")
                except Conflict:
                    db.session.rollback()
                    outcomes.append("conflict")
                db.session.remove()
        except Exception as error:  # reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=run, args=job) for job in jobs_]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return sorted(outcomes)


def test_concurrent_saves_of_one_section_end_in_one_success_and_one_conflict(app, make):
    setting = minutes(make)
    a = setting.section_ids[0]
    assert _concurrently(app, setting, [(a, "첫째"), (a, "둘째")]) == ["conflict", "saved"]
    assert _minutes(app, setting.minutes_id).revision == 1


def test_concurrent_saves_of_two_sections_both_land(app, make):
    setting = minutes(make)
    a, b = setting.section_ids[0], setting.section_ids[1]
    assert _concurrently(app, setting, [(a, "첫째"), (b, "둘째")]) == ["saved", "saved"]
    assert _minutes(app, setting.minutes_id).revision == 2
    assert (_section(app, a).text_ko, _section(app, b).text_ko) == ("첫째", "둘째")


# --- Pages ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, words", [("ko", "수정본"), ("en", "Revision")])
def test_minutes_pages_in_both_languages_with_unique_element_ids(app, client, make, auth, lang, words):
    import re

    setting = minutes(make, agenda=2)
    login(auth, setting.secretariat)
    a = setting.section_ids[0]
    _save(client, setting, a, 0, "첫 문장", "First")
    _save(client, setting, a, 1, "둘째 문장", "Second")
    for path in (f"/minutes/{setting.minutes_id}", f"/minutes/{setting.minutes_id}/history?a=1&b=2"):
        response = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert f'<html lang="{lang}">' in page and words in page
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
