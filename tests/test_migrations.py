"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from portal import create_app
from portal.extensions import db
from tests.conftest import PG_URL, _config


@pytest.fixture
def empty_database_url(tmp_path):
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:10]}"
    server = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    server.dispose()


def test_migration_head_matches_the_models(empty_database_url, tmp_path):
    app = create_app(_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_migrations_install_the_audit_guard(empty_database_url, tmp_path):
    app = create_app(_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade()
        assert "audit_events" in inspect(db.engine).get_table_names()
        if db.engine.dialect.name == "sqlite":
            names = {row[0] for row in db.session.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))}
        else:
            names = {row[0] for row in db.session.execute(text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"))}
        assert {n for n in names if n.startswith("audit_events_no")}
        db.session.remove()
        db.engine.dispose()
