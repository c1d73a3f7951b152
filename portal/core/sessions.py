"""Flask's session in its signed cookie, each cookie read once.

Flask checks the cookie's signature and decodes its JSON for every request, for the same few cookies again
and again: a thirtieth of a list page. What a cookie with a good signature holds never changes (it is what
was signed), so its decoded values are kept per cookie and keys (core.memo); its age is checked against the
session's lifetime on every request, as itsdangerous does. A cookie whose signature fails is never kept.
"""
from __future__ import annotations

import time

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

from portal.core.memo import Memo

# Values a kept session may hold: immutable, so each request's session is a copy of its own. A session
# with anything else (the flashed messages' list) is read from its cookie every time.
_IMMUTABLE = (str, int, float, bool, bytes, type(None))

_READ: Memo[tuple[dict, int]] = Memo(4096)


class _NotKept(Exception):
    def __init__(self, session: SecureCookieSession):
        self.session = session


class KeptCookieSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())

        def read() -> tuple[dict, int]:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
            if not all(isinstance(item, _IMMUTABLE) for item in data.values()):
                raise _NotKept(self.session_class(data))
            return data, int(signed.timestamp())

        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()), max_age, value)
        try:
            data, signed = _READ.get(key, read)
        except _NotKept as not_kept:
            return not_kept.session
        except BadSignature:  # forged, or older than the lifetime: a new, empty session
            return self.session_class()
        age = int(time.time()) - signed
        if age > max_age or age < 0:
            return self.session_class()
        return self.session_class(data)  # a copy: the kept values are immutable


def init_app(app: Flask) -> None:
    app.session_interface = KeptCookieSessionInterface()
