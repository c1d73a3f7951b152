"""Rendering: a template under `templates/pdf/` and a plain-data context, to PDF/A-3b.

The template renders in a sandbox (`jinja2.sandbox.ImmutableSandboxedEnvironment`) that loads only the
application's `pdf/` templates and holds only what is documented here; nothing of the application, the
request or its viewer (no `config`, `session`, `g`, `request`, `url_for`), and no attribute that starts
with an underscore. The context must be plain data (`check_plain`): strings, numbers, times, dicts, lists
and frozen dataclasses of them -- never an ORM object, which could lazy-load anything it is related to.

What a template is given, beside its caller's context:
- `document` (DocumentFacts: kind, reference, title, issuer (name_ko, name_en), issued_at,
  verification_code, verification_url, short_url, qr_svg, signer_fingerprint, replaces), `author`,
  `subject`, `creator`, `language_pair`;
- `kst(moment, "ko"|"en")`, `in_zone(moment, zone, "ko"|"en")` and `day(date, "ko"|"en")`: times and days
  written as everywhere in the portal (`core.clock`; also as filters: `moment|kst("en")`); a meeting's
  time with its weekday: `kst(moment, "ko", "meeting")`;
- `number(value, "ko"|"en")`, also a filter: a count grouped by thousands (`items|length|number`);
- `ko(text)` / `en(text)`: a translatable label in one language; `_`, `gettext`, `ngettext`: the
  translations of the document's locale (Korean, the authoritative language);
- Jinja's own filters and tests, and the globals `range`, `dict`, `namespace`.

The HTML goes through WeasyPrint with a URL fetcher that serves the portal's own static files from disk and
refuses everything else: the renderer never touches the network, and reported URLs only ever appear as
text. Any `.notdef` (missing glyph) warning of WeasyPrint is an error, so Hangul never silently
disappears.
"""
from __future__ import annotations

import dataclasses
import logging
import mimetypes
import subprocess
import threading
import urllib.request
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask import current_app
from flask_babel import force_locale, gettext, ngettext
from flask_babel.speaklater import LazyString
from jinja2 import BaseLoader, TemplateNotFound, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from markupsafe import Markup

from portal.core import clock
from portal.core.documents.kinds import DocumentRenderError, UnsafeContext
from portal.core.documents.sign import CREATOR

log = logging.getLogger(__name__)

PDF_VARIANT = "pdf/a-3b"
LANGUAGE_PAIR = "ko+en"


# --- Plain data only ---------------------------------------------------------------------------------------

_PLAIN = (str, int, float, bool, type(None), Decimal, datetime, date, time, timedelta, ZoneInfo, LazyString)


def check_plain(context: dict) -> None:
    """Refuse a context that holds anything but plain data, before anything renders.

    Allowed: strings (and Markup, lazy translatable strings), numbers, booleans, None, dates and times,
    zones, and dicts (with string keys), lists, tuples and sets of them, and frozen dataclasses whose
    fields are. An ORM object, a module, a function or an unfrozen object raises `UnsafeContext` naming
    where it was found.
    """
    stack = [("context", context)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, _PLAIN):
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise UnsafeContext(f"{where}: keys must be strings, not {type(key).__name__}")
                stack.append((f"{where}.{key}", item))
        elif isinstance(value, (list, tuple, frozenset, set)):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
        elif (dataclasses.is_dataclass(value) and not isinstance(value, type)
              and type(value).__dataclass_params__.frozen):
            stack.extend((f"{where}.{f.name}", getattr(value, f.name)) for f in dataclasses.fields(value))
        else:
            raise UnsafeContext(f"{where}: a {type(value).__module__}.{type(value).__qualname__} is not plain "
                                f"data; give documents dicts or frozen dataclasses of plain values")


# --- Helpers the templates are given -------------------------------------------------------------------------

def _in_language(text, language: str) -> str:
    """Template helper: a (lazy) translatable string in `language`, e.g. `en(labels.TYPE_LABELS[t])`."""
    with force_locale(language):
        return str(text)


def in_korean(text) -> str:
    return _in_language(text, "ko")


def in_english(text) -> str:
    return _in_language(text, "en")


def format_kst(moment: datetime | None, language: str = "ko", kind: str = "moment") -> str:
    """An aware time in KST, written as everywhere in the portal (core.clock): `2026년 11월 25일 16:51 KST`;
    `kind="meeting"` adds the weekday: `2026년 11월 25일(수) 16:51 KST`."""
    return clock.format_in_zone(moment, clock.KST, language, kind)


