"""Uploads in flight, and a per-owner lock for the storage quota.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

from glance.db.models import Timestamp

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Unicode and byte-wise comparison on MySQL (see glance.db.models).
MYSQL_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
                 'mysql_collate': 'utf8mb4_bin'}


def upgrade():
    op.create_table(
        'image_uploads',
        sa.Column('id', sa.String(32), primary_key=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('owner', sa.String(255)),
        sa.Column('reserved', sa.BigInteger, nullable=False),
        sa.Column('leftovers', sa.Text, nullable=False),
        sa.Column('on_failure', sa.String(30), nullable=False),
        sa.Column('node', sa.String(255), nullable=False),
        sa.Column('process', sa.String(255), nullable=False),
        sa.Column('lease_expires_at', Timestamp, nullable=False),
        sa.Column('created_at', Timestamp, nullable=False),
        **MYSQL_OPTIONS,
    )
    for name, columns in [
            ('ix_image_uploads_owner', ['owner']),
            ('ix_image_uploads_lease_expires_at', ['lease_expires_at']),
            ('ix_image_uploads_node', ['node'])]:
        op.create_index(name, 'image_uploads', columns)
    op.create_table(
        'storage_owners',
        sa.Column('owner', sa.String(255), primary_key=True),
        **MYSQL_OPTIONS,
    )
