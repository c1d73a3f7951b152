"""The public verification page: authentic documents are confirmed by code, by reference and code, or by
their exact bytes; every miss looks the same; nothing of the content is shown; in Korean and English."""
import io
import re

import pytest
from sqlalchemy import func, select

from portal.core.audit import AuditEvent
from portal.extensions import db
from tests.documents_support import BODY_EN, BODY_KO, issue_test_notice

pytestmark = pytest.mark.real_documents  # the real WeasyPrint and pyHanko (tests/conftest.py)

AUTHENTIC = "Authentic: this document was issued through the portal."
NOT_VERIFIED = "Not verified: no document issued by the portal matches."


@pytest.fixture
def parties(make):
    agency = make.organisation("agency", name_ko="방송통신심의위원회", name_en="Korea Communications Standards Commission")
    platform = make.organisation("platform", name_ko="비드스트림", name_en="VidStream Inc.")
    return agency, platform


@pytest.fixture
def issued(app, parties):
    return issue_test_notice(app, issuer=parties[0], recipient=parties[1],
                             items=[{"url": "https://example.com/reported/secret-page", "sha256": None}])


def _main(response) -> str:
    body = response.data.decode()
    return body[body.index("<main"):body.index("</main>")]


def _upload(client, data: bytes, name: str = "notice.pdf"):
    return client.post("/verify/file?lang=en", data={"upload-file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_qr_code_address_confirms_the_document(client, issued):
    response = client.get(f"/verify/{issued.code}?lang=en")
    page = _main(response)
    assert response.status_code == 200 and AUTHENTIC in page
    for fact in (issued.reference, "Korea Communications Standards Commission", "Test notice", issued.sha256, "KST"):
        assert fact in page, fact


def test_the_page_shows_nothing_of_the_content(client, issued):
    page = _main(client.get(f"/verify/{issued.code}?lang=en"))
    for content in (BODY_KO, BODY_EN, "example.com/reported", "VidStream", "비드스트림"):
        assert content not in page, content


def test_code_is_accepted_as_typed_from_paper(client, issued):
    typed = issued.code.replace("-", " ").lower().replace("0", "o")
    assert AUTHENTIC in _main(client.post("/verify?lang=en", data={"reference": issued.reference.lower(),
                                                                    "code": typed}))


def test_reference_and_code_confirm_the_document(client, issued):
    page = _main(client.post("/verify?lang=en", data={"reference": issued.reference, "code": issued.code}))
    assert AUTHENTIC in page and issued.reference in page


# The language form's CSRF token carries the second it was signed in: two answers a second apart differ
# by it alone, whatever the answer.
_CSRF_TOKEN = re.compile(rb'(name="csrf_token" value=")[^"]*(")')


def _wrong(client, reference: str, code: str) -> bytes:
    response = client.post("/verify?lang=en", data={"reference": reference, "code": code})
    assert response.status_code == 200
    return _CSRF_TOKEN.sub(rb"\1\2", response.data)


def test_a_wrong_code_reveals_nothing(client, app, parties, issued):
    other = issue_test_notice(app, issuer=parties[0], recipient=parties[1], reference="KCSC-2026-000777")
    wrong_code = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    answers = {
        "existing reference, wrong code": _wrong(client, issued.reference, wrong_code),
        "unknown reference, wrong code": _wrong(client, "KCSC-2099-999999", wrong_code),
        "existing reference, code of another document": _wrong(client, issued.reference, other.code),
        "unknown reference, real code": _wrong(client, "KCSC-2099-999999", issued.code),
        "malformed code": _wrong(client, issued.reference, "not a code"),
    }
    assert NOT_VERIFIED in answers["existing reference, wrong code"].decode()
    assert len(set(answers.values())) == 1, "the answer differs between kinds of miss"
    assert issued.reference.encode() not in answers["existing reference, wrong code"]  # not even echoed back


def test_an_unknown_qr_code_is_not_verified(client, issued):
    assert NOT_VERIFIED in _main(client.get("/verify/ZZZZ-ZZZZ-ZZZZ-ZZZZ?lang=en"))


def test_the_issued_file_is_confirmed_by_its_bytes(client, issued):
    page = _main(_upload(client, issued.path.read_bytes()))
    assert AUTHENTIC in page and issued.reference in page


def test_a_file_changed_by_one_byte_is_not_verified(client, issued):
    data = bytearray(issued.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    page = _main(_upload(client, bytes(data)))
    assert NOT_VERIFIED in page and issued.reference not in page


def test_an_uploaded_file_is_hashed_in_memory_and_not_kept(app, client, issued, monkeypatch, tmp_path):
    import werkzeug.wrappers.request as werkzeug_request

    def no_spooling(*args, **kwargs):
        raise AssertionError("the upload would be spooled to a temporary file")

    monkeypatch.setattr(werkzeug_request, "default_stream_factory", no_spooling)
    data = issued.path.read_bytes() + b"\n" * 600_000  # above werkzeug's 500 kB in-memory threshold
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert NOT_VERIFIED in _main(_upload(client, data))
    assert {p for p in tmp_path.rglob("*") if p.is_file()} - before == set()


@pytest.mark.parametrize("app_config", [{"VERIFY_UPLOAD_MAX_BYTES": 20_000}])
def test_upload_size_is_limited(client, issued):
    assert _upload(client, b"%PDF-1.7\n" + b"0" * 200_000).status_code == 413
    assert _upload(client, b"%PDF-1.7\n" + b"0" * 30_000).status_code == 413  # within the envelope's room


@pytest.mark.parametrize("language, heading, authentic, issuer, kind", [
    ("ko", "문서 진위 확인", "진본", "방송통신심의위원회", "시험 통지서"),
    ("en", "Verify a document", "Authentic", "Korea Communications Standards Commission", "Test notice"),
])
def test_verify_page_in_both_languages(client, issued, language, heading, authentic, issuer, kind):
    form = client.get(f"/verify?lang={language}")
    assert form.status_code == 200 and f'<html lang="{language}">' in form.data.decode()
    assert f"<h1>{heading}</h1>" in _main(form)
    page = _main(client.get(f"/verify/{issued.code}?lang={language}"))
    assert authentic in page and issuer in page and kind in page


def test_the_korean_page_shows_the_issue_date_in_korean(client, issued):
    page = _main(client.get(f"/verify/{issued.code}?lang=ko"))
    assert re.search(r"20\d\d년 \d+월 \d+일 \d\d:\d\d KST", page)


def test_replaced_document_names_its_correction(app, client, parties, issued):
    correction = issue_test_notice(app, issuer=parties[0], recipient=parties[1], replaces=issued.id)
    page = _main(client.get(f"/verify/{issued.code}?lang=en"))
    assert AUTHENTIC in page and "has been replaced by a correction" in page
    assert _main(client.get(f"/verify/{correction.code}?lang=en")).count("corrects") == 1


def test_a_successful_check_is_audited_without_the_code(app, client, issued):
    client.get(f"/verify/{issued.code}")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.verified"))
        assert event.object_id == str(issued.id) and event.details == {"method": "code"}
        assert issued.code not in str(event.details)


def test_verification_needs_no_login(client, issued):
    response = client.get(f"/verify/{issued.code}")
    assert response.status_code == 200 and "/login" not in (response.location or "")


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "3 per minute"}])
def test_checks_are_rate_limited(client, issued):
    statuses = [client.post("/verify", data={"reference": "X", "code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"}).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get(f"/verify/{issued.code}").status_code == 429  # one budget for every way of asking
    assert client.get("/verify").status_code == 200  # the form itself stays reachable


def test_forms_require_the_csrf_token(csrf_app):
    app = csrf_app
    client = app.test_client()
    assert client.post("/verify", data={"reference": "X", "code": "Y"}).status_code == 400
    assert client.post("/verify/file", data={"upload-file": (io.BytesIO(b"%PDF"), "x.pdf")},
                       content_type="multipart/form-data").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "document.verified")) == 0
