"""Languages and time zones of the viewer, and the template helpers that format for them.

Language: ?lang= -> the user's setting -> the session -> Accept-Language -> Korean.

A language asked with ?lang= is kept in the session, so it holds through redirects (`/?lang=en` -> `/login`)
and the pages after. It is not saved as a logged-in user's setting: a link that carries ?lang= (every link in
an e-mail does, in its recipient's language) is a way to read one page, not a choice; the switcher saves it.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel import Locale
from babel.numbers import format_decimal, get_group_symbol
from flask import current_app, g, has_app_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from portal.core import clock

LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        return asked
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def keep_asked_language() -> None:
    """Before each page: remember a language asked with ?lang= (the API has no session to keep it in)."""
    asked = request.args.get("lang")
    if asked in current_app.config["LANGUAGES"] and not request.path.startswith("/api/") \
            and session.get("lang") != asked:
        session["lang"] = asked


def select_timezone() -> str:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return "Asia/Seoul"


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def viewer_zone() -> str:
    """The viewer's zone, looked up once per request (a list formats hundreds of times with it)."""
    zone = g.get("_viewer_zone")
    if zone is None:
        zone = g._viewer_zone = select_timezone()
    return zone


def moment(value) -> str:
    """Template filter: a UTC time shown in KST with the viewer's zone beside it."""
    return clock.format_moment(value, viewer_zone())


def moment_in(value, zone: str | None) -> str:
    """Template filter: a UTC time in KST and in a given zone (an e-mail's recipient's)."""
    return clock.format_moment(value, zone)


def meeting(value) -> str:
    """Template filter: a meeting's start, with its weekday, in KST and the viewer's zone."""
    return clock.format_meeting(value, viewer_zone())


def day(value) -> str:
    """Template filter: a calendar day ("25 November 2026" / "2026년 11월 25일")."""
    return clock.format_day(value)


class Number(int):
    """A whole number that prints with the digit grouping of the language it is printed in ("100,000",
    "100,000행"): formatted when printed, so a lazy message built with it reads right in any language.
    Messages take it as `%(num)s`: with `%(num)d` Python would print the bare digits."""

    def __str__(self) -> str:
        # Below a thousand there is nothing to group (Korean and English write the same digits): most
        # counts of a page are, and Babel's formatting costs more than the rest of their row.
        if -1000 < self < 1000 or not has_app_context():
            return int.__str__(self)
        language = current_language()
        if _grouped_in_threes_by_commas(language):  # Korean and English: Python's own grouping is CLDR's
            return f"{int(self):,}"
        return format_decimal(int(self), locale=language)


@cache
def _grouped_in_threes_by_commas(language: str) -> bool:
    """Whether `language` writes whole numbers as Python's "{:,}" does (CLDR's "#,##0.###" with a comma)."""
    locale = Locale.parse(language)
    return get_group_symbol(locale) == "," and locale.decimal_formats[None].pattern == "#,##0.###"


def number(value) -> str:
    """Template filter: a count or size as users read it, grouped by thousands in the viewer's language."""
    return str(Number(value))


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """`ngettext` whose `%(num)s` prints grouped by thousands in the current language."""
    variables.setdefault("num", Number(num))
    return get_translations().ungettext(singular, plural, num) % variables


def _grouping_ngettext(installed):
    """The templates' `ngettext`, with `num` grouped by thousands like `ngettext` above."""
    @pass_context
    def grouped(context, singular, plural, num, **variables):
        variables.setdefault("num", Number(num))
        return installed(context, singular, plural, num, **variables)
    return grouped


def _page_catalogue() -> dict:
    """Template context: the page's `_`, `gettext` and `ngettext` bound to its catalogue, looked up once per
    page. Flask-Babel's own walk its context proxies for each message, and a page has dozens. They keep Jinja's
    "newstyle" rules: the message is a format string, its variables escaped; `num` grouped as above."""
    translations = get_translations()

    @pass_context
    def gettext(context, message, /, **variables):  # positional: a variable may be called "message"
        text = translations.ugettext(message)
        if not variables and "%" not in text:  # most of a page's messages: nothing to format
            return Markup(text) if context.eval_ctx.autoescape else text
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context, singular, plural, num, /, **variables):
        variables.setdefault("num", Number(num))
        text = translations.ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return {"gettext": gettext, "ngettext": ngettext}


# Two full stops where a name that ends in one ("Ltd.") closes a sentence; an ellipsis is left alone.
_DOUBLED_FULL_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


def one_full_stop(text) -> str:
    """Template filter on a translated sentence: "GlobeChat Messenger Ltd.." becomes "... Ltd."."""
    return _DOUBLED_FULL_STOP.sub(".", str(text))


def check_catalogues(app) -> list[str]:
    """Compiled catalogues the app needs; returns what is missing (checked at start-up, like SecureDrop)."""
    translations = Path(app.root_path) / "translations"
    missing = []
    for language in app.config["LANGUAGES"]:
        mo = translations / language / "LC_MESSAGES" / "messages.mo"
        if not mo.exists():
            missing.append(str(mo))
    return missing


def init_app(app) -> None:
    missing = check_catalogues(app)
    if missing:
        app.logger.warning("compiled message catalogues missing (run `make translations`): %s", missing)
    app.before_request(keep_asked_language)
    app.jinja_env.filters["moment"] = moment
    app.jinja_env.filters["moment_in"] = moment_in
    app.jinja_env.filters["meeting"] = meeting
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["one_full_stop"] = one_full_stop
    app.jinja_env.filters["number"] = number
    app.jinja_env.globals["ngettext"] = _grouping_ngettext(app.jinja_env.globals["ngettext"])
    app.context_processor(_page_catalogue)
    app.jinja_env.globals.update(current_language=current_language, LANGUAGE_NAMES=LANGUAGE_NAMES)
