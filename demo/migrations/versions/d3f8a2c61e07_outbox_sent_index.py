"""outbox sent index: the latency percentiles read only the last hour's sent mail

Revision ID: d3f8a2c61e07
Revises: b7d41e0c9a53
Create Date: 2026-12-03 07:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd3f8a2c61e07'
down_revision = 'b7d41e0c9a53'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mailproof_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mailproof_outbox_sent', ['status', 'sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('mailproof_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mailproof_outbox_sent')