def format_in_zone(moment: datetime | None, zone, language: str = "ko", kind: str = "moment") -> str:
    """An aware time in `zone` (a name or ZoneInfo), named after it: `25 November 2026, 08:51 Europe/Dublin`.
    Documents show deadlines in KST (the legal reference) and in the recipient's headquarters zone."""
    return clock.format_in_zone(moment, zone, language, kind)


def format_day(value: date | datetime | None, language: str = "ko") -> str:
    """A calendar day: `2026년 11월 25일` / `25 November 2026` (a time: its day in KST)."""
    return clock.format_day(value, language)


def format_number(value: int, language: str = "ko") -> str:
    """A count as the document prints it: 10,000 (Korean and English group digits alike)."""
    return format_decimal(value, locale=language)


def _kst_filter(moment, language: str = "ko", kind: str = "moment") -> str:
    return format_kst(moment, language, kind)


def _zone_filter(moment, zone, language: str = "ko", kind: str = "moment") -> str:
    return format_in_zone(moment, zone, language, kind)


# --- The sandbox ----------------------------------------------------------------------------------------------

class PdfTemplates(BaseLoader):
    """The application's templates under `pdf/`, and none of the others (pages, e-mails)."""

    def __init__(self, loader: BaseLoader):
        self.loader = loader

    def get_source(self, environment, template):
        parts = template.split("/")
        if parts[0] != "pdf" or len(parts) < 2 or any(p in ("", ".", "..") for p in parts[1:]):
            raise TemplateNotFound(template)
        return self.loader.get_source(environment, template)


def sandbox():
    """The documents' Jinja environment: one per application (its compiled templates are kept)."""
    cache = current_app.extensions.setdefault("portal.documents", {})
    environment = cache.get("environment")
    if environment is None or environment.loader.loader is not current_app.jinja_env.loader:
        environment = ImmutableSandboxedEnvironment(
            loader=PdfTemplates(current_app.jinja_env.loader), autoescape=select_autoescape(["html"]),
            finalize=printable, auto_reload=current_app.jinja_env.auto_reload)
        # Only what the module docstring documents: Jinja's default globals (cycler, joiner, lipsum)
        # are removed too.
        environment.globals.clear()
        environment.globals.update(
            range=range, dict=dict, namespace=Namespace, kst=format_kst, in_zone=format_in_zone, day=format_day,
            number=format_number, ko=in_korean, en=in_english, _=gettext, gettext=gettext, ngettext=ngettext)
        environment.filters.update(kst=_kst_filter, in_zone=_zone_filter, day=format_day, number=format_number,
                                   ko=in_korean, en=in_english)
        cache["environment"] = environment
    return environment


def render_html(template: str, context: dict, *, facts, author: str, subject: str,
                locale: str = "ko") -> str:
    """The HTML of `templates/pdf/<template>.html` for `context` (checked: plain data only)."""
    check_plain(context)
    with force_locale(locale):
        return sandbox().get_template(f"pdf/{template}.html").render(
            **context, document=facts, author=author, subject=subject, creator=CREATOR,
            language_pair=LANGUAGE_PAIR)


def render_pdf(template: str, context: dict, *, facts, author: str, subject: str) -> bytes:
    """The unsigned PDF/A-3b of `templates/pdf/<template>.html`. Raises `DocumentRenderError`."""
    html = render_html(template, context, facts=facts, author=author, subject=subject)
    return write_pdf(html, title=facts.title, template=template)


def write_pdf(html: str, *, title: str, template: str) -> bytes:
    """WeasyPrint: HTML to PDF/A-3b, fetching nothing but the portal's static files. (Tests that are not
    about documents replace this with a fast stand-in: see tests/conftest.py.)"""
    weasyprint, FatalURLFetchingError, *_ = _weasyprint()
    static = Path(current_app.static_folder)
    with force_locale("ko"), _captured_weasyprint_log() as records:
        try:
            pdf = weasyprint.HTML(string=html, base_url=static.as_uri() + "/",
                                  url_fetcher=_static_fetcher(static)).write_pdf(
                pdf_variant=PDF_VARIANT, finisher=_producer_finisher, font_config=_font_config())
        except FatalURLFetchingError as refused:
            raise DocumentRenderError(str(refused.__cause__ or refused)) from None
    missing = [r.getMessage() for r in records if ".notdef" in r.getMessage() or "glyphs missing" in r.getMessage()]
    if missing:
        raise DocumentRenderError(f"characters without a glyph in the document's fonts: {missing[:5]}")
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    if errors:
        raise DocumentRenderError(f"the document did not render cleanly: {errors[:5]}")
    for record in records:
        log.warning("document rendering (%s): %s", template, record.getMessage())
    return pdf


# --- WeasyPrint -----------------------------------------------------------------------------------------------

