"""Fixtures in the style of the Flask tutorial: app, client, runner, and helpers to log in.

Each test gets a clean database: on SQLite a copy of a template file made once per run; on PostgreSQL
(PORTAL_TEST_DATABASE_URL) the schema is made once and every table is truncated before each test.
"""
import os
import shutil

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from portal import create_app
from portal.extensions import db

def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker truncates tables before every test, so each needs a database of its own:
    <database>_<worker>, made on the same server when missing (CI drops them with the run's database)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine

    server_url, name = url.rsplit("/", 1)
    own = f"{name}_{worker}"
    server = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{own}"'))
            # As .ci/run sets on the run's database: a transaction a test leaves open ends instead of blocking.
            conn.execute(text(f"ALTER DATABASE \"{own}\" SET idle_in_transaction_session_timeout = '60s'"))
    server.dispose()
    return f"{server_url}/{own}"


PG_URL = _worker_database(os.environ.get("PORTAL_TEST_DATABASE_URL"))
MINIMUM_HASHING = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_COST": 8, "PASSWORD_HASH_PARALLELISM": 1}


TEST_SECRETS_KEY = "dGVzdC1zZWNyZXRzLWtleS0wMTIzNDU2Nzg5YWJjZGU="  # a Fernet key (32 bytes, base64), tests only
TEST_AUDIT_KEY = "test-audit-key-of-the-suite-" + "0123456789abcdef" * 2


def _config(uri: str, instance_path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": uri,
        "INSTANCE_PATH": str(instance_path),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_BASE_URL": "http://portal.test",
        "SERVER_NAME": None,
        # argon2id at its minimum: a login costs microseconds (test_passwords checks the real defaults).
        **MINIMUM_HASHING,
        # One secrets key and one audit key for every app of the run, the servers that tests start included:
        # a secret encrypted by the test's app must be readable by the gunicorn it talks to.
        "SECRETS_KEY": TEST_SECRETS_KEY,
        "AUDIT_KEY": TEST_AUDIT_KEY,
    }


class EnglishClient(FlaskClient):
    """Test clients ask for English, like the factories' users; Korean pages are asked for with ?lang=ko."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    instance = tmp_path_factory.mktemp("template-instance")
    if PG_URL:
        app = create_app(_config(PG_URL, instance))
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            db.create_all()
            db.engine.dispose()
        yield PG_URL
        return
    path = instance / "template.sqlite3"
    app = create_app(_config(f"sqlite:///{path}", instance))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield path


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def app_config():
    """Override in a test module (or parametrise) to change settings for the `app` fixture."""
    return {}


def _test_app(database_template, instance, settings: dict):
    instance.mkdir()
    if PG_URL:
        application = create_app({**_config(PG_URL, instance), **settings})
        with application.app_context():
            _truncate_all()
    else:
        path = instance / "portal.sqlite3"
        shutil.copyfile(database_template, path)
        application = create_app({**_config(f"sqlite:///{path}", instance), **settings})
    application.test_client_class = EnglishClient
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(database_template, tmp_path, app_config):
    yield from _test_app(database_template, tmp_path / "instance", app_config)


@pytest.fixture
def csrf_app(database_template, tmp_path, app_config):
    """The portal with its CSRF protection on, as in production (`app` has it off for the tests' forms)."""
    yield from _test_app(database_template, tmp_path / "csrf-instance", {**app_config, "WTF_CSRF_ENABLED": True})


@pytest.fixture(autouse=True)
def document_renderer(request, monkeypatch):
    """Tests that are not about documents render them with a fast stand-in for WeasyPrint (a valid one-page
    PDF, stored, hashed and verifiable: see tests/documents_support.py) and skip the portal's PAdES
    signature (pyHanko's ASN.1 work costs more than the rest of a factory's request); a module or test
    marked `real_documents` gets the real WeasyPrint and the real signature."""
    if request.node.get_closest_marker("real_documents"):
        return "weasyprint"
    from portal.core.documents import render, sign
    from tests.documents_support import stand_in_pdf, stand_in_signature

    monkeypatch.setattr(render, "write_pdf", stand_in_pdf)
    monkeypatch.setattr(sign, "sign_pdf", stand_in_signature)
    return "stand-in"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.test_request_context():
        yield


@pytest.fixture
def make(app):
    """Factories bound to the test's app: make.organisation(...), make.user(...)."""
    from tests.factories import Factories

    return Factories(app)


@pytest.fixture
def auth(client, make):
    from tests.factories import Auth

    return Auth(client, make)
