"""Lists walk one index in their order.

Single-column indexes on low-selectivity columns (deleted, status,
visibility) led SQLite to read every live image and sort them for each
page; indexes that start with `deleted` serve the default order
(created_at, id) and name order straight from the index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    for name in ('ix_images_deleted', 'ix_images_status',
                 'ix_images_visibility', 'ix_images_name'):
        op.drop_index(name, table_name='images')
    op.create_index('ix_images_deleted_created_at_id', 'images',
                    ['deleted', 'created_at', 'id'])
    op.create_index('ix_images_deleted_name', 'images', ['deleted', 'name'])
