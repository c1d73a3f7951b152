"""webhook events of minutes: widen webhook_endpoints.events for minutes.circulated, minutes.published and
action_item.assigned (every event at once no longer fits 200 characters)

Revision ID: 8c3d4e5f6a70
Revises: 8a1b2c3d4e50
Create Date: 2026-12-02 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c3d4e5f6a70'
down_revision = '8a1b2c3d4e50'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.alter_column('events', existing_type=sa.String(length=200), type_=sa.String(length=1000),
                              existing_nullable=False)


def downgrade():
    # Endpoints subscribed to the new events keep only those that fit the old column.
    op.execute("UPDATE webhook_endpoints SET events = substr(events, 1, 200) WHERE length(events) > 200")
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.alter_column('events', existing_type=sa.String(length=1000), type_=sa.String(length=200),
                              existing_nullable=False)