def _weasyprint():
    # Imported on first use: WeasyPrint loads Pango and HarfBuzz, which the rest of the app never needs.
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    return weasyprint, FatalURLFetchingError, URLFetcher, URLFetcherResponse


@lru_cache(maxsize=1)
def _static_fetcher_class():
    _, FatalURLFetchingError, URLFetcher, URLFetcherResponse = _weasyprint()

    class Refused(FatalURLFetchingError):
        pass

    class StaticOnlyFetcher(URLFetcher):
        def __init__(self, root: Path):
            super().__init__(allowed_protocols=("file", "data"), allow_redirects=False, fail_on_errors=True)
            self.root = root.resolve()

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "data":  # decoded here; nothing is fetched
                with urllib.request.DataHandler().data_open(urllib.request.Request(url)) as response:
                    return URLFetcherResponse(url, response.read(), dict(response.headers))
            if scheme == "file":
                path = Path(urllib.request.url2pathname(urlsplit(url).path)).resolve()
                if path.is_relative_to(self.root) and path.is_file():
                    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
            log.warning("document rendering refused a %s resource", scheme or "relative")
            raise Refused(f"the document renderer fetches nothing but the portal's static files "
                          f"(refused a {scheme or 'relative'} resource)")

    return StaticOnlyFetcher


def _static_fetcher(root: Path):
    """A WeasyPrint URL fetcher that serves files under `root` (and data: URLs) and refuses the rest.

    A refusal stops the rendering (a fatal fetch error), so a template that names a remote image fails
    loudly instead of issuing a document with a hole in it. Refusals log the scheme only: the address
    could be a reported URL.
    """
    return _static_fetcher_class()(root)


class _WeasyPrintLog(logging.Handler):
    """Collects WeasyPrint's warnings of this thread while it renders."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.thread == self.thread:
            self.records.append(record)


@contextmanager
def _captured_weasyprint_log():
    logger = logging.getLogger("weasyprint")
    if logger.getEffectiveLevel() > logging.WARNING:  # a quieter logging set-up must not hide a .notdef
        logger.setLevel(logging.WARNING)
    handler = _WeasyPrintLog()
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


# --- Text the fonts cannot draw ----------------------------------------------

# The face of the documents' body text; what users typed (reasons, summaries, names, addresses) is set in it.
BODY_FONT = "NanumGothic"


@lru_cache(maxsize=1)
def _printable_code_points() -> frozenset[int]:
    """Every character the body font has a glyph for, plus line breaks and tabs."""
    from fontTools.ttLib import TTFont

    found = subprocess.run(["fc-match", "-f", "%{file}", BODY_FONT], capture_output=True, text=True, check=False)
    path = found.stdout.strip()
    if found.returncode != 0 or BODY_FONT not in Path(path).name:
        raise DocumentRenderError(f"the font {BODY_FONT} is not installed (Debian package fonts-nanum)")
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap()) | {0x09, 0x0A}


def printable(value):
    """A value a template prints, with each character the fonts cannot draw written as its code point
    (`[U+1F64F]`). Users type emoji and control characters into reasons and summaries; a document must
    neither fail to issue because of them nor show an empty box where a character was. Our own markup
    (`Markup`) passes as it is: the `.notdef` check keeps the templates' own text honest."""
    if not isinstance(value, str) or isinstance(value, Markup) or (value.isascii() and value.isprintable()):
        return value
    covered = _printable_code_points()
    return "".join(c if ord(c) in covered else f"[U+{ord(c):04X}]" for c in value)


_fonts = threading.local()


def _font_config():
    # Fontconfig's set-up is a fifth of a short document's rendering time; templates declare no
    # @font-face of their own, so one configuration per thread serves every document.
    if not hasattr(_fonts, "config"):
        from weasyprint.text.fonts import FontConfiguration

        _fonts.config = FontConfiguration()
    return _fonts.config


def _producer_finisher(_document, pdf) -> None:
    # pyHanko writes its own name as the XMP producer when it signs; the info dictionary must say the
    # same for PDF/A, so it is set to that name here (pyHanko then leaves it alone).
    import pydyf
    from pyhanko.pdf_utils.metadata.model import VENDOR

    pdf.info["Producer"] = pydyf.String(VENDOR)


def _qr_svg(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_inline(border=0, omitsize=True)


def renderer_status() -> dict:
    """What the renderer runs on; `harfbuzz_subset` False means slow fontTools subsetting."""
    weasyprint, *_ = _weasyprint()
    from weasyprint.text import ffi

    return {"weasyprint": weasyprint.__version__, "harfbuzz_subset": ffi.harfbuzz_subset is not None}
