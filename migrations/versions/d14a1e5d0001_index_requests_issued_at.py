"""index requests.issued_at: the reports' periods are ranges of issue times

Revision ID: d14a1e5d0001
Revises: d09a1b2c3d4e
Create Date: 2026-12-03 06:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd14a1e5d0001'
down_revision = 'd09a1b2c3d4e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index('ix_requests_issued_at', ['issued_at'], unique=False)


def downgrade():
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_issued_at')
