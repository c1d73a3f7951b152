"""Attachments are documents recognised by their bytes; media is refused whatever its name says."""
import io
from pathlib import Path

import pytest

from portal.accounts.models import User
from portal.core.exceptions import ValidationError
from portal.extensions import db
from portal.requests import attachments, services
from portal.requests.models import Attachment, Request

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
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
