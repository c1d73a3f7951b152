"""notice being prepared: requests.notice_ready_at

Revision ID: 7b2f1a4d0c20
Revises: 7d4b3c6f2e40
Create Date: 2026-12-02 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.core.database


# revision identifiers, used by Alembic.
revision = '7b2f1a4d0c20'
down_revision = '7d4b3c6f2e40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_ready_at', portal.core.database.UTCDateTime(timezone=True),
                                      nullable=True))
    # Requests issued before this revision got their notice in the transaction that issued them.
    op.execute("UPDATE requests SET notice_ready_at = issued_at WHERE reference IS NOT NULL")


def downgrade():
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('notice_ready_at')
