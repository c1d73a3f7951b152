"""Issued documents: Korean that really renders, PDF/A with metadata, no network, signed, stored once by
hash, downloaded as stored by the two organisations it concerns and nobody else."""
import hashlib
import io
import logging
import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import func, select

from portal.core import documents
from portal.core.audit import AuditEvent
from portal.core.exceptions import Conflict
from portal.extensions import db
from tests.documents_support import ARTIFACTS, BODY_EN, BODY_KO, issue_test_notice, pdf_fonts, pdf_text

pytestmark = pytest.mark.real_documents  # the real WeasyPrint and pyHanko (tests/conftest.py)


@pytest.fixture
def parties(make):
    agency = make.organisation("agency", name_ko="방송통신심의위원회", name_en="Korea Communications Standards Commission")
    platform = make.organisation("platform", name_ko="비드스트림", name_en="VidStream Inc.")
    return agency, platform


@pytest.fixture
def issued(app, parties):
    agency, platform = parties
    items = [{"url": f"https://example.com/reported/{n}", "sha256": hashlib.sha256(str(n).encode()).hexdigest()}
             for n in range(3)]
    return issue_test_notice(app, issuer=agency, recipient=platform, items=items)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- Rendering -----------------------------------------------------------------------------------------------

def test_korean_and_english_headings_and_reference_are_in_the_text(issued):
    text = pdf_text(issued.path)
    for expected in ("시험 통지서", "Test notice", "통지 내용", "Notice", BODY_KO, BODY_EN, issued.reference,
                     "방송통신심의위원회", "Korea Communications Standards Commission", issued.code):
        assert expected in text, expected


def test_hangul_font_is_embedded_and_subset(issued):
    fonts = pdf_fonts(issued.path)
    nanum = [f for f in fonts if "Nanum" in f["name"]]
    assert nanum, fonts
    assert all(f["emb"] == "yes" and f["sub"] == "yes" and f["uni"] == "yes" for f in fonts), fonts


