"""Tasks and their input, result and message (task_info).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

from glance.db.models import Timestamp

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Unicode and byte-wise comparison on MySQL (see glance.db.models).
MYSQL_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
                 'mysql_collate': 'utf8mb4_bin'}


def upgrade():
    op.create_table(
        'tasks',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('type', sa.String(30), nullable=False),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('owner', sa.String(255)),
        sa.Column('expires_at', Timestamp),
        sa.Column('created_at', Timestamp, nullable=False),
        sa.Column('updated_at', Timestamp),
        sa.Column('deleted_at', Timestamp),
        sa.Column('deleted', sa.Boolean, nullable=False),
        sa.Column('image_id', sa.String(36)),
        sa.Column('request_id', sa.String(64)),
        sa.Column('user_id', sa.String(64)),
        sa.Column('node', sa.String(255)),
        sa.Column('process', sa.String(255)),
        sa.Column('lease_expires_at', Timestamp),
        **MYSQL_OPTIONS,
    )
    for column in ('type', 'status', 'owner', 'deleted', 'updated_at',
                   'image_id', 'lease_expires_at'):
        op.create_index('ix_tasks_' + column, 'tasks', [column])
    op.create_table(
        'task_info',
        sa.Column('task_id', sa.String(36), sa.ForeignKey('tasks.id'),
                  primary_key=True),
        sa.Column('input', sa.Text),
        sa.Column('result', sa.Text),
        sa.Column('message', sa.Text),
        **MYSQL_OPTIONS,
    )
