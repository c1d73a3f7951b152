"""outbox attachments: files and calendar parts sent with an e-mail

Revision ID: 7e5f4a3b2c10
Revises: 6c2a9d3e4f02
Create Date: 2026-12-02 12:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '7e5f4a3b2c10'
down_revision = '6c2a9d3e4f02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'], name=op.f('fk_outbox_attachments_message_id_outbox_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_attachments'))
    )
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_attachments_message_id'), ['message_id'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_attachments_message_id'))
    op.drop_table('outbox_attachments')
