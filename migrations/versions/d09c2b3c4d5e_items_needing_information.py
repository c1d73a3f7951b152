"""items that need information: a partial index for the platform's dashboard

Revision ID: d09c2b3c4d5e
Revises: d14b4ead0002
Create Date: 2026-12-03 08:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd09c2b3c4d5e'
down_revision = 'd14b4ead0002'
branch_labels = None
depends_on = None


def upgrade():
    needing = sa.text("outcome = 'needs_information'")
    op.create_index('ix_request_items_needs_information', 'request_items', ['request_id'], unique=False,
                    sqlite_where=needing, postgresql_where=needing)


def downgrade():
    op.drop_index('ix_request_items_needs_information', table_name='request_items')
