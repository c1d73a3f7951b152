"""The shared value helpers of core: bilingual texts, pages and aware UTC timestamps."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from portal.accounts.models import Organisation
from portal.core.bilingual import Bilingual, bilingual, pick
from portal.core.clock import UTC
from portal.core.pagination import keyset_page, numbered_page
from portal.extensions import db


class Named:
    name = bilingual("name")

    def __init__(self, ko, en):
        self.name_ko, self.name_en = ko, en


def test_a_bilingual_pair_reads_korean_for_ko_and_english_otherwise():
    named = Named("방송통신심의위원회", "Korea Communications Standards Commission")
    assert named.name("ko") == "방송통신심의위원회"
    assert named.name("en") == named.name("fr") == "Korea Communications Standards Commission"
    assert Named.name.__name__ == "name" and pick("ko", "가", "a") == "가"


def test_a_bilingual_value_prints_both_korean_first_and_one_when_they_agree():
    assert Bilingual("요청 통지서", "Request notice").both() == "요청 통지서 / Request notice"
    assert Bilingual("KCSC", "KCSC").both() == "KCSC"
    assert Bilingual("요청", "Request").in_language("ko") == "요청"


@pytest.mark.parametrize("fetched, more", [(0, False), (3, False), (4, True)])
def test_a_keyset_page_shows_the_limit_and_says_where_the_next_starts(fetched, more):
    page = keyset_page(list(range(10, 10 + fetched)), 3, key=lambda row: row * 2)
    assert page.items == list(range(10, 10 + min(fetched, 3)))
    assert page.more is more and page.next_key == (24 if more else None)


def test_a_numbered_page_keeps_its_number_within_the_pages(app, make):
    for n in range(5):
        make.organisation("platform", code=f"P{n}")
    with app.app_context():
        query = select(Organisation).where(Organisation.code.like("P%")).order_by(Organisation.code)
        first, last, beyond = (numbered_page(query, n, 2) for n in (0, 3, 99))
        assert [o.code for o in first.items] == ["P0", "P1"] and (first.number, first.pages, first.total) == (1, 3, 5)
        assert [o.code for o in last.items] == ["P4"] and beyond.number == 3
        empty = numbered_page(query.where(Organisation.code == "none"), 5, 2)
        assert (empty.items, empty.number, empty.pages, empty.total) == ([], 1, 1, 0)
        db.session.rollback()


@pytest.mark.parametrize("moment", [
    datetime(2026, 11, 25, 5, 0, tzinfo=UTC),
    datetime(2026, 11, 25, 5, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 11, 25, 14, 0, tzinfo=ZoneInfo("Asia/Seoul")),  # stored as 05:00 UTC
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
])
def test_a_timestamp_comes_back_as_the_same_moment_in_utc(app, make, moment):
    organisation = make.organisation("platform")
    with app.app_context():
        db.session.get(Organisation, organisation).created_at = moment
        db.session.commit()
    with app.app_context():
        read = db.session.scalar(select(Organisation.created_at).where(Organisation.id == organisation))
        assert read == moment and read.tzinfo is UTC


def test_a_timestamp_text_with_an_offset_is_read_as_utc_too(app, make):
    # SQLite keeps text: a value written by hand with its offset is still the same moment, in UTC.
    organisation = make.organisation("platform")
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite keeps timestamps as text")
        db.session.execute(text("UPDATE organisations SET created_at = '2026-11-25 14:00:00+09:00' WHERE id = :id"),
                           {"id": organisation})
        db.session.commit()
        read = db.session.scalar(select(Organisation.created_at).where(Organisation.id == organisation))
        assert read == datetime(2026, 11, 25, 5, 0, tzinfo=UTC) and read.tzinfo is UTC
