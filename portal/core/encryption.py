"""Secrets at rest: columns the portal must read back in clear (TOTP secrets, webhook signing secrets) are
stored encrypted with a key kept outside the database, so that a dump alone gives nothing usable.

The key is a Fernet key (AES-128-CBC with HMAC-SHA256, from `cryptography`), given by PORTAL_SECRETS_KEY or
PORTAL_SECRETS_KEY_FILE; required in production, generated into instance/secrets_key elsewhere (like the
session secret). Rotation: put the new key in PORTAL_SECRETS_KEY and the old one in
PORTAL_SECRETS_RETIRED_KEYS (comma-separated), run `flask secrets reencrypt`, then drop the old key.
"""
from __future__ import annotations

from pathlib import Path

import click
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import String, select, update
from sqlalchemy.types import TypeDecorator

EXTENSION = "portal_secrets"


class SecretsKeyError(RuntimeError):
    """A stored secret cannot be read with the configured keys (or a key is malformed)."""


def _parse_key(key: str | bytes, setting: str) -> Fernet:
    try:
        return Fernet(key.strip() if isinstance(key, (str, bytes)) else key)
    except (ValueError, TypeError):
        raise SecretsKeyError(f"{setting} is not a valid key: make one with `flask secrets new-key` "
                              "(32 url-safe base64-encoded bytes)") from None


def _retired(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [item.strip() for item in value if item and item.strip()]


def init_app(app: Flask) -> None:
    """Read the key (or make one outside production); fail at start-up, not at the first login."""
    key = app.config.get("SECRETS_KEY")
    key_file = app.config.get("SECRETS_KEY_FILE")
    if not key and key_file:
        path = Path(key_file)
        if not path.is_file():
            raise SecretsKeyError(f"PORTAL_SECRETS_KEY_FILE names {path}, which is not a readable file")
        key = path.read_text().strip()
    if not key:
        if app.config["PORTAL_ENV"] == "production":
            raise SecretsKeyError("PORTAL_SECRETS_KEY or PORTAL_SECRETS_KEY_FILE must be set when "
                                  "PORTAL_ENV=production (make a key with `flask secrets new-key`)")
        generated = Path(app.instance_path) / "secrets_key"
        if not generated.exists():
            generated.write_text(Fernet.generate_key().decode())
            generated.chmod(0o600)
        key = generated.read_text().strip()
    current = _parse_key(key, "PORTAL_SECRETS_KEY")
    retired = [_parse_key(old, "PORTAL_SECRETS_RETIRED_KEYS") for old in _retired(app.config.get("SECRETS_RETIRED_KEYS"))]
    app.extensions[EXTENSION] = {"current": current, "all": MultiFernet([current, *retired])}
    app.cli.add_command(secrets_cli)


def _keys() -> dict:
    try:
        return current_app.extensions[EXTENSION]
    except KeyError:
        raise SecretsKeyError("the secrets key is not configured (portal.core.encryption.init_app)") from None


def encrypt(value: str) -> str:
    return _keys()["current"].encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _keys()["all"].decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise SecretsKeyError(
            "a stored secret cannot be decrypted with PORTAL_SECRETS_KEY: it was encrypted with another key. "
            "Configure the key in use, and list earlier keys in PORTAL_SECRETS_RETIRED_KEYS until "
            "`flask secrets reencrypt` has run") from None


def is_readable(token: str) -> bool:
    try:
        decrypt(token)
    except SecretsKeyError:
        return False
    return True


class EncryptedString(TypeDecorator):
    """A string column stored as a Fernet token: clear in Python, encrypted in the database."""

    impl = String
    cache_ok = True

    # A Fernet token of a 64-character value is 184 characters long.
    def __init__(self, length: int = 255, **kwargs):
        super().__init__(length, **kwargs)

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


def encrypted_columns():
    """(model, attribute name) of every EncryptedString column of the mapped models."""
    from portal.extensions import db

    found = []
    for mapper in db.Model.registry.mappers:
        for attr in mapper.column_attrs:
            for column in attr.columns:
                if isinstance(column.type, EncryptedString):
                    found.append((mapper.class_, attr.key))
    return sorted(found, key=lambda pair: (pair[0].__tablename__, pair[1]))


def reencrypt_all() -> dict[str, int]:
    """Rewrite every encrypted value under the current key. Flushes; the caller commits."""
    from portal.extensions import db

    counts = {}
    for model, name in encrypted_columns():
        column = getattr(model, name)
        rows = db.session.execute(select(model.id, column).where(column.is_not(None))).all()
        for row_id, value in rows:  # read through every key, written with the current one
            db.session.execute(update(model).where(model.id == row_id).values({name: value}))
        counts[f"{model.__tablename__}.{name}"] = len(rows)
    db.session.flush()
    return counts


secrets_cli = AppGroup("secrets", help="Encryption of secrets at rest (TOTP and webhook secrets).")


@secrets_cli.command("new-key")
def new_key_command():
    """Print a new key for PORTAL_SECRETS_KEY (nothing is stored)."""
    click.echo(Fernet.generate_key().decode())


@secrets_cli.command("reencrypt")
def reencrypt_command():
    """Encrypt every stored secret under the current key; then the retired keys can be dropped."""
    from portal.core.transaction import unit_of_work

    with unit_of_work():
        counts = reencrypt_all()
    for column, count in counts.items():
        click.echo(f"{column}: {count} re-encrypted")
