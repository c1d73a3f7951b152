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


def _partial_conditions(engine) -> dict[str, str | None]:
    """Each index of `requests`: its condition (the text after WHERE), None when it has none."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'requests'"
                                     " AND sql IS NOT NULL")).all()
        else:
            rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'requests'")).all()
    return {name: (sql.split(" WHERE ", 1)[1] if " WHERE " in sql else None) for name, sql in rows}


def test_the_open_lists_indexes_are_partial_after_the_migrations_as_in_the_models(empty_database_url, tmp_path):
    # Autogenerate does not compare an index's condition: this does, for the lists' open indexes.
    app = create_app(_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade()
        migrated = _partial_conditions(db.engine)
        db.engine.dispose()
    for name in ("ix_requests_platform_open_deadline", "ix_requests_agency_open_deadline"):
        assert migrated[name] and "awaiting_approval" in migrated[name] and "draft" in migrated[name], migrated
    assert "notice_ready_at IS NOT NULL" in migrated["ix_requests_platform_open_deadline"]
    assert "notice_ready_at" not in migrated["ix_requests_agency_open_deadline"]
    if not PG_URL:  # the models' own DDL (db.create_all) gives the same conditions
        (tmp_path / "made").mkdir()
        made = create_app(_config(f"sqlite:///{tmp_path / 'made' / 'made.sqlite3'}", tmp_path / "made"))
        with made.app_context():
            db.create_all()
            assert _partial_conditions(db.engine) == migrated
            db.engine.dispose()
