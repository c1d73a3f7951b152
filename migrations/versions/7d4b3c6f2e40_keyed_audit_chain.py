"""keyed audit chain: the key that made each row

Revision ID: 7d4b3c6f2e40
Revises: 7f6a5b4c3d21
Create Date: 2026-12-02 12:40:00

Rows already in the log were hashed with plain SHA-256: they are marked `unkeyed` and verify only up to
the sequence number set in PORTAL_AUDIT_UNKEYED_UNTIL (see README, "Audit log keys").
"""
from alembic import op
import sqlalchemy as sa


revision = '7d4b3c6f2e40'
down_revision = '7f6a5b4c3d21'
branch_labels = None
depends_on = None


def upgrade():
    # ALTER TABLE ... ADD COLUMN with a default fills existing rows without an UPDATE, which the
    # append-only triggers would refuse.
    with op.batch_alter_table('audit_events', recreate='never') as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=False, server_default='unkeyed'))
    if op.get_bind().dialect.name == 'postgresql':  # new rows always name their key
        op.alter_column('audit_events', 'key_id', server_default=None)


def downgrade():
    with op.batch_alter_table('audit_events', recreate='never') as batch_op:
        batch_op.drop_column('key_id')
