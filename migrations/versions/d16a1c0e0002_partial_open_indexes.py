"""the lists' open indexes hold only what the list may see (partial, on the scope's condition)

Revision ID: d16a1c0e0002
Revises: d15a1c0e0001
Create Date: 2026-12-04 02:00:00.000000

"""
from alembic import op
from sqlalchemy import text


# revision identifiers, used by Alembic.
revision = 'd16a1c0e0002'
down_revision = 'd15a1c0e0001'
branch_labels = None
depends_on = None

ISSUED = "status NOT IN ('awaiting_approval', 'draft')"
VISIBLE = f"{ISSUED} AND notice_ready_at IS NOT NULL"

NEW = {
    'ix_requests_platform_open_deadline': (['platform_id', 'is_open', 'deadline', 'id'], VISIBLE),
    'ix_requests_agency_open_deadline': (['agency_id', 'is_open', 'deadline', 'id'], ISSUED),
}
OLD = {
    'ix_requests_platform_open_deadline': (['platform_id', 'is_open', 'deadline', 'id', 'status', 'notice_ready_at'], None),
    'ix_requests_agency_open_deadline': (['agency_id', 'is_open', 'deadline', 'id', 'status'], None),
}


def _replace(indexes):
    for name, (columns, where) in indexes.items():
        op.drop_index(name, table_name='requests')
        condition = {} if where is None else {'sqlite_where': text(where), 'postgresql_where': text(where)}
        op.create_index(name, 'requests', columns, unique=False, **condition)


def upgrade():
    _replace(NEW)


def downgrade():
    _replace(OLD)
