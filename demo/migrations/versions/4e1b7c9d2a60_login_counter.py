"""Sign-in by mail: the per-purpose counter that keeps only the latest sign-in link alive.

Revision ID: 4e1b7c9d2a60
Revises: d3f8a2c61e07
Create Date: 2026-12-03 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4e1b7c9d2a60'
down_revision = 'd3f8a2c61e07'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows start at 0 (no sign-in link was ever mailed); the default is only for
    # them, the model supplies the value from then on, as for the other counters.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_counter', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('login_counter', existing_type=sa.Integer(), existing_nullable=False, server_default=None)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('login_counter')
