"""Attachments are documents recognised by their bytes; media is refused whatever its name says."""
import io
from pathlib import Path

import pytest

from portal.accounts.models import User
from portal.core.exceptions import ValidationError
from portal.extensions import db
from portal.requests import attachments, services
from portal.requests.models import Attachment, Request
from tests import attachment_samples as samples
from tests.attachment_samples import PDF
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
ZIP = b"PK\x03\x04" + b"\x00" * 64


@pytest.mark.parametrize("data,kind", [
    (PDF, "pdf"), (b"url,note\nhttps://example.com,\n", "text"), ("메모입니다\n".encode("cp949"), "text"),
    (PNG, "image"), (JPEG, "image"), (b"GIF89a" + b"\x00" * 10, "image"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "image"),
    (MP4, "video"), (b"\x1a\x45\xdf\xa3" + b"\x00" * 10, "video"), (ZIP, "other"), (b"\x00\x01\x02", "other"),
])
def test_kind_is_recognised_by_the_bytes(data, kind):
    assert attachments.kind_of(data) == kind


def _request(app, make, status="issued"):
    parties = make.parties()
    return parties, make.request(parties, status)


@pytest.mark.parametrize("data,name", [(PNG, "notice.pdf"), (JPEG, "evidence.txt"), (MP4, "list.csv"), (ZIP, "a.pdf")])
def test_media_renamed_as_a_document_is_refused(app, make, data, name):
    parties, request_id = _request(app, make)
    with app.test_request_context():
        with pytest.raises(ValidationError) as refused:
            services.add_attachment(db.session.get(User, parties.officer.id), db.session.get(Request, request_id),
                                    io.BytesIO(data), name)
        assert refused.value.field == "file"
    folder = Path(app.instance_path) / "attachments"
    assert not folder.exists() or not any(folder.iterdir())  # nothing of it was kept


def test_image_renamed_pdf_refused_through_the_page_with_a_clear_message(app, make, auth, client):
    parties, request_id = _request(app, make)
    auth.login(parties.officer)
    response = client.post(f"/requests/{request_id}/attachments?lang=en",
                           data={"file": (io.BytesIO(PNG), "scan.pdf")}, content_type="multipart/form-data",
                           follow_redirects=True)
    assert "Images cannot be attached" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Attachment).count() == 0


def test_too_large_refused(app, make):
    parties, request_id = _request(app, make)
    big = io.BytesIO(PDF + b"0" * (20 * 1024 * 1024))
    with app.test_request_context():
        with pytest.raises(ValidationError):
            services.add_attachment(db.session.get(User, parties.officer.id), db.session.get(Request, request_id),
                                    big, "big.pdf")


def test_pdf_is_stored_under_a_generated_name_with_its_hash(app, make):
    import hashlib
    from pathlib import Path

    parties, request_id = _request(app, make)
    with app.test_request_context():
        attachment = services.add_attachment(db.session.get(User, parties.agent.id),
                                             db.session.get(Request, request_id), io.BytesIO(PDF), "../../etc/x.pdf")
        db.session.commit()
        stored = Path(app.instance_path) / "attachments" / attachment.stored_name
        assert stored.read_bytes() == PDF and attachment.sha256 == hashlib.sha256(PDF).hexdigest()
        assert attachment.filename == "x.pdf" and "x.pdf" not in attachment.stored_name
        assert stored.suffix == ".pdf"


