"""The frame of every page (templates/base.html): its style sheets and scripts, the banner with the language
form, the user and the main menu, and the footer.

Drawn through Jinja for every page, the frame was a tenth of a list page (a dozen messages, eight addresses,
the menu) for markup that changes only with the language, the user, the page's address and the form token.
Each part is kept per key (core.memo); the key names everything the part shows, and the form token, which
is the session's, is put into the kept markup for each page.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask, current_app, g, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from portal.core.memo import Memo
from portal.i18n import current_language

# Stands for the form token in a kept frame: no token, and nothing a page shows, holds a NUL (core.input
# refuses it in every text a user enters).
_FORM_TOKEN = "\x00form-token\x00"

_HEADS: Memo[Markup] = Memo(16)
_TOPS: Memo[str] = Memo(2048)
_BOTTOMS: Memo[Markup] = Memo(16)


@dataclass(frozen=True)
class Frame:
    language: str
    head: Markup
    top: Markup
    bottom: Markup


def page_frame() -> Frame:
    """The frame of the page being drawn."""
    language = current_language()
    root = request.script_root
    user = current_user._get_current_object()
    who = ((user.id, user.name, user.role, user.active, user.organisation.name(language))
           if user.is_authenticated else None)
    # The language form comes back to this page: the address with its query for a GET, else the path.
    following = request.full_path.rstrip("?") if request.method == "GET" else request.path
    top = _TOPS.get((language, root, request.endpoint, following, who), lambda: render_template(
        "_frame/top.html", page_language=language, user=user, following=following, form_token=_FORM_TOKEN))
    return Frame(
        language=language,
        head=_HEADS.get(root, lambda: Markup(render_template("_frame/head.html"))),
        top=Markup(top.replace(_FORM_TOKEN, escape(form_token()))),
        bottom=_BOTTOMS.get((language, root), lambda: Markup(render_template("_frame/bottom.html"))),
    )


# The signed form token, kept a minute for each session's token: signing it again for every page was a
# twentieth of the frame. A token signed a minute ago is as good: its lifetime (WTF_CSRF_TIME_LIMIT, an
# hour by default) counts from its signature, so it is valid at most a minute less.
_SIGNED: Memo[str] = Memo(4096)
_SIGNED_FOR = 60  # seconds


def _period() -> int:
    return int(time.time() // _SIGNED_FOR)


def form_token() -> str:
    """The page's form (CSRF) token, as Flask-WTF's `csrf_token()` gives it and checks it."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field in g:  # signed already for this page (a form the view built)
        return g.get(field)
    raw = session.get(field)
    if raw is None:  # a new session's first token
        return generate_csrf()
    key = (current_app.secret_key, current_app.config.get("WTF_CSRF_SECRET_KEY"), raw, _period())
    signed = _SIGNED.get(key, generate_csrf)
    setattr(g, field, signed)  # the page's forms give the same token (Flask-WTF keeps it in `g`)
    return signed


def init_app(app: Flask) -> None:
    app.jinja_env.globals["page_frame"] = page_frame
