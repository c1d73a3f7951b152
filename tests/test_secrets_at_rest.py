"""Issue 10, point 9: TOTP and webhook secrets are encrypted at rest with a key outside the database."""
import pytest
from cryptography.fernet import Fernet
from flask_migrate import upgrade
from sqlalchemy import select, text

from portal import create_app
from portal.accounts.models import User
from portal.core.encryption import SecretsKeyError
from portal.extensions import db
from portal.webhooks import services as webhooks
from tests.conftest import _config
from tests.production_support import production_config
from tests.test_migrations import empty_database_url  # noqa: F401 -- a fixture

CLEAR_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _dump(app) -> str:
    """Every value of the tables that hold secrets, as a dump would show them."""
    with app.app_context():
        lines = []
        for table in ("users", "webhook_endpoints"):
            for row in db.session.execute(text(f"SELECT * FROM {table}")):
                lines.append(" ".join(str(value) for value in row))
        return "\n".join(lines)


def _sibling(app, **settings):
    """Another app on the same database and instance folder (a restart with other settings)."""
    config = _config(app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path)
    config.update({"RATELIMIT_ENABLED": False, **settings})
    return create_app(config)


def _totp_of(app, user_id) -> str:
    with app.app_context():
        try:
            return db.session.get(User, user_id).totp_secret
        finally:
            db.session.remove()


def test_a_dump_holds_no_clear_totp_or_webhook_secret(app, make):
    user = make.user("platform_admin")
    with app.test_request_context():
        _endpoint, webhook_secret = webhooks.register_endpoint(db.session.get(User, user.id),
                                                               "http://127.0.0.1:9/hook", ["request.issued"])
        db.session.commit()
    dump = _dump(app)
    assert user.totp_secret not in dump and user.totp_secret.lower() not in dump
    assert webhook_secret not in dump
    # ... while the portal itself still reads both
    with app.app_context():
        assert db.session.get(User, user.id).totp_secret == user.totp_secret
        assert db.session.execute(text("SELECT secret FROM webhook_endpoints")).scalar_one().startswith("gAAAAA")


def test_login_still_checks_the_code_with_the_encrypted_secret(client, auth):
    auth.as_role("platform_agent")  # password, then the current code from the clear secret
    assert client.get("/home").status_code == 200


def test_rotation_with_a_retired_key_then_reencrypt(app, make):
    user = make.user()
    old_key = app.config["SECRETS_KEY"]  # the suite's key (tests/conftest.py)
    new_key = Fernet.generate_key().decode()
    before = _dump(app)
    rotating = _sibling(app, SECRETS_KEY=new_key, SECRETS_RETIRED_KEYS=old_key)
    assert _totp_of(rotating, user.id) == user.totp_secret  # old rows readable during the rotation
    result = rotating.test_cli_runner().invoke(args=["secrets", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "users.totp_secret: 1 re-encrypted" in result.output
    assert _dump(rotating) != before
    # The old key retired: the new one alone reads everything, the old one alone nothing.
    assert _totp_of(_sibling(app, SECRETS_KEY=new_key), user.id) == user.totp_secret
    with pytest.raises(SecretsKeyError, match="PORTAL_SECRETS_KEY"):
        _totp_of(_sibling(app, SECRETS_KEY=old_key), user.id)


def test_a_wrong_key_fails_clearly(app, make):
    user = make.user()
    wrong = _sibling(app, SECRETS_KEY=Fernet.generate_key().decode())
    with pytest.raises(SecretsKeyError, match="cannot be decrypted with PORTAL_SECRETS_KEY"):
        _totp_of(wrong, user.id)


def test_new_key_prints_a_usable_key(app):
    result = app.test_cli_runner().invoke(args=["secrets", "new-key"])
    assert result.exit_code == 0
    Fernet(result.output.strip())


def test_production_requires_a_secrets_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("PORTAL_SECRETS_KEY", raising=False)
    monkeypatch.delenv("PORTAL_SECRETS_KEY_FILE", raising=False)
    config = production_config(_config("sqlite://", tmp_path))
    config.pop("SECRETS_KEY")
    with pytest.raises(RuntimeError, match="PORTAL_SECRETS_KEY"):
        create_app(config)
    assert not (tmp_path / "secrets_key").exists()


def test_the_key_can_come_from_a_file_and_a_malformed_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    key_file = tmp_path / "key"
    key = Fernet.generate_key().decode()
    key_file.write_text(key + "\n")
    config = production_config(_config("sqlite://", tmp_path))
    config.pop("SECRETS_KEY")
    app = create_app({**config, "SECRETS_KEY_FILE": str(key_file)})
    with app.app_context():
        from portal.core import encryption

        assert Fernet(key).decrypt(encryption.encrypt("x").encode()) == b"x"
    with pytest.raises(RuntimeError, match="not a valid key"):
        create_app({**config, "SECRETS_KEY": "not a key"})


def test_the_migration_encrypts_existing_secrets(empty_database_url, tmp_path):  # noqa: F811
    app = create_app(_config(empty_database_url, tmp_path))
    with app.app_context():
        upgrade(revision="6c2a9d3e4f02")
        db.session.execute(text(
            "INSERT INTO organisations (id, code, kind, name_ko, name_en, country, timezone, active, created_at) "
            "VALUES (1, 'PLAT', 'platform', 'p', 'p', 'US', 'UTC', true, '2026-11-01 00:00:00')"))
        db.session.execute(text(
            "INSERT INTO users (id, email, name, organisation_id, role, language, timezone, password_hash, "
            "password_changed_at, totp_secret, totp_last_step, failed_logins, active, created_at) VALUES "
            "(1, 'a@example.test', 'A', 1, 'platform_agent', 'en', 'UTC', 'x', '2026-11-01 00:00:00', "
            f"'{CLEAR_TOTP}', 0, 0, true, '2026-11-01 00:00:00')"))
        db.session.commit()
        upgrade()
        raw = db.session.execute(text("SELECT totp_secret FROM users")).scalar_one()
        assert raw != CLEAR_TOTP and CLEAR_TOTP not in raw
        assert db.session.scalar(select(User.totp_secret)) == CLEAR_TOTP
        db.session.remove()
        db.engine.dispose()
