"""Issuing test notices through the real mechanism, and reading PDFs with the tools a reader would use."""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from portal.accounts.models import Organisation
from portal.core import documents
from portal.extensions import db

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"

documents.register_kind("test_notice", "시험 통지서", "Test notice")

BODY_KO = "귀사에 다음 사항을 통지합니다. 이 문서는 시험용입니다."
BODY_EN = "We notify you of the following. This document is a test."


@dataclass
class Issued:
    id: int
    sha256: str
    code: str
    path: Path
    reference: str


def issue_test_notice(app, *, issuer: int, recipient: int | None, reference: str = "KCSC-2026-004711",
                      items=(), replaces: int | None = None, template: str = "test_notice",
                      body_ko: str = BODY_KO, body_en: str = BODY_EN) -> Issued:
    """Issue and commit a test notice; the verification code is caught as it is made (only the PDF has it)."""
    codes: list[str] = []
    original = documents.codes.new_verification_code

    def recording() -> str:
        codes.append(original())
        return codes[-1]

    documents.codes.new_verification_code = recording
    try:
        with app.test_request_context():
            recipient_org = db.session.get(Organisation, recipient) if recipient else None
            document = documents.issue_document(
                "test_notice", template,
                {"body_ko": body_ko, "body_en": body_en, "items": list(items),
                 "recipient_ko": recipient_org.name_ko if recipient_org else "",
                 "recipient_en": recipient_org.name_en if recipient_org else ""},
                reference=reference, issuer=issuer, recipient_organisation_id=recipient,
                title=f"시험 통지서 / Test notice {reference}",
                replaces=db.session.get(documents.Document, replaces) if replaces else None,
            )
            db.session.commit()
            return Issued(document.id, document.sha256, codes[-1],
                          documents.documents_root() / document.storage_path, reference)
    finally:
        documents.codes.new_verification_code = original


def stand_in_pdf(html: str, *, title: str, template: str) -> bytes:
    """A fast stand-in for WeasyPrint: one blank page with the title in its metadata, a valid PDF that is
    signed, stored and hashed like a real one (so downloads and /verify work). The template still renders
    in the sandbox first, so a context or template error shows in every test."""
    import io

    import pydyf

    document = pydyf.PDF()
    document.info["Title"] = pydyf.String(title)
    document.info["Producer"] = pydyf.String("tests: stand-in renderer")
    page = pydyf.Dictionary({"Type": "/Page", "Parent": document.pages.reference,
                             "MediaBox": pydyf.Array([0, 0, 595, 842]), "Resources": pydyf.Dictionary()})
    document.add_object(page)
    document.add_page(page)
    output = io.BytesIO()
    document.write(output)
    return output.getvalue()


def stand_in_signature(pdf: bytes, identity, **_metadata) -> bytes:
    """The stand-in renderer's partner: no PAdES signature (tests that look at signatures use the real one),
    but, as a signature's time and nonce do, a comment that makes each issued file's bytes its own."""
    import secrets

    return pdf + b"%% stand-in signature " + secrets.token_hex(16).encode() + b"\n"


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def pdf_fonts(path: Path) -> list[dict]:
    """`pdffonts` rows as dicts: name, type, encoding, emb, sub, uni."""
    lines = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout.splitlines()
    rows = []
    for line in lines[2:]:
        parts = line.split()
        # name ... type (may be two words) ... encoding emb sub uni object-id generation
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def pyhanko_cli(app, path, tmp_path, *trusted: bytes) -> tuple[int, dict[str, str], str]:
    """`pyhanko sign validate` (pyHanko's command line) trusting only the portal's certificate (and
    `trusted`), offline and without a user's configuration: its exit status, the judgment on each
    signature field (VALID, INVALID ...) and the report itself."""
    roots = []
    with app.app_context():
        certificates = [documents.signing_identity().certificate_der, *trusted]
    for n, der in enumerate(certificates):
        (tmp_path / f"trusted-{n}.der").write_bytes(der)
        roots += ["--trust", str(tmp_path / f"trusted-{n}.der")]
    run = subprocess.run(
        [sys.executable, "-m", "pyhanko", "sign", "validate", "--pretty-print", "--no-revocation-check",
         "--trust-replace", *roots, str(path)],
        capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    fields = re.findall(r"^Field \d+: (\S+)$", run.stdout, re.MULTILINE)
    verdicts = re.findall(r"^The signature is judged (\w+)\.$", run.stdout, re.MULTILINE)
    return run.returncode, dict(zip(fields, verdicts)), run.stdout + run.stderr


def qpdf_check(path) -> None:
    """`qpdf --check`: the file's structure (cross-reference tables of every revision, streams) is sound."""
    run = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No syntax or stream encoding errors found" in run.stdout, run.stdout
