"""The transparency report: the period's scorecard of every platform, as a CSV file people open in Excel.

The figures are those of `measures.scorecard` (the PDF takes the same `Report`: rows and months), so
the two cannot disagree. The file is UTF-8 with a byte-order mark (Excel otherwise reads Korean as CP949),
quoted per RFC 4180 by the csv module (CRLF line ends), with text cells neutralised against formula
injection while numbers stay numbers. The header row is bilingual; the last line is a manifest (period,
filters, generation time, code version) so a copy found later says what it is.
"""
from __future__ import annotations

import csv
import hashlib
import io
import subprocess
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from flask import current_app

from portal.core import clock
from portal.reports import measures
from portal.reports.measures import Period
from portal.requests.models import OUTCOMES, TYPES

# Request types and the time-to-act bins (`measures.ACT_BINS`) as the CSV and the PDF name them.
TYPE_NAMES = {"removal": ("삭제", "removal"), "blocking": ("국내 접속 차단", "blocking in Korea"),
              "preservation": ("자료 보전", "data preservation"), "information": ("정보 제공", "information")}
ACT_BIN_NAMES = [("act_under_6h", "6시간 미만", "under 6 h"), ("act_6_24h", "6–24시간", "6–24 h"),
                 ("act_1_3d", "1–3일", "1–3 days"), ("act_3_7d", "3–7일", "3–7 days"),
                 ("act_7d_plus", "7일 이상", "7 days or more")]
assert list(TYPE_NAMES) == list(TYPES) and len(ACT_BIN_NAMES) == len(measures.ACT_BINS)

# (key, Korean, English): one column each. Korean first, as in every formal document of the portal.
COLUMNS = [
    ("platform", "플랫폼 코드", "Platform code"),
    ("name_ko", "플랫폼 이름(한국어)", "Platform name (Korean)"),
    ("name_en", "플랫폼 이름(영어)", "Platform name (English)"),
    ("requests", "접수 요청", "Requests received"),
    ("acknowledged", "접수 확인", "Acknowledged"),
    ("median_hours_to_acknowledge", "접수 확인 시간 중앙값(시간)", "Median hours to acknowledge"),
    ("p90_hours_to_acknowledge", "접수 확인 시간 90번째 백분위수(시간)", "90th percentile hours to acknowledge"),
    ("acted", "조치 완료", "Acted on"),
    ("median_hours_to_act", "조치 시간 중앙값(시간)", "Median hours to act"),
    ("p90_hours_to_act", "조치 시간 90번째 백분위수(시간)", "90th percentile hours to act"),
    ("within_deadline", "기한 내 조치", "Acted within deadline"),
    ("decided", "판정 대상(조치 또는 기한 경과)", "Decided (acted or deadline passed)"),
    ("within_deadline_share", "기한 내 조치 비율", "Share within deadline"),
    ("ci95_low", "95% 신뢰구간 하한", "95% interval, low"),
    ("ci95_high", "95% 신뢰구간 상한", "95% interval, high"),
    ("extension_asked", "기한 연장 요청", "Extensions asked"),
    ("extension_granted", "기한 연장 승인", "Extensions granted"),
    ("overdue_now", "현재 기한 경과", "Overdue now"),
    ("very_overdue_now", "현재 장기 기한 경과", "Very overdue now"),
    ("withdrawn", "철회(제외)", "Withdrawn (excluded)"),
    *[(f"items_{o}", f"항목: {ko}", f"Items: {en}") for o, ko, en in (
        ("removed", "삭제", "removed"), ("blocked_kr", "국내 접속 차단", "blocked in Korea"),
        ("restricted", "제한", "restricted"), ("not_found", "찾을 수 없음", "not found"),
        ("declined", "거절", "declined"), ("needs_information", "추가 정보 필요", "needs information"))],
    *[(f"type_{t}", f"유형: {ko}", f"Type: {en}") for t, (ko, en) in TYPE_NAMES.items()],
    *[(key, f"조치 시간 {ko}", f"Acted in {en}") for key, ko, en in ACT_BIN_NAMES],
]

# A spreadsheet runs a cell starting with one of these as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


@dataclass(frozen=True)
class Report:
    period: Period
    generated_at: datetime
    version: str
    rows: list[dict]
    # Per KST month of the period: {"month": "YYYY-MM", "counts": {type: n}} (the PDF's monthly chart).
    months: list[dict]

    def act_distribution(self) -> list[int]:
        """Requests acted on per time-to-act bin, every platform together."""
        return [sum(row[key] for row in self.rows) for key, _ko, _en in ACT_BIN_NAMES]


