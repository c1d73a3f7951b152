"""the inbox's indexes cover its count: status and notice_ready_at after the keys

Revision ID: d15a1c0e0001
Revises: d09c2b3c4d5e
Create Date: 2026-12-03 15:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd15a1c0e0001'
down_revision = 'd09c2b3c4d5e'
branch_labels = None
depends_on = None

NEW = {
    'ix_requests_platform_open_deadline': ['platform_id', 'is_open', 'deadline', 'id', 'status', 'notice_ready_at'],
    'ix_requests_platform_status_deadline': ['platform_id', 'status', 'deadline', 'id', 'notice_ready_at'],
    'ix_requests_agency_open_deadline': ['agency_id', 'is_open', 'deadline', 'id', 'status'],
}
OLD = {
    'ix_requests_platform_open_deadline': ['platform_id', 'is_open', 'deadline', 'id'],
    'ix_requests_platform_status_deadline': ['platform_id', 'status', 'deadline', 'id'],
    'ix_requests_agency_open_deadline': ['agency_id', 'is_open', 'deadline', 'id'],
}


def _replace(indexes):
    for name, columns in indexes.items():
        op.drop_index(name, table_name='requests')
        op.create_index(name, 'requests', columns, unique=False)


def upgrade():
    _replace(NEW)


def downgrade():
    _replace(OLD)
