"""at most one pending extension per request

Revision ID: 7a1e0f3c9b10
Revises: 7c3a2b5e1d30
Create Date: 2026-12-02 13:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1e0f3c9b10'
down_revision = '7c3a2b5e1d30'
branch_labels = None
depends_on = None


def upgrade():
    # Races before this revision could leave several pending extensions on one request: keep the oldest
    # waiting, refuse the later duplicates (with a reason saying why) so the unique index can be built.
    op.execute(sa.text(
        "UPDATE request_extensions SET status = 'refused', "
        "decision_reason = 'Duplicate extension request, closed by a database upgrade.' "
        "WHERE status = 'pending' AND id NOT IN ("
        "SELECT MIN(id) FROM request_extensions WHERE status = 'pending' GROUP BY request_id)"
    ))
    with op.batch_alter_table('request_extensions', schema=None) as batch_op:
        batch_op.create_index('uq_request_extensions_one_pending', ['request_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"),
                              postgresql_where=sa.text("status = 'pending'"))


def downgrade():
    with op.batch_alter_table('request_extensions', schema=None) as batch_op:
        batch_op.drop_index('uq_request_extensions_one_pending')
