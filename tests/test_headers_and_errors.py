"""Security headers on every response; error pages in both languages with an incident id; JSON for /api/."""
import pytest
from flask import url_for

from portal import create_app
from tests.conftest import MINIMUM_HASHING, _config
from tests.production_support import production_config

REQUIRED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _get_paths(app):
    with app.test_request_context():
        return [url_for(r.endpoint, **{a: 1 for a in r.arguments}) for r in app.url_map.iter_rules()
                if "GET" in r.methods and "static" not in r.endpoint]


def _assert_secure(response, path):
    for header, value in REQUIRED.items():
        assert response.headers.get(header) == value, (path, header)
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, path
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path


@pytest.mark.parametrize("role", [None, "system_admin", "platform_admin", "regulator_supervisor"])
def test_security_headers_on_every_route(app, auth, client, role):
    if role:
        auth.as_role(role)
    for path in _get_paths(app):
        _assert_secure(client.get(path), path)


def test_security_headers_on_errors_and_static(client):
    _assert_secure(client.get("/no-such-page"), "/no-such-page")
    _assert_secure(client.get("/static/portal.css"), "/static/portal.css")


def test_pages_are_not_cached(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("lang, text", [("ko", "요청하신 페이지가 없습니다"), ("en", "The page you asked for does not exist.")])
def test_not_found_page_in_both_languages_with_incident(client, lang, text):
    response = client.get(f"/no-such-page?lang={lang}")
    assert response.status_code == 404
    body = response.data.decode()
    assert text in body and f'<html lang="{lang}">' in body
    assert "incident" in body.lower() or "사건" in body or "오류 번호" in body
    assert "Traceback" not in body


def test_api_paths_answer_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json and set(response.json) >= {"error", "message"}
    assert response.json["error"] == "not_found"


def test_unexpected_error_shows_incident_without_traceback(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internals")

    boom.access_rule = "public"
    app.view_functions["boom"].access_rule = "public"
    response = client.get("/boom-for-test")
    assert response.status_code == 500
    body = response.data.decode()
    assert "secret internals" not in body and "Traceback" not in body
    assert "incident" in body.lower() or "사건" in body


def test_csrf_is_enforced_on_forms(csrf_app):
    response = csrf_app.test_client().post("/login", data={"email": "a@example.test", "password": "whatever"})
    assert response.status_code == 400


def test_health_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"


def test_health_answers_503_when_the_database_is_down(tmp_path):
    instance = tmp_path / "down"
    instance.mkdir()
    app = create_app(_config("postgresql://nobody@127.0.0.1:1/none", instance))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] != "ok"


def test_production_requires_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    config = production_config(_config("sqlite://", tmp_path))
    config.pop("SECRET_KEY")
    with pytest.raises(RuntimeError, match="PORTAL_SECRET_KEY"):
        create_app(config)


def test_production_hardens_cookies_and_sends_hsts(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    config = {k: v for k, v in _config("sqlite://", tmp_path).items() if k not in MINIMUM_HASHING}
    app = create_app(production_config(config, DEBUG=True))
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert not app.debug
    response = app.test_client().get("/login")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_development_generates_a_secret_key_into_the_instance_folder(tmp_path):
    config = _config("sqlite://", tmp_path)
    config.pop("SECRET_KEY")
    first = create_app(config).config["SECRET_KEY"]
    assert (tmp_path / "secret_key").exists()
    assert create_app(config).config["SECRET_KEY"] == first and len(first) >= 32


def test_max_content_length_is_set(app):
    assert 0 < app.config["MAX_CONTENT_LENGTH"] <= 32 * 1024 * 1024
