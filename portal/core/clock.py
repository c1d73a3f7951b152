"""One place for time: the portal stores aware UTC datetimes and shows KST beside the viewer's zone.

Every date and time the portal prints -- pages, e-mails, PDFs, the sentence that says how a deadline was
computed -- is written here, one way per language, 24-hour, without seconds:

    moment   25 November 2026, 14:03          2026년 11월 25일 14:03
    day      25 November 2026                 2026년 11월 25일
    meeting  Wed 25 November 2026, 14:03      2026년 11월 25일(수) 14:03

Callers name the kind, never a pattern. CLDR puts spaces the PDF fonts cannot draw into some forms (a
narrow no-break space before "PM", thin spaces in ranges); whatever Babel writes leaves here with plain
spaces, so a document draws every character it prints.
"""
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import tokenize_pattern
from flask_babel import get_locale

UTC = timezone.utc
KST = ZoneInfo("Asia/Seoul")

PATTERNS = {
    "en": {"moment": "d MMMM yyyy, HH:mm", "day": "d MMMM yyyy", "meeting": "EEE d MMMM yyyy, HH:mm",
           "clock": "HH:mm"},
    "ko": {"moment": "yyyy년 M월 d일 HH:mm", "day": "yyyy년 M월 d일", "meeting": "yyyy년 M월 d일(E) HH:mm",
           "clock": "HH:mm"},
}

# No-break, narrow no-break, thin and figure spaces: Babel writes them, the documents' fonts lack them.
UNDRAWABLE_SPACES = "\u00a0\u202f\u2009\u2007"
_PLAIN_SPACES = str.maketrans({space: " " for space in UNDRAWABLE_SPACES})


def now() -> datetime:
    """The current time, aware, in UTC. Tests move it with time-machine."""
    return datetime.now(UTC)


def is_valid_zone(name: str | None) -> bool:
    """A zone people may choose: one the time-zone picker offers (`portal.core.zones`)."""
    from portal.core import zones  # the picker's list builds on this module

    return zones.is_offered(name)


def as_zone(zone: str | ZoneInfo) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else _zone(zone)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def in_zone(moment: datetime, zone: str | ZoneInfo) -> datetime:
    return moment.astimezone(as_zone(zone))


def language_of(language: str | None = None) -> str:
    """"ko" or "en": the one given, else the current locale's (Korean, the portal's default, when none)."""
    if language is None:
        locale = get_locale()
        language = locale.language if locale is not None else "ko"
    return "en" if language == "en" else "ko"


def drawable(text: str) -> str:
    """`text` with the spaces fonts cannot draw replaced by plain spaces."""
    return text.translate(_PLAIN_SPACES)


def format_local(moment: datetime, zone: str | ZoneInfo | None = None, kind: str = "moment",
                 language: str | None = None) -> str:
    """The wall-clock reading of `moment` in `zone` (its own zone when None), without the zone's name.
    `kind`: "moment", "meeting" (with the weekday) or "clock" (the time of day alone)."""
    local = moment.astimezone(as_zone(zone)) if zone is not None else moment
    return _compiled(language_of(language), kind)(local)


# The fields PATTERNS use, as str.format fields over (the time, its month's name, its weekday's name).
_FIELDS = {("d", 1): "{0.day}", ("d", 2): "{0.day:02d}", ("M", 1): "{0.month}", ("M", 2): "{0.month:02d}",
           ("M", 4): "{1}", ("y", 4): "{0.year:04d}", ("H", 2): "{0.hour:02d}", ("m", 2): "{0.minute:02d}",
           ("E", 1): "{2}", ("E", 3): "{2}"}


@lru_cache(maxsize=None)
def _compiled(language: str, kind: str):
    """The pattern of `kind` in `language` as one str.format template, with the locale's month and weekday
    names looked up once: a list shows a few hundred times a page, and Babel's pattern machinery costs more
    than the rest of a row. The names come from Babel (CLDR), made drawable here once."""
    locale = Locale.parse(language)
    months = {number: drawable(name) for number, name in locale.months["format"]["wide"].items()}
    weekdays = {number: drawable(name) for number, name in locale.days["format"]["abbreviated"].items()}
    template = []
    for token, value in tokenize_pattern(PATTERNS[language][kind]):
        if token == "chars":
            template.append(drawable(value).replace("{", "{{").replace("}", "}}"))
        elif value in _FIELDS:
            template.append(_FIELDS[value])
        else:
            raise ValueError(f"clock.PATTERNS: field {value} is not supported")
    template = "".join(template)
    return lambda local: template.format(local, months[local.month], weekdays[local.weekday()])


def zone_label(zone: str | ZoneInfo) -> str:
    """How a zone is named after a time: "KST" for Seoul, else its IANA name."""
    key = zone.key if isinstance(zone, ZoneInfo) else zone
    return "KST" if key == KST.key else key


def format_in_zone(moment: datetime | None, zone: str | ZoneInfo, language: str | None = None,
                   kind: str = "moment") -> str:
    """`moment` in `zone`, named after it: "25 November 2026, 05:03 Europe/Dublin", "… 14:03 KST"."""
    if moment is None:
        return ""
    return f"{format_local(moment, zone, kind, language)} {zone_label(zone)}"


def format_moment(moment: datetime | None, zone: str | None = None, language: str | None = None,
                  kind: str = "moment") -> str:
    """An aware time in KST and, when its offset differs, in `zone` too (the viewer's):
    "25 November 2026, 14:03 KST (25 November 2026, 05:03 Europe/Dublin)"."""
    if moment is None:
        return ""
    language = language_of(language)
    kst = format_in_zone(moment, KST, language, kind)
    if not zone or as_zone(zone).utcoffset(moment) == KST.utcoffset(moment):
        return kst
    return f"{kst} ({format_in_zone(moment, zone, language, kind)})"


def format_meeting(moment: datetime | None, zone: str | None = None, language: str | None = None) -> str:
    """A meeting's time, with its weekday, in KST and the viewer's zone."""
    return format_moment(moment, zone, language, kind="meeting")


def format_day(value: date | datetime | None, language: str | None = None) -> str:
    """A calendar day: "25 November 2026" / "2026년 11월 25일". An aware time is read as its day in KST."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(KST).date() if value.tzinfo is not None else value.date()
    return _compiled(language_of(language), "day")(value)
