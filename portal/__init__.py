"""Platform Cooperation Portal: the application factory."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from portal.config import Defaults

ENV_PREFIX = "PORTAL_"


def create_app(test_config: dict | None = None) -> Flask:
    """Settings: defaults -> instance/config.py -> PORTAL_* environment -> `test_config`."""
    instance_path = ((test_config or {}).get("INSTANCE_PATH") or os.environ.get("PORTAL_INSTANCE_PATH")
                     or _default_instance_path())
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    from portal.core.input import IntegerConverter

    app.url_map.converters["int"] = IntegerConverter  # ids in paths: ASCII digits only
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(ENV_PREFIX.rstrip("_"))
    if "PORTAL_ENV" in os.environ:  # from_prefixed_env would file it as ENV
        app.config["PORTAL_ENV"] = os.environ["PORTAL_ENV"]
    if "DATABASE_URL" in os.environ and "SQLALCHEMY_DATABASE_URI" not in (test_config or {}):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.update(test_config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure_secrets(app)
    from portal.core import encryption

    encryption.init_app(app)  # the key of the secrets at rest, read (or refused) at start-up
    _configure_database(app)
    from portal.core import audit

    audit.init_app(app)  # the audit key: refuses to start without one in production
    _configure_production_services(app)
    _configure_proxies(app)

    from portal import cli, errors, i18n
    from portal.core import headers, sessions
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

    sessions.init_app(app)  # the session cookie, each one read once
    db.init_app(app)
    from portal.core import transaction

    transaction.init_app(app)  # first: every later before_request may read the database
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    login_manager.init_app(app)
    _configure_login(app)

    from portal.accounts import bp as accounts_bp
    from portal.admin import bp as admin_bp
    from portal.commitments import bp as commitments_bp
    from portal.consultations import bp as consultations_bp
    from portal.dashboard import bp as dashboard_bp
    from portal.documents import bp as documents_bp
    from portal.minutes import bp as minutes_bp
    from portal.reports import bp as reports_bp
    from portal.requests import bp as requests_bp
    from portal.site import bp as site_bp
    from portal.verification import bp as verification_bp
    from portal.webhooks import bp as webhooks_bp

    for blueprint in (site_bp, accounts_bp, dashboard_bp, admin_bp, requests_bp, consultations_bp, minutes_bp,
                      documents_bp, verification_bp, webhooks_bp, reports_bp, commitments_bp):
        app.register_blueprint(blueprint)

    from portal import api
    from portal.core.policy import enforce_access
    from portal.site import frame, menu

    api.init_app(app)  # registers the API's token caller, which must run before enforce_access
    app.before_request(enforce_access)
    headers.init_app(app)
    menu.init_app(app)
    frame.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app


def _default_instance_path() -> str:
    return str(Path(__file__).resolve().parent.parent / "instance")


def _configure_secrets(app: Flask) -> None:
    production = app.config["PORTAL_ENV"] == "production"
    if production:
        app.config["DEBUG"] = False
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
        if not app.config.get("SECRET_KEY"):
            raise RuntimeError("PORTAL_SECRET_KEY must be set when PORTAL_ENV=production")
        from portal.accounts.passwords import check_production_hashing

        check_production_hashing(app.config)
        return
    if app.config.get("SECRET_KEY"):
        return
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def _configure_database(app: Flask) -> None:
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        uri = f"sqlite:///{Path(app.instance_path) / 'portal.sqlite3'}"
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # A server may have closed a pooled connection (a restart, an idle timeout); a SQLite file cannot.
    options.setdefault("pool_pre_ping", not uri.startswith("sqlite"))
    # Bound values (addresses, names, tokens) stay out of logged and reported database errors.
    options.setdefault("hide_parameters", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options



def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _configure_production_services(app: Flask) -> None:
    """Settings a single development machine would hide: refuse them in production."""
    app.config["RATELIMIT_ALLOW_MEMORY"] = _as_bool(app.config.get("RATELIMIT_ALLOW_MEMORY"))
    storage = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    app.config["RATELIMIT_STORAGE_URI"] = storage
    if (app.config["PORTAL_ENV"] == "production" and storage.startswith("memory://")
            and not app.config["RATELIMIT_ALLOW_MEMORY"]):
        raise RuntimeError("PORTAL_RATELIMIT_STORAGE_URI must name a shared store (e.g. redis://host:6379/0) when "
                           "PORTAL_ENV=production; memory:// counts per worker. Set "
                           "PORTAL_RATELIMIT_ALLOW_MEMORY=true to run with it anyway.")


def _configure_proxies(app: Flask) -> None:
    """Trust X-Forwarded-* from exactly TRUSTED_PROXIES reverse proxies (ProxyFix); none by default."""
    try:
        proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    except (TypeError, ValueError):
        raise RuntimeError("PORTAL_TRUSTED_PROXIES must be a whole number of reverse proxies (0 for none)") from None
    if proxies < 0:
        raise RuntimeError("PORTAL_TRUSTED_PROXIES must be a whole number of reverse proxies (0 for none)")
    app.config["TRUSTED_PROXIES"] = proxies
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def _configure_login(app: Flask) -> None:
    from portal.accounts.views import load_user
    from portal.extensions import login_manager

    login_manager.session_protection = None  # sessions are server-side and revocable
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
