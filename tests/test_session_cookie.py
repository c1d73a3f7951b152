"""Flask's session cookie, each cookie read once (portal/core/sessions.py): a kept cookie still ages out with
the session's lifetime, a forged one is never taken, and no request sees what another did to its session."""
import time

from flask import flash, get_flashed_messages, request
from itsdangerous import URLSafeTimedSerializer

from portal.core import policy, sessions


def _cookie(app, data: dict) -> str:
    interface = app.session_interface
    return interface.get_signing_serializer(app).dumps(data)


def _open(app, cookie: str):
    with app.test_request_context("/", headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}):
        return app.session_interface.open_session(app, request)


def test_the_portal_keeps_its_session_cookies_read(app):
    assert isinstance(app.session_interface, sessions.KeptCookieSessionInterface)


def test_a_kept_cookie_gives_its_values_and_each_request_its_own_copy(app):
    cookie = _cookie(app, {"lang": "ko", "csrf_token": "abc"})
    first, second = _open(app, cookie), _open(app, cookie)
    assert dict(first) == dict(second) == {"lang": "ko", "csrf_token": "abc"}
    first["lang"] = "en"
    assert _open(app, cookie)["lang"] == "ko" and second["lang"] == "ko"


def test_a_kept_cookie_ages_out_with_the_sessions_lifetime(app, monkeypatch):
    cookie = _cookie(app, {"lang": "ko"})
    assert _open(app, cookie)["lang"] == "ko"  # now kept
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 5
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert dict(_open(app, cookie)) == {}


def test_a_cookie_signed_later_than_now_is_refused(app, monkeypatch):
    cookie = _cookie(app, {"lang": "ko"})
    assert _open(app, cookie)["lang"] == "ko"  # now kept
    earlier = time.time() - 3600  # a clock set back
    monkeypatch.setattr(sessions.time, "time", lambda: earlier)
    assert dict(_open(app, cookie)) == {}


def test_a_forged_cookie_is_refused_every_time(app):
    forged = URLSafeTimedSerializer("not the portal's key", salt="cookie-session").dumps({"_user_id": "x"})
    genuine = _cookie(app, {"_user_id": "x"})
    tampered = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    for _ in range(2):
        assert dict(_open(app, forged)) == {} and dict(_open(app, tampered)) == {}
    assert dict(_open(app, genuine)) == {"_user_id": "x"}


def test_a_session_with_flashed_messages_is_read_each_time_and_shown_once(app, client):
    @policy.access(policy.PUBLIC)
    def flash_view():
        if "show" in request.args:
            return "|".join(get_flashed_messages())
        flash("Saved once")
        return "flashed"

    app.add_url_rule("/test-flash", view_func=flash_view)
    client.get("/test-flash")
    assert client.get("/test-flash?show=1").data == b"Saved once"
    assert client.get("/test-flash?show=1").data == b""


def test_a_changed_secret_key_does_not_read_a_kept_cookie(app):
    cookie = _cookie(app, {"lang": "ko"})
    assert _open(app, cookie)["lang"] == "ko"
    app.secret_key = "another key"
    assert dict(_open(app, cookie)) == {}

