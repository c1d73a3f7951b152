"""Items: addresses normalised, errors by line, duplicates merged, CSV in every encoding Korean offices use,
10,000 items at most, formula cells kept as text, earlier requests to the same platform found."""
import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.core.exceptions import ValidationError
from portal.extensions import db
from portal.requests import services
from portal.requests.models import Request, RequestItem
from portal.requests.urls import InvalidURL, normalise_url, parse_csv, parse_lines


@pytest.mark.parametrize("raw,expected", [
    ("https://Example.COM/Path?q=1#frag", "https://example.com/Path?q=1"),
    ("HTTP://example.com", "http://example.com/"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:8080/a", "http://example.com:8080/a"),
    ("https://예시.한국/경로", "https://xn--vv4b11d.xn--3e0b707e/%EA%B2%BD%EB%A1%9C"),
    ("  https://example.com/a  ", "https://example.com/a"),
    ("https://example.com./a", "https://example.com/a"),
])
def test_normalisation(ctx, raw, expected):
    assert normalise_url(raw) == expected


@pytest.mark.parametrize("raw", [
    "ftp://example.com/file", "javascript:alert(1)", "data:text/html,hi", "example.com/no-scheme",
    "https://", "https://exa mple.com/", "https://example.com:99999/", "file:///etc/passwd",
])
def test_refused_addresses(ctx, raw):
    with pytest.raises(InvalidURL):
        normalise_url(raw)


def test_errors_name_their_lines_and_duplicates_merge(ctx):
    result = parse_lines("https://a.example/1\n\nftp://b.example/\nhttps://A.example/1#x\nnot a url\n")
    assert [i.url for i in result.items] == ["https://a.example/1"]
    assert [e.line for e in result.errors] == [3, 5]
    assert result.duplicates == 1


def test_csv_in_cp949_with_header(ctx):
    text = "url,sha256,md5,pdq,note\nhttps://example.com/a,,,,피해자 요청 건\nhttps://example.com/b,,0123456789abcdef0123456789abcdef,,\n"
    result = parse_csv(text.encode("cp949"))
    assert result.errors == []
    assert [i.note for i in result.items] == ["피해자 요청 건", ""]
    assert result.items[1].md5 == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "euc-kr"])
def test_csv_encodings(ctx, encoding):
    result = parse_csv("https://example.com/한글,,,,메모\n".encode(encoding))
    assert result.errors == [] and result.items[0].note == "메모"
    assert result.items[0].url == "https://example.com/%ED%95%9C%EA%B8%80"


def test_csv_bad_lines_are_listed_by_number(ctx):
    data = ("url,sha256,md5,pdq,note\n"
            "https://example.com/ok,,,,\n"
            "https://example.com/badhash,xyz,,,\n"
            "gopher://example.com/,,,,\n"
            "https://example.com/toomany,,,,,extra\n").encode()
    result = parse_csv(data)
    assert [e.line for e in result.errors] == [3, 4, 5]
    assert len(result.items) == 1


def test_csv_formula_cells_are_plain_text(ctx):
    data = ('url,sha256,md5,pdq,note\n'
            'https://example.com/a,,,,"=HYPERLINK(""http://evil.example"",""x"")"\n'
            '"=IMPORTXML(""http://evil.example"")",,,,\n'
            'https://example.com/b,,,,+cmd|\' /C calc\'!A0\n').encode()
    result = parse_csv(data)
    assert result.items[0].note == '=HYPERLINK("http://evil.example","x")'
    assert result.items[1].note == "+cmd|' /C calc'!A0"
    assert [e.line for e in result.errors] == [3]  # a formula is no address


def _officer_and_draft(app, make):
    parties = make.parties()
    request_id = make.request(parties, "draft", urls=())
    return parties, request_id


def test_ten_thousand_items_accepted_and_one_more_refused(app, make):
    parties, request_id = _officer_and_draft(app, make)
    with app.test_request_context():
        officer, req = db.session.get(User, parties.officer.id), db.session.get(Request, request_id)
        lines = "\n".join(f"https://example.com/item/{n}" for n in range(10_001))
        with pytest.raises(services.ItemsRefused):
            services.add_items(officer, req, parse_lines(lines))
        db.session.rollback()
        req = db.session.get(Request, request_id)
        added = services.add_items(officer, req, parse_lines(lines.rsplit("\n", 1)[0]))
        db.session.commit()
        assert added.added == 10_000 and req.item_count == 10_000
        with pytest.raises(services.ItemsRefused):
            services.add_items(officer, req, parse_lines("https://example.com/one-more"))


def test_csv_of_10001_items_refused(app, make):
    parties, request_id = _officer_and_draft(app, make)
    data = "\n".join(f"https://example.com/{n},,,," for n in range(10_001)).encode("cp949")
    with app.test_request_context():
        with pytest.raises(services.ItemsRefused):
            services.add_items(db.session.get(User, parties.officer.id), db.session.get(Request, request_id),
                               parse_csv(data))


def test_a_list_with_errors_saves_nothing(app, make):
    parties, request_id = _officer_and_draft(app, make)
    with app.test_request_context():
        with pytest.raises(services.ItemsRefused) as refused:
            services.add_items(db.session.get(User, parties.officer.id), db.session.get(Request, request_id),
                               parse_lines("https://example.com/ok\nhttp//broken"))
        assert [e.line for e in refused.value.errors] == [2]
        assert isinstance(refused.value, ValidationError)
        db.session.rollback()
        assert db.session.scalar(select(RequestItem.id).where(RequestItem.request_id == request_id)) is None


def test_addresses_already_in_the_draft_are_merged(app, make):
    parties = make.parties()
    request_id = make.request(parties, "draft", urls=("https://example.com/a",))
    with app.test_request_context():
        added = services.add_items(db.session.get(User, parties.officer.id), db.session.get(Request, request_id),
                                   parse_lines("https://EXAMPLE.com/a#top\nhttps://example.com/b"))
        assert (added.added, added.merged) == (1, 1)


def test_earlier_requests_to_the_same_platform_are_found(app, make):
    parties = make.parties()
    earlier = make.request(parties, "issued", urls=("https://example.com/a", "https://example.com/b"))
    other_platform = make.parties()
    make.request(other_platform, "issued", urls=("https://example.com/a",))
    draft = make.request(parties, "draft", urls=("https://example.com/a#again", "https://example.com/c"))
    with app.test_request_context():
        officer = db.session.get(User, parties.officer.id)
        req = db.session.get(Request, draft)
        hashes = [i.url_hash for i in services.items_page(req)]
        found = services.earlier_requests(officer, req, hashes)
        reference = db.session.get(Request, earlier).reference
        assert list(found.values()) == [[(earlier, reference)]]


def test_earlier_requests_of_another_agency_are_not_revealed(app, make):
    first = make.parties()
    second = make.parties(platform=first.platform)  # another agency, the same platform
    make.request(first, "issued", urls=("https://example.com/a",))
    theirs = make.request(second, "issued", urls=("https://example.com/a",))
    with app.test_request_context():
        req = db.session.get(Request, theirs)
        hashes = [i.url_hash for i in services.items_page(req)]
        assert services.earlier_requests(db.session.get(User, second.officer.id), req, hashes) == {}
        assert len(services.earlier_requests(db.session.get(User, first.agent.id), req, hashes)) == 1
