"""The audit log is append-only and hash-chained: verify passes, and fails after any tampering."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal.core import audit
from portal.core.audit import AuditEvent
from portal.extensions import db


@pytest.fixture
def chain(app, make):
    user = make.user("system_admin")
    with app.test_request_context():
        from portal.accounts.models import User

        actor = db.session.get(User, user.id)
        for n in range(5):
            audit.record("test.event", actor=actor, object_type="thing", object_id=n, details={"n": n})
        db.session.commit()
    return user


def _tamper(sql: str, **params) -> None:
    """What an attacker with database access would do: switch off the guard triggers, then edit rows."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        db.session.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
        db.session.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
    else:
        db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    db.session.execute(text(sql), params)
    db.session.commit()


def test_verify_passes_on_an_intact_chain(runner, chain):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_verify_passes_on_an_empty_log(runner):
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_head_prints_the_latest_hash(runner, chain, app):
    with app.app_context():
        last = db.session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
    output = runner.invoke(args=["audit", "head"]).output.split()
    assert output == [str(last.seq), last.hash]


def test_database_refuses_update_of_an_audit_row(app, chain):
    with app.app_context():
        with pytest.raises(DBAPIError):
            db.session.execute(text("UPDATE audit_events SET action = 'x' WHERE seq = 2"))
            db.session.flush()
        db.session.rollback()


def test_database_refuses_delete_of_an_audit_row(app, chain):
    with app.app_context():
        with pytest.raises(DBAPIError):
            db.session.execute(text("DELETE FROM audit_events WHERE seq = 2"))
            db.session.flush()
        db.session.rollback()


def test_verify_fails_after_a_row_is_changed(app, runner, chain):
    with app.app_context():
        _tamper("UPDATE audit_events SET action = 'test.harmless' WHERE seq = 3")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "row 3" in result.output


def test_verify_fails_after_a_row_is_deleted(app, runner, chain):
    with app.app_context():
        _tamper("DELETE FROM audit_events WHERE seq = 2")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "row 2" in result.output


def test_verify_fails_after_the_last_row_is_deleted(app, runner, chain):
    with app.app_context():
        _tamper("DELETE FROM audit_events WHERE seq = 5")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1


def test_verify_fails_after_rows_are_reordered(app, runner, chain):
    with app.app_context():
        _tamper("UPDATE audit_events SET seq = -1 WHERE seq = 2")
        _tamper("UPDATE audit_events SET seq = 2 WHERE seq = 3")
        _tamper("UPDATE audit_events SET seq = 3 WHERE seq = -1")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "row 2" in result.output


def test_login_failure_and_success_are_audited_with_ip(client, make, app):
    from sqlalchemy import select

    user = make.user()
    client.post("/login", data={"email": user.email, "password": "wrong password, long enough"})
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.failure"))
        assert row.ip == "127.0.0.1" and row.actor_id == user.id
        assert "wrong password" not in str(row.details)


def test_access_denied_is_audited(client, auth, app):
    from sqlalchemy import select

    auth.as_role("platform_agent")
    assert client.get("/admin/audit").status_code == 403
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "access.denied"))
        assert row is not None and row.details["permission"] == "audit.view"