def row_of(figures: measures.PlatformFigures) -> dict:
    """One platform's figures as plain values (the CSV's and the PDF's common source)."""
    within = figures.within_deadline
    ci = within["ci95"] or [None, None]
    return {
        "platform": figures.code, "name_ko": figures.name_ko, "name_en": figures.name_en,
        "requests": figures.requests, "acknowledged": figures.counts["acknowledged"],
        "median_hours_to_acknowledge": figures.median_hours_to_acknowledge,
        "p90_hours_to_acknowledge": figures.p90_hours_to_acknowledge,
        "acted": figures.counts["acted"],
        "median_hours_to_act": figures.median_hours_to_act, "p90_hours_to_act": figures.p90_hours_to_act,
        "within_deadline": within["count"], "decided": within["of"],
        "within_deadline_share": None if within["share"] is None else round(within["share"], 4),
        "ci95_low": ci[0], "ci95_high": ci[1],
        **{m: figures.counts[m] for m in ("extension_asked", "extension_granted", "overdue_now",
                                          "very_overdue_now", "withdrawn")},
        **{f"items_{o}": figures.outcomes[o] for o in OUTCOMES},
        **{f"type_{t}": figures.types[t] for t in TYPES},
        **{key: n for (key, _ko, _en), n in zip(ACT_BIN_NAMES, figures.hours_to_act_binned)},
    }


def build(period: Period, now: datetime | None = None) -> Report:
    """The report of every platform for `period`."""
    now = (now or clock.now()).replace(microsecond=0)
    rows = [row_of(f) for f in measures.scorecard(period, None, now=now)]
    return Report(period, now, code_version(), rows, measures.requests_per_month_by_type(period))


def neutralise(value):
    """A cell as written: numbers as numbers, None empty, text that a spreadsheet would run prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def stamp(moment: datetime) -> str:
    return moment.astimezone(clock.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def manifest(report: Report) -> str:
    last = report.period.last_day.isoformat()
    return (f"# manifest: report=transparency; from={report.period.start.isoformat()}; to={report.period.end.isoformat()} "
            f"(exclusive; last day {last}; KST days; requests by date of issue; withdrawn excluded); "
            f"platforms=all; generated_at={stamp(report.generated_at)}; "
            f"code_version={report.version}")


def to_csv(report: Report) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, dialect="excel", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([f"{ko} / {en}" for _key, ko, en in COLUMNS])
    for row in report.rows:
        writer.writerow([neutralise(row[key]) for key, _ko, _en in COLUMNS])
    writer.writerow([manifest(report)])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def sha256_line(data: bytes, filename: str) -> str:
    """The line `sha256sum -c` reads."""
    return f"{hashlib.sha256(data).hexdigest()}  {filename}\n"


def filename(period: Period) -> str:
    return f"transparency-{period.start.isoformat()}-{period.last_day.isoformat()}.csv"


@lru_cache(maxsize=1)
def _git_version(root: str) -> str:
    try:
        result = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def code_version() -> str:
    """CODE_VERSION from the configuration (set it when deploying), else the checkout's git commit."""
    configured = current_app.config.get("CODE_VERSION")
    if configured:
        return str(configured)
    return _git_version(str(Path(current_app.root_path).parent))


# --- The PDF: the same rows, with charts, through core/documents ----------------------------------------

from portal.core import documents  # noqa: E402

TRANSPARENCY = documents.register_kind("transparency_report", "투명성 보고서", "Transparency report").code


def prepare_pdf(report: Report, issuer, issued_by_id: int | None) -> documents.Prepared:
    """Render and sign the report's PDF (no database); record it with `documents.record_document`."""
    from portal.reports import charts

    period = {"start": report.period.start.isoformat(), "last_day": report.period.last_day.isoformat()}
    distribution = report.act_distribution()
    context = {"period": period, "rows": report.rows, "manifest": manifest(report),
               "months": [{**m, "total": sum(m["counts"].values())} for m in report.months],
               "types": [{"key": t, "ko": ko, "en": en} for t, (ko, en) in TYPE_NAMES.items()],
               "bin_keys": [key for key, _ko, _en in ACT_BIN_NAMES],
               "bins": [{"ko": ko, "en": en, "count": n} for (_key, ko, en), n in zip(ACT_BIN_NAMES, distribution)],
               "charts": {"months": charts.requests_per_month(report.months, TYPE_NAMES),
                          "share": charts.share_within_deadline(report.rows),
                          "act": charts.act_distribution(ACT_BIN_NAMES, distribution)}}
    reference = f"TR-{period['start']}-{period['last_day']}"
    return documents.prepare_document(
        TRANSPARENCY, "transparency_report", context, reference=reference, issuer=documents.Party.of(issuer),
        recipient_organisation_id=None, title=f"투명성 보고서 / Transparency report {reference}",
        issued_by_id=issued_by_id, issued_at=report.generated_at)
