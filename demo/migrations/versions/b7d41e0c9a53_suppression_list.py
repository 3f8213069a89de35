"""suppression list: addresses that refused mail for good are not mailed again

Revision ID: b7d41e0c9a53
Revises: 7c3e9a1d5b20
Create Date: 2026-12-02 18:45:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = 'b7d41e0c9a53'
down_revision = '7c3e9a1d5b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mailproof_suppression',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('email_key', sa.String(length=320).with_variant(mysql.VARCHAR(charset='utf8mb4', collation='utf8mb4_bin', length=320), 'mariadb').with_variant(mysql.VARCHAR(charset='utf8mb4', collation='utf8mb4_bin', length=320), 'mysql'), nullable=False),
    sa.Column('suppressed_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('reply_code', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailproof_suppression')),
    sa.UniqueConstraint('email_key', name=op.f('uq_mailproof_suppression_email_key'))
    )


def downgrade():
    op.drop_table('mailproof_suppression')
