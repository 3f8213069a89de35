"""login sessions: one server-side record per login, so logout can end it

Revision ID: 7c3e9a1d5b20
Revises: 7c2e5a1d9b40
Create Date: 2026-12-02 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = '7c3e9a1d5b20'
down_revision = '7c2e5a1d9b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mailproof_login_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('expires_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailproof_login_session')),
    sa.UniqueConstraint('secret_digest', name=op.f('uq_mailproof_login_session_secret_digest'))
    )
    with op.batch_alter_table('mailproof_login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailproof_login_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailproof_login_session_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('mailproof_login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailproof_login_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_mailproof_login_session_expires_at'))

    op.drop_table('mailproof_login_session')
