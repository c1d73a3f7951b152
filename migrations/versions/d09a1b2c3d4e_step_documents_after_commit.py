"""documents of a step prepared after its commit: request_events.document_ready_at

Revision ID: d09a1b2c3d4e
Revises: 8b2c3d4e5f60
Create Date: 2026-12-03 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.core.database


# revision identifiers, used by Alembic.
revision = 'd09a1b2c3d4e'
down_revision = '8b2c3d4e5f60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_ready_at', portal.core.database.UTCDateTime(timezone=True),
                                      nullable=True))
    pending = sa.text("document_ready_at IS NULL AND action IN ('withdraw', 'close')")
    op.create_index('ix_request_events_document_pending', 'request_events', ['id'], unique=False,
                    sqlite_where=pending, postgresql_where=pending)
    # Withdrawals and closings before this revision got their document in the transaction of the step.
    op.execute("UPDATE request_events SET document_ready_at = occurred_at WHERE action IN ('withdraw', 'close')")


def downgrade():
    op.drop_index('ix_request_events_document_pending', table_name='request_events')
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.drop_column('document_ready_at')
