"""`python -m benchmarks.documents [--runs N] [--database URL]`: how long issued documents take.

Not a test. In a fresh database (SQLite in a temporary folder, or the PostgreSQL database given, whose
tables are dropped and made again) it times, after one warm-up each:

- rendering a two-page bilingual notice (WeasyPrint only: template, layout, fonts, PDF/A), N times;
- issuing it whole: render, sign (PAdES), store write-once, record the row and the audit event, commit;
- rendering and issuing a notice with 1,000 items;
- serving the stored PDF through the download view (session, access check, hash check, audit, commit).

It also reports whether WeasyPrint subsets fonts with HarfBuzz (`libharfbuzz-subset0`) and the embedded
font sizes. Prints p50/p95 against the targets; record the figures in benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import pyotp
from pypdf import PdfReader

from benchmarks.__main__ import _app, _login, _p95, _reset
from portal.accounts.models import Organisation, User
from portal.accounts.passwords import hash_password
from portal.core import clock, documents
from portal.extensions import db

TARGETS = {"render, two-page notice": 0.150, "render, 1,000 items": 3.0, "download of a stored PDF": 0.010}
PASSWORD = "benchmark password 1234"

documents.register_kind("test_notice", "시험 통지서", "Test notice")


def _items(count: int) -> list[dict]:
    return [{"url": f"https://video.example.com/watch/{n:06d}?list=PL{n * 7919:09d}&t=42s",
             "sha256": hashlib.sha256(str(n).encode()).hexdigest()} for n in range(count)]


def _context(items: list[dict]) -> dict:
    return {
        "body_ko": ("「정보통신망 이용촉진 및 정보보호 등에 관한 법률」에 따라 귀사에 아래 주소의 정보에 대한 삭제 또는 "
                    "접속 차단을 요청합니다. 처리 결과는 기한 내에 포털을 통해 회신하여 주시기 바랍니다. ") * 2,
        "body_en": ("Under the Act on Promotion of Information and Communications Network Utilization and Information "
                    "Protection, we ask you to remove or block access to the information at the addresses below. "
                    "Please answer through the portal before the deadline. ") * 2,
        "items": items, "recipient_ko": "비드스트림", "recipient_en": "VidStream Inc.",
    }


def _time(call, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds per run. On a busy shared host the CPU time is the fairer figure of
    the work done: rendering is CPU-bound and single-threaded."""
    call()  # warm-up: templates compiled, fonts loaded
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="PostgreSQL URL (its tables are replaced); default: a new SQLite file")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--two-page-items", type=int, default=12, help="items that make the notice two pages")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        app = _app(args.database, Path(folder))
        _reset(app)
        with app.test_request_context():
            agency = Organisation(code="KCSC", kind="agency", name_ko="방송통신심의위원회",
                                  name_en="Korea Communications Standards Commission", country="KR",
                                  timezone="Asia/Seoul")
            platform = Organisation(code="VIDSTREAM", kind="platform", name_ko="비드스트림", name_en="VidStream Inc.",
                                    country="US", timezone="America/Los_Angeles")
            db.session.add_all([agency, platform])
            db.session.flush()
            secret = pyotp.random_base32()
            db.session.add(User(email="agent@bench.invalid", name="Agent", organisation_id=platform.id,
                                role="platform_agent", password_hash=hash_password(PASSWORD), totp_secret=secret,
                                totp_confirmed_at=clock.now(), language="ko"))
            db.session.commit()
            agency_id, platform_id = agency.id, platform.id
            status = documents.renderer_status()
            dialect = db.engine.dialect.name

        results: dict[str, tuple[list[float], list[float]]] = {}
        notes: list[str] = []

        def facts(reference: str):  # inside a request context
            identity = documents.signing_identity()
            code = documents.new_verification_code()
            url = documents.verification_url(code)
            return documents.DocumentFacts(
                kind=documents.KINDS["test_notice"], reference=reference, title=f"시험 통지서 / Test notice {reference}",
                issuer=documents.Party.of(db.session.get(Organisation, agency_id)), issued_at=clock.now(), verification_code=code,
                verification_url=url, short_url=url.split("://", 1)[-1], qr_svg=documents.render._qr_svg(url),
                signer_fingerprint=identity.fingerprint, replaces=None)

        def render(context):
            with app.test_request_context():
                return documents.render_pdf("test_notice", context, facts=facts("KCSC-2026-000001"),
                                            author="방송통신심의위원회 (KCSC)", subject="benchmark")

        counter = iter(range(1, 10**6))

        def issue(context):
            with app.test_request_context():
                document = documents.issue_document(
                    "test_notice", "test_notice", context, reference=f"KCSC-2026-{next(counter):06d}",
                    issuer=agency_id, recipient_organisation_id=platform_id, title="시험 통지서 / Test notice")
                db.session.commit()
                return document.id, documents.documents_root() / document.storage_path

        gc.collect()
        gc.freeze()  # as a server does after start-up (see benchmarks/README.md)

        two_pages = _context(_items(args.two_page_items))
        pdf = render(two_pages)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        notes.append(f"two-page notice: {args.two_page_items} items, {pages} pages, {len(pdf):,} bytes unsigned")
        results["render, two-page notice"] = _time(lambda: render(two_pages), args.runs)
        results["issue (render, sign, store, record), two-page"] = _time(lambda: issue(two_pages), args.runs)

        big = _context(_items(1_000))
        big_pdf = render(big)
        notes.append(f"1,000-item notice: {len(PdfReader(io.BytesIO(big_pdf)).pages)} pages, {len(big_pdf):,} bytes")
        runs_big = max(3, args.runs // 8)
        results["render, 1,000 items"] = _time(lambda: render(big), runs_big)
        results["issue, 1,000 items"] = _time(lambda: issue(big), runs_big)

        document_id, stored = issue(two_pages)
        client = app.test_client()
        _login(client, "agent@bench.invalid", PASSWORD, secret, app)

        def download():
            response = client.get(f"/documents/{document_id}/download")
            assert response.status_code == 200 and len(response.data) == stored.stat().st_size

        results["download of a stored PDF"] = _time(download, args.runs * 2)

        reader = PdfReader(stored)
        font_sizes = []
        for page in reader.pages:
            for font in (page["/Resources"].get("/Font") or {}).values():
                font = font.get_object()
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
                data = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
                if data is not None:
                    font_sizes.append((str(font["/BaseFont"]), len(data.get_object().get_data())))
        unique = dict(font_sizes)
        notes.append(f"WeasyPrint {status['weasyprint']}, HarfBuzz subsetting: "
                     f"{'yes' if status['harfbuzz_subset'] else 'NO (fontTools fallback: slow)'}")
        notes.append("embedded fonts: " + ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in unique.items()))
        nanum = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
        if nanum.exists():
            notes.append(f"(NanumGothic.ttf itself: {nanum.stat().st_size / 1024:.0f} KiB)")

        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{dialect}; {args.runs} runs (1,000 items: {runs_big}); {os.cpu_count()} CPUs, load average {load:.1f}")
        print(f"{'measure':48} {'runs':>5} {'p50 ms':>9} {'p95 ms':>9} {'CPU p50':>9} {'CPU p95':>9} {'target':>9}")
        for name, (wall, cpu) in results.items():
            target = TARGETS.get(name)
            print(f"{name:48} {len(wall):5d} {statistics.median(wall) * 1000:9.1f} {_p95(wall) * 1000:9.1f} "
                  f"{statistics.median(cpu) * 1000:9.1f} {_p95(cpu) * 1000:9.1f} "
                  f"{(f'{target * 1000:.0f}' if target else '-'):>9}")
        for note in notes:
            print(note)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