def test_first_page_renders_to_png_artifact(issued):
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "document-test-notice"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(issued.path),
                    str(target)], check=True)
    png = target.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_rendering_logs_no_warning(app, parties, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    issue_test_notice(app, issuer=parties[0], recipient=parties[1])
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []


def test_missing_glyph_is_an_error_and_nothing_is_kept(app, parties):
    # A template's own text with a character no installed font has (values printed into it are made
    # printable instead; see test_request_documents).
    probe = '{% extends "pdf/test_notice.html" %}{% block content %}<p>사설 영역 문자 \ue000</p>{% endblock %}'
    app.jinja_env.loader = ChoiceLoader([DictLoader({"pdf/glyph_probe.html": probe}), app.jinja_env.loader])
    before = set(Path(app.instance_path).rglob("*.pdf"))
    with pytest.raises(documents.DocumentRenderError, match="glyph"):
        issue_test_notice(app, issuer=parties[0], recipient=parties[1], template="glyph_probe")
    with app.app_context():
        assert _count(documents.Document) == 0
    assert set(Path(app.instance_path).rglob("*.pdf")) == before


def test_pdf_a_3b_with_title_author_subject_and_language(app, issued):
    from pypdf import PdfReader

    reader = PdfReader(issued.path)
    info, xmp, root = reader.metadata, reader.xmp_metadata, reader.trailer["/Root"]
    raw_xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in raw_xmp and 'pdfaid:conformance="B"' in raw_xmp
    assert root["/Lang"] == "ko"
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert info["/Title"] == f"시험 통지서 / Test notice {issued.reference}"
    assert info["/Author"] == "방송통신심의위원회 (Korea Communications Standards Commission)"
    assert issued.reference in info["/Subject"] and "시험 통지서" in info["/Subject"]
    # PDF/A: what the info dictionary says, the XMP packet says too.
    assert xmp.dc_title["x-default"] == info["/Title"]
    assert xmp.dc_creator == [info["/Author"]]
    assert xmp.dc_description["x-default"] == info["/Subject"]
    assert xmp.pdf_producer == info["/Producer"]


BLOCKED_RESOURCES = [
    '<img src="http://198.51.100.7/pixel.png">',
    '<img src="https://example.com/reported.jpg">',
    '<link rel="stylesheet" href="https://fonts.example.com/face.css">',
    '<img src="file:///etc/hostname">',
    '<img src="../../../../../../etc/hostname">',
    '<img src="ftp://example.com/x.png">',
]


@pytest.mark.parametrize("resource", BLOCKED_RESOURCES)
def test_renderer_fetches_nothing_outside_the_portal(app, parties, monkeypatch, resource):
    connections = []

    def no_network(sock, address):
        connections.append(address)
        raise OSError("network access during rendering")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    probe = '{% extends "pdf/test_notice.html" %}{% block content %}' + resource + "<p>probe</p>{% endblock %}"
    app.jinja_env.loader = ChoiceLoader([DictLoader({"pdf/network_probe.html": probe}), app.jinja_env.loader])
    with pytest.raises(documents.DocumentRenderError, match="fetches nothing"):
        issue_test_notice(app, issuer=parties[0], recipient=parties[1], template="network_probe")
    assert connections == []
    with app.app_context():
        assert _count(documents.Document) == 0


def test_inline_data_is_rendered_without_fetching(app, parties):
    dot = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/%3E"
    probe = '{% extends "pdf/test_notice.html" %}{% block content %}<img src="' + dot + '"><p>inline</p>{% endblock %}'
    app.jinja_env.loader = ChoiceLoader([DictLoader({"pdf/inline_probe.html": probe}), app.jinja_env.loader])
    issued = issue_test_notice(app, issuer=parties[0], recipient=parties[1], template="inline_probe")
    assert "inline" in pdf_text(issued.path)


def test_portal_static_files_are_served_to_the_renderer(issued):
    # The footer comes from the stylesheet in portal/static/pdf/, fetched from disk.
    assert "진위 확인 Verify:" in pdf_text(issued.path)


def test_harfbuzz_subsetting_is_used(app, issued):
    with app.app_context():
        assert documents.renderer_status()["harfbuzz_subset"] is True
    nanum_gothic = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
    if nanum_gothic.exists():  # a whole Hangul font is megabytes; its subset is a few kilobytes
        assert issued.path.stat().st_size < nanum_gothic.stat().st_size / 10


# --- Signing -------------------------------------------------------------------------------------------------

def _validate(app, data: bytes):
    from asn1crypto import x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    with app.app_context():
        certificate = x509.Certificate.load(documents.signing_identity().certificate_der)
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[certificate]))


def test_signature_is_valid_and_covers_the_whole_document(app, issued):
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    status = _validate(app, issued.path.read_bytes())
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.modification_level == ModificationLevel.NONE


def test_one_changed_byte_breaks_the_signature(app, issued):
    data = bytearray(issued.path.read_bytes())
    position = data.index(b"/MediaBox")  # inside the signed range, in the page description
    data[position + 1] ^= 0x01  # /MediaBox -> /LediaBox
    status = _validate(app, bytes(data))
    assert not status.intact and not status.bottom_line


def _pdfsig(path: Path) -> str:
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


def test_a_pdf_reader_sees_the_signature_valid_over_the_whole_document(issued):
    report = _pdfsig(issued.path)
    assert "Signature Validation: Signature is Valid." in report and "Total document signed" in report


def test_a_pdf_reader_sees_a_changed_document_as_invalid(issued, tmp_path):
    data = bytearray(issued.path.read_bytes())
    data[data.index(b"/MediaBox") + 1] ^= 0x01
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(bytes(data))
    assert "Signature Validation: Signature is Valid." not in _pdfsig(changed)


