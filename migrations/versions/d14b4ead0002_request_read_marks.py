"""read marks of request threads: request_reads, and request_messages.recipient_organisation_id (the other
side), so the dashboards count unread messages with one index range; requests indexed by who drafted and
who issued them (the requests a regulator follows)

Revision ID: d14b4ead0002
Revises: d14a1e5d0001
Create Date: 2026-12-03 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.core.database


# revision identifiers, used by Alembic.
revision = 'd14b4ead0002'
down_revision = 'd14a1e5d0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('request_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_organisation_id', sa.Integer(), nullable=True))
    # A message written by the request's agency is addressed to its platform, any other to its agency.
    op.execute(
        "UPDATE request_messages SET recipient_organisation_id = ("
        "SELECT CASE WHEN request_messages.organisation_id = requests.agency_id THEN requests.platform_id "
        "ELSE requests.agency_id END FROM requests WHERE requests.id = request_messages.request_id)")
    with op.batch_alter_table('request_messages', schema=None) as batch_op:
        batch_op.alter_column('recipient_organisation_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_request_messages_recipient_organisation_id_organisations'),
                                    'organisations', ['recipient_organisation_id'], ['id'])
        batch_op.create_index('ix_request_messages_recipient_request',
                              ['recipient_organisation_id', 'request_id', 'id'], unique=False)

    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index('ix_requests_drafted_by', ['drafted_by_id'], unique=False)
        batch_op.create_index('ix_requests_approved_by', ['approved_by_id'], unique=False)

    op.create_table('request_reads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('last_read_message_id', sa.Integer(), nullable=False),
    sa.Column('read_at', portal.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_request_reads_request_id_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_request_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'request_id', name=op.f('pk_request_reads'))
    )


def downgrade():
    op.drop_table('request_reads')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_approved_by')
        batch_op.drop_index('ix_requests_drafted_by')
    with op.batch_alter_table('request_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_request_messages_recipient_request')
        batch_op.drop_constraint(batch_op.f('fk_request_messages_recipient_organisation_id_organisations'),
                                 type_='foreignkey')
        batch_op.drop_column('recipient_organisation_id')
