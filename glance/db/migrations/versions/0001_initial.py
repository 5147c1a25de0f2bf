"""The initial schema: images, properties, tags, members, locations.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

from glance.db.models import LongText
from glance.db.models import Timestamp

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# Unicode and byte-wise comparison on MySQL (see glance.db.models).
MYSQL_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
                 'mysql_collate': 'utf8mb4_bin'}


def upgrade():
    op.create_table(
        'images',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255)),
        sa.Column('disk_format', sa.String(20)),
        sa.Column('container_format', sa.String(20)),
        sa.Column('size', sa.BigInteger),
        sa.Column('virtual_size', sa.BigInteger),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('visibility', sa.String(20), nullable=False),
        sa.Column('checksum', sa.String(32)),
        sa.Column('os_hash_algo', sa.String(64)),
        sa.Column('os_hash_value', sa.String(128)),
        sa.Column('min_disk', sa.Integer, nullable=False),
        sa.Column('min_ram', sa.Integer, nullable=False),
        sa.Column('owner', sa.String(255)),
        sa.Column('protected', sa.Boolean, nullable=False),
        sa.Column('os_hidden', sa.Boolean, nullable=False),
        sa.Column('created_at', Timestamp, nullable=False),
        sa.Column('updated_at', Timestamp),
        sa.Column('deleted_at', Timestamp),
        sa.Column('deleted', sa.Boolean, nullable=False),
        **MYSQL_OPTIONS,
    )
    for name, columns in [
            ('ix_images_created_at_id', ['created_at', 'id']),
            ('ix_images_owner', ['owner']),
            ('ix_images_visibility', ['visibility']),
            ('ix_images_status', ['status']),
            ('ix_images_name', ['name']),
            ('ix_images_deleted', ['deleted']),
            ('ix_images_checksum', ['checksum']),
            ('ix_images_os_hash_value', ['os_hash_value'])]:
        op.create_index(name, 'images', columns)

    op.create_table(
        'image_properties',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('value', LongText),
        sa.UniqueConstraint('image_id', 'name',
                            name='uq_image_properties_name'),
        **MYSQL_OPTIONS,
    )
    op.create_index('ix_image_properties_name', 'image_properties', ['name'])

    op.create_table(
        'image_tags',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('value', sa.String(255), nullable=False),
        sa.UniqueConstraint('image_id', 'value', name='uq_image_tags_value'),
        **MYSQL_OPTIONS,
    )
    op.create_index('ix_image_tags_value', 'image_tags', ['value'])

    op.create_table(
        'image_members',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('member', sa.String(255), nullable=False),
        sa.Column('can_share', sa.Boolean, nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('created_at', Timestamp, nullable=False),
        sa.Column('updated_at', Timestamp),
        sa.UniqueConstraint('image_id', 'member',
                            name='uq_image_members_member'),
        **MYSQL_OPTIONS,
    )
    op.create_index('ix_image_members_member_status', 'image_members',
                    ['member', 'status'])

    op.create_table(
        'image_locations',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id'),
                  nullable=False),
        sa.Column('url', sa.Text, nullable=False),
        sa.Column('meta_data', sa.Text, nullable=False),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('created_at', Timestamp, nullable=False),
        **MYSQL_OPTIONS,
    )
    op.create_index('ix_image_locations_image_id', 'image_locations',
                    ['image_id'])
