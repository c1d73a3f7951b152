"""secrets at rest: TOTP and webhook secrets encrypted with the secrets key

Revision ID: 7c3a2b5e1d30
Revises: 7b2f1a4d0c20
Create Date: 2026-12-02 13:05:00.000000

The columns widen to hold a Fernet token, and every value still in clear is encrypted with the current
secrets key (PORTAL_SECRETS_KEY / PORTAL_SECRETS_KEY_FILE, read by the application this runs in).
Values already readable with the configured keys are left alone, so running it twice is harmless.
"""
from alembic import op
import sqlalchemy as sa

from portal.core import encryption


# revision identifiers, used by Alembic.
revision = '7c3a2b5e1d30'
down_revision = '7b2f1a4d0c20'
branch_labels = None
depends_on = None

COLUMNS = (("users", "totp_secret", True), ("webhook_endpoints", "secret", False))


def _rewrite(table: str, column: str, change) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
    for row_id, value in rows:
        new = change(value)
        if new != value:
            conn.execute(sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"), {"value": new, "id": row_id})


def _encrypt(value: str) -> str:
    return value if encryption.is_readable(value) else encryption.encrypt(value)


def _decrypt(value: str) -> str:
    return encryption.decrypt(value) if encryption.is_readable(value) else value


def upgrade():
    for table, column, nullable in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=64), type_=sa.String(length=255),
                                  existing_nullable=nullable)
        _rewrite(table, column, _encrypt)


def downgrade():
    for table, column, nullable in COLUMNS:
        _rewrite(table, column, _decrypt)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=255), type_=sa.String(length=64),
                                  existing_nullable=nullable)