def test_download_is_an_attachment_and_never_cached(app, make, auth, client):
    parties, request_id = _request(app, make)
    with app.test_request_context():
        attachment = services.add_attachment(db.session.get(User, parties.officer.id),
                                             db.session.get(Request, request_id), io.BytesIO(PDF), "notice.pdf")
        db.session.commit()
        attachment_id = attachment.id
    auth.login(parties.agent)
    response = client.get(f"/requests/{request_id}/attachments/{attachment_id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _attach(app, make, data: bytes, name: str):
    """Attach as the officer of a new issued request; returns (request id, attachment id) or raises."""
    parties, request_id = _request(app, make)
    with app.test_request_context():
        attachment = services.add_attachment(db.session.get(User, parties.officer.id),
                                             db.session.get(Request, request_id), io.BytesIO(data), name)
        db.session.commit()
        return parties, request_id, attachment.id


@pytest.mark.parametrize("sample,name,words", [
    ("HTML", "notice.pdf", "web markup"),
    ("HTML", "page.html", "web markup"),
    ("HTA", "run.hta", "web markup"),
    ("SVG_BEHIND_A_COMMENT", "notes.txt", "SVG"),
    ("SVG_BEHIND_TEXT", "notes.txt", "SVG"),
    ("PDF_WITH_JAVASCRIPT_OPEN_ACTION", "notice.pdf", "JavaScript"),
    ("PDF_WITH_DOCUMENT_JAVASCRIPT", "notice.pdf", "JavaScript"),
    ("PDF_WITH_LAUNCH_OPEN_ACTION", "notice.pdf", "starts a program"),
    ("PDF_WITH_EMBEDDED_FILE", "notice.pdf", "embedded files"),
    ("PDF_WITH_XFA", "form.pdf", "XFA"),
    ("PDF_WITH_ZIP_APPENDED", "notice.pdf", "appended after its end"),
    ("PDF_WITH_DATA_AFTER_EOF", "notice.pdf", "appended after its end"),
    ("PDF_WITH_HTML_INSIDE", "notice.pdf", "web markup"),
    ("LATIN1", "list.csv", "neither UTF-8 nor CP949"),
])
def test_hostile_file_is_refused_with_a_specific_message(app, make, sample, name, words):
    with pytest.raises(ValidationError) as refused:
        _attach(app, make, getattr(samples, sample), name)
    with app.test_request_context("/?lang=en"):
        assert refused.value.field == "file" and words in str(refused.value.message)
    folder = Path(app.instance_path) / "attachments"
    assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize("sample", ["PDF_WITH_JAVASCRIPT_OPEN_ACTION", "PDF_WITH_ZIP_APPENDED", "HTML",
                                    "SVG_BEHIND_A_COMMENT", "LATIN1"])
def test_refusal_message_is_translated(app, sample):
    from flask_babel import force_locale

    with pytest.raises(ValidationError) as refused:
        attachments.check(io.BytesIO(getattr(samples, sample)), "x.pdf")
    with app.test_request_context():
        with force_locale("en"):
            english = str(refused.value.message)
        with force_locale("ko"):
            korean = str(refused.value.message)
    assert korean != english and any("\uac00" <= ch <= "\ud7a3" for ch in korean)


@pytest.mark.parametrize("sample,name,label", [
    ("SCRIPT", "steal.js", "steal.txt"),
    ("BATCH", "wipe.bat", "wipe.txt"),
])
def test_script_text_is_stored_and_served_as_plain_text_never_under_its_own_extension(
        app, make, auth, client, sample, name, label):
    parties, request_id, attachment_id = _attach(app, make, getattr(samples, sample), name)
    with app.app_context():
        attachment = db.session.get(Attachment, attachment_id)
        assert (attachment.filename, attachment.content_type) == (label, "text/plain")
        assert attachment.stored_name.endswith(".txt")
    auth.login(parties.agent)
    response = client.get(f"/requests/{request_id}/attachments/{attachment_id}")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert f'filename={label}' in response.headers["Content-Disposition"]


def test_csv_content_is_stored_and_served_as_csv_whatever_its_name(app, make, auth, client):
    data = "url,note\nhttps://example.com/a,첫째\nhttps://example.com/b,둘째\n".encode("cp949")
    parties, request_id, attachment_id = _attach(app, make, data, "urls.dat")
    auth.login(parties.agent)
    response = client.get(f"/requests/{request_id}/attachments/{attachment_id}")
    assert response.headers["Content-Type"].startswith("text/csv") and response.data == data
    assert "filename=urls.csv" in response.headers["Content-Disposition"]


def test_a_pdf_named_otherwise_is_served_as_pdf(app, make, auth, client):
    parties, request_id, attachment_id = _attach(app, make, PDF, "notice.exe")
    auth.login(parties.agent)
    response = client.get(f"/requests/{request_id}/attachments/{attachment_id}")
    assert response.headers["Content-Type"] == "application/pdf"
    assert "filename=notice.pdf" in response.headers["Content-Disposition"]


def test_bidi_controls_are_stripped_from_the_label(app, make):
    parties, request_id, attachment_id = _attach(app, make, PDF, "invoice\u202egnp.pdf")
    with app.app_context():
        assert db.session.get(Attachment, attachment_id).filename == "invoicegnp.pdf"
    assert attachments.safe_label("a\u2066b\u2069\u200f.txt", ".txt") == "ab.txt"


def test_an_old_attachment_is_served_under_its_kind_extension(app):
    assert attachments.download_name("run.js", "text/plain") == "run.txt"
    assert attachments.download_name("list", "text/csv") == "list.csv"