def test_signing_certificate_fingerprint_command(app, runner, issued):
    result = runner.invoke(args=["documents", "fingerprint"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        identity = documents.signing_identity()
        recorded = db.session.get(documents.Document, issued.id).signer_fingerprint
    assert identity.fingerprint_colons in result.output
    assert recorded == identity.fingerprint


def test_development_key_is_made_once_and_kept_private(app, issued):
    folder = Path(app.instance_path) / "signing"
    key = folder / "document-signing-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = key.read_bytes()
    app.extensions.pop("portal.documents", None)  # a new process: loads, does not generate again
    with app.app_context():
        documents.signing_identity()
    assert key.read_bytes() == first


def test_configured_signing_key_is_used(app, tmp_path):
    with app.app_context():
        key_pem, cert_pem = documents._self_signed_pair()
    (tmp_path / "key.pem").write_bytes(key_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    app.config.update(DOCUMENT_SIGNING_KEY=str(tmp_path / "key.pem"), DOCUMENT_SIGNING_CERT=str(tmp_path / "cert.pem"))
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    expected = hashlib.sha256(x509.load_pem_x509_certificate(cert_pem).public_bytes(Encoding.DER)).hexdigest()
    with app.app_context():
        assert documents.signing_identity().fingerprint == expected
    assert not (Path(app.instance_path) / "signing").exists()


def test_production_without_a_signing_key_refuses_to_issue(app, parties):
    app.config["PORTAL_ENV"] = "production"
    with pytest.raises(documents.DocumentError, match="DOCUMENT_SIGNING_KEY"):
        issue_test_notice(app, issuer=parties[0], recipient=parties[1])


# --- Storing and recording -----------------------------------------------------------------------------------

def test_stored_once_by_hash_read_only_and_recorded(app, issued):
    data = issued.path.read_bytes()
    assert issued.path.name == f"{issued.sha256}.pdf" and issued.path.parent.name == issued.sha256[:2]
    assert hashlib.sha256(data).hexdigest() == issued.sha256
    assert not issued.path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    with app.app_context():
        document = db.session.get(documents.Document, issued.id)
        assert (document.kind, document.reference, document.language) == ("test_notice", issued.reference, "ko+en")
        assert document.size == len(data) and document.issued_at.tzinfo is not None
        assert document.verification_code_hash != issued.code  # only its hash is kept
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.issued"))
        assert event.object_id == str(issued.id) and event.details["sha256"] == issued.sha256


def test_a_stored_file_is_never_overwritten(app, issued):
    with app.test_request_context(), pytest.raises(documents.DocumentError, match="already"):
        documents.store.store(b"other bytes", issued.sha256)
    assert hashlib.sha256(issued.path.read_bytes()).hexdigest() == issued.sha256


def test_issuing_flushes_and_a_rollback_leaves_nothing(app, parties):
    with app.test_request_context():
        document = documents.issue_document(
            "test_notice", "test_notice", {"body_ko": BODY_KO, "body_en": BODY_EN},
            reference="KCSC-2026-000999", issuer=parties[0], recipient_organisation_id=parties[1], title="t")
        path = documents.documents_root() / document.storage_path
        assert path.exists()
        db.session.rollback()
        assert not path.exists()
        assert _count(documents.Document) == 0
        assert _count(AuditEvent, AuditEvent.action == "document.issued") == 0


def test_unknown_kind_is_refused(app, parties):
    with app.test_request_context(), pytest.raises(ValueError, match="unknown document kind"):
        documents.issue_document("no_such_kind", "test_notice", {}, reference="R", issuer=parties[0],
                                 recipient_organisation_id=None, title="t")


def test_correction_is_a_new_document_pointing_to_the_one_it_replaces(app, parties, issued):
    correction = issue_test_notice(app, issuer=parties[0], recipient=parties[1], replaces=issued.id)
    assert correction.sha256 != issued.sha256
    with app.app_context():
        original = db.session.get(documents.Document, issued.id)
        assert original.replaced_by.id == correction.id
        assert hashlib.sha256(issued.path.read_bytes()).hexdigest() == issued.sha256  # left as it was
    text = pdf_text(correction.path)
    assert "정정하여 대체합니다" in text and "corrects and replaces" in text
    with pytest.raises(Conflict):
        issue_test_notice(app, issuer=parties[0], recipient=parties[1], replaces=issued.id)


def test_check_command_finds_a_changed_file(runner, issued):
    assert runner.invoke(args=["documents", "check"]).exit_code == 0
    os.chmod(issued.path, 0o640)
    issued.path.write_bytes(issued.path.read_bytes() + b"\n")
    result = runner.invoke(args=["documents", "check"])
    assert result.exit_code == 1 and "changed" in result.output


# --- Downloading ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["platform_agent", "platform_admin"])
def test_recipient_downloads_the_stored_bytes_twice_identically(app, client, auth, make, parties, issued, role):
    auth.login(make.user(role, parties[1]))
    first = client.get(f"/documents/{issued.id}/download")
    second = client.get(f"/documents/{issued.id}/download")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data == issued.path.read_bytes()
    assert hashlib.sha256(first.data).hexdigest() == issued.sha256
    assert first.headers["ETag"] == f'"{issued.sha256}"'
    assert first.headers["Content-Type"] == "application/pdf"
    assert first.headers["Cache-Control"] == "no-store"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Content-Disposition"].startswith(f'attachment; filename="{issued.reference}.pdf"')
    with app.app_context():
        assert _count(AuditEvent, AuditEvent.action == "document.downloaded",
                      AuditEvent.object_id == str(issued.id)) == 2


@pytest.mark.parametrize("role", ["regulator_officer", "regulator_supervisor"])
def test_issuing_agency_downloads_its_document(client, auth, make, parties, issued, role):
    auth.login(make.user(role, parties[0]))
    assert client.get(f"/documents/{issued.id}/download").data == issued.path.read_bytes()


@pytest.mark.parametrize("role", ["platform_agent", "platform_admin", "regulator_officer", "regulator_supervisor",
                                  "secretariat"])
def test_another_organisation_gets_404(client, auth, role, issued):
    auth.as_role(role)  # in an organisation of its own
    assert client.get(f"/documents/{issued.id}/download").status_code == 404


def test_unknown_document_is_404(client, auth, make, parties):
    auth.login(make.user("platform_agent", parties[1]))
    assert client.get("/documents/999999/download").status_code == 404


def test_korean_file_name_is_encoded_per_rfc_5987(client, auth, make, parties, issued):
    auth.login(make.user("platform_agent", parties[1], language="ko"))
    disposition = client.get(f"/documents/{issued.id}/download").headers["Content-Disposition"]
    assert disposition == (f'attachment; filename="{issued.reference}.pdf"; '
                           f"filename*=UTF-8''{issued.reference}%20%EC%8B%9C%ED%97%98%20%ED%86%B5%EC%A7%80%EC%84%9C.pdf")


def test_download_never_renders_again(client, auth, make, parties, issued, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an issued document was rendered again")

    monkeypatch.setattr(documents, "render_pdf", refuse)
    monkeypatch.setattr(documents, "sign_pdf", refuse)
    auth.login(make.user("platform_agent", parties[1]))
    assert client.get(f"/documents/{issued.id}/download").data == issued.path.read_bytes()


def test_documents_for_lists_only_reachable_documents(app, make, parties, issued):
    other = issue_test_notice(app, issuer=parties[0], recipient=make.organisation("platform"), reference="KCSC-2026-000124")
    agent = make.user("platform_agent", parties[1])
    officer = make.user("regulator_officer", parties[0])
    with app.app_context():
        from portal.accounts.models import User

        assert [d.id for d in documents.documents_for(db.session.get(User, agent.id))] == [issued.id]
        assert {d.id for d in documents.documents_for(db.session.get(User, officer.id))} == {issued.id, other.id}
        assert [d.id for d in documents.documents_for(db.session.get(User, officer.id),
                                                      reference=other.reference)] == [other.id]
