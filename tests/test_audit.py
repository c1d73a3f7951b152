"""The audit log is append-only, keyed and hash-chained: verify passes, and fails after any tampering,
even by someone who recomputes every hash (without the key) or truncates the log and fixes the head."""
import hashlib
import json
import shutil
import subprocess

import pytest

from tests.production_support import production_config
from sqlalchemy import select, text
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


def test_head_prints_a_checkpoint_of_the_latest_row(runner, chain, app):
    with app.app_context():
        last = db.session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
    output = runner.invoke(args=["audit", "head"]).output
    line, _, signature = output.partition("\n")
    fields = json.loads(line)
    assert (fields["seq"], fields["hash"]) == (last.seq, last.hash) and fields["time"].endswith("Z")
    assert "-----BEGIN PKCS7-----" in signature


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_an_auditor_verifies_the_checkpoint_with_the_certificate_alone(runner, chain, app, tmp_path):
    checkpoint = tmp_path / "checkpoint.txt"
    assert runner.invoke(args=["audit", "head", "-o", str(checkpoint)]).exit_code == 0
    line, _, signature = checkpoint.read_bytes().partition(b"\n")
    (tmp_path / "content").write_bytes(line + b"\n")
    (tmp_path / "signature.pem").write_bytes(signature)
    certificate = f"{app.instance_path}/signing/document-signing-cert.pem"
    result = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "PEM",
                             "-in", str(tmp_path / "signature.pem"), "-content", str(tmp_path / "content"),
                             "-CAfile", certificate, "-purpose", "any", "-out", "/dev/null"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


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


def _rehash_from(seq: int, digest) -> None:
    """Recompute the hash of row `seq` and every later row, and the head, the way the portal would but
    with `digest(row)` (the attacker's: without the audit key)."""
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.seq >= seq - 1).order_by(AuditEvent.seq)).all()
    previous = rows[0].hash if rows[0].seq < seq else audit.GENESIS
    for row in rows:
        if row.seq < seq:
            continue
        row.prev_hash = previous
        previous = digest(row)
        db.session.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
                           {"p": row.prev_hash, "h": previous, "s": row.seq})
    db.session.execute(text("UPDATE audit_head SET hash = :h, seq = :s WHERE id = 1"),
                       {"h": previous, "s": rows[-1].seq})
    db.session.commit()


@pytest.mark.parametrize("key_id", [None, audit.UNKEYED])
def test_verify_fails_after_a_row_is_rewritten_and_every_later_hash_recomputed_without_the_key(
        app, runner, chain, key_id):
    with app.app_context():
        _tamper("UPDATE audit_events SET action = 'test.harmless' WHERE seq = 3")
        if key_id:
            _tamper("UPDATE audit_events SET key_id = :k WHERE seq >= 3", k=key_id)
        db.session.expire_all()
        _rehash_from(3, lambda row: hashlib.sha256(row.canonical()).hexdigest())
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "row 3" in result.output


def test_verify_with_a_checkpoint_fails_after_the_last_rows_are_cut_and_the_head_fixed(app, runner, chain,
                                                                                        tmp_path):
    checkpoint = tmp_path / "checkpoint.txt"
    assert runner.invoke(args=["audit", "head", "-o", str(checkpoint)]).exit_code == 0
    assert runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)]).exit_code == 0
    with app.app_context():
        row4 = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 4))
        _tamper("DELETE FROM audit_events WHERE seq = 5")
        db.session.execute(text("UPDATE audit_head SET seq = 4, hash = :h WHERE id = 1"), {"h": row4})
        db.session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # the chain alone cannot tell
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1 and "row 5" in result.output and "truncated" in result.output


def test_a_checkpoint_stays_valid_while_the_chain_grows(app, runner, chain, tmp_path):
    checkpoint = tmp_path / "checkpoint.txt"
    runner.invoke(args=["audit", "head", "-o", str(checkpoint)])
    with app.test_request_context():
        audit.record("test.later", object_type="thing", object_id=6)
        db.session.commit()
    assert runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)]).exit_code == 0


def test_a_changed_checkpoint_is_refused(app, runner, chain, tmp_path):
    checkpoint = tmp_path / "checkpoint.txt"
    runner.invoke(args=["audit", "head", "-o", str(checkpoint)])
    line, _, signature = checkpoint.read_bytes().partition(b"\n")
    fields = json.loads(line)
    fields["seq"] = 4
    checkpoint.write_bytes(json.dumps(fields, sort_keys=True).encode() + b"\n" + signature)
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1 and "REFUSED" in result.output


def _app_with_keys(app, keys: str):
    from portal import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "test", "INSTANCE_PATH": app.instance_path,
                       "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "AUDIT_KEY": keys})


def _append_and_verify(application) -> tuple[int, str]:
    with application.test_request_context():
        audit.record("test.rotated", object_type="thing", object_id=1)
        db.session.commit()
        key_id = db.session.scalar(select(AuditEvent.key_id).order_by(AuditEvent.seq.desc()).limit(1))
    result = application.test_cli_runner().invoke(args=["audit", "verify"])
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    return result.exit_code, key_id


def test_rotated_keys_make_new_rows_and_retired_keys_still_verify_old_ones(app, chain):
    old, new = "o" * 40, "n" * 40
    assert _append_and_verify(_app_with_keys(app, old))[0] == 1  # the chain was made with the suite's key
    instance_key = app.config["AUDIT_KEY"]  # the suite's key (tests/conftest.py)
    first = _app_with_keys(app, f"{old}\n{instance_key}")
    exit_code, old_id = _append_and_verify(first)
    assert exit_code == 0 and old_id == audit.key_id_of(old.encode())
    rotated = _app_with_keys(app, f"{new}, {old}, {instance_key}")  # the new key first; the others retired
    exit_code, new_id = _append_and_verify(rotated)
    assert exit_code == 0 and new_id == audit.key_id_of(new.encode()) != old_id
    result = _app_with_keys(app, f"{new}, {instance_key}").test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "not configured" in result.output  # a retired key must stay configured


def test_production_refuses_to_start_without_an_audit_key(tmp_path, monkeypatch):
    from portal import create_app

    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("PORTAL_AUDIT_KEY", raising=False)
    monkeypatch.delenv("PORTAL_AUDIT_KEY_FILE", raising=False)
    config = production_config({"SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_PATH": str(tmp_path)})
    config.pop("AUDIT_KEY")
    with pytest.raises(RuntimeError, match="PORTAL_AUDIT_KEY"):
        create_app(config)
    assert not (tmp_path / "audit_key").exists()


def test_the_audit_key_is_read_from_a_file(tmp_path, monkeypatch):
    from portal import create_app

    key_file = tmp_path / "audit.key"
    key_file.write_text("# current\n" + "k" * 48 + "\n")
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_AUDIT_KEY_FILE", str(key_file))
    monkeypatch.delenv("PORTAL_AUDIT_KEY", raising=False)
    config = production_config({"SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_PATH": str(tmp_path)})
    config.pop("AUDIT_KEY")
    application = create_app(config)
    assert audit.keyring_of(application).current_id == audit.key_id_of(b"k" * 48)


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
