"""The database tables (SQLAlchemy 2 declarative models).

Images are soft-deleted (`deleted`, `deleted_at`, status 'deleted') so that
an image id is never handed out twice; their properties, tags, members and
locations are plain rows removed when they are removed.
"""
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

# Microseconds everywhere (MySQL's DATETIME drops them by default): list
# order and markers rely on created_at being distinct.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
# Property values may be long; MySQL's TEXT caps at 64 KiB.
LongText = Text().with_variant(mysql.LONGTEXT(), 'mysql')
# MySQL tables hold any Unicode text whatever the server's default character
# set, and compare it byte for byte as the other databases do: with the
# usual case-insensitive collations 'Tag' and 'tag' (or property names
# 'Key' and 'key') would collide in the unique constraints.
MYSQL_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
                 'mysql_collate': 'utf8mb4_bin'}


class Base(DeclarativeBase):
    pass


class Image(Base):
    __tablename__ = 'images'
    __table_args__ = (
        Index('ix_images_created_at_id', 'created_at', 'id'),
        # The default order of lists, which never show deleted images.
        Index('ix_images_deleted_created_at_id', 'deleted', 'created_at',
              'id'),
        # Lists sorted by name (and name filters).
        Index('ix_images_deleted_name', 'deleted', 'name'),
        Index('ix_images_owner', 'owner'),
        Index('ix_images_checksum', 'checksum'),
        Index('ix_images_os_hash_value', 'os_hash_value'),
        MYSQL_OPTIONS,
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    disk_format: Mapped[str | None] = mapped_column(String(20))
    container_format: Mapped[str | None] = mapped_column(String(20))
    size: Mapped[int | None] = mapped_column(BigInteger)
    virtual_size: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(30))
    visibility: Mapped[str] = mapped_column(String(20), default='shared')
    checksum: Mapped[str | None] = mapped_column(String(32))
    os_hash_algo: Mapped[str | None] = mapped_column(String(64))
    os_hash_value: Mapped[str | None] = mapped_column(String(128))
    min_disk: Mapped[int] = mapped_column(Integer, default=0)
    min_ram: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(255))
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    os_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[object] = mapped_column(Timestamp)
    updated_at: Mapped[object | None] = mapped_column(Timestamp)
    deleted_at: Mapped[object | None] = mapped_column(Timestamp)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class ImageProperty(Base):
    __tablename__ = 'image_properties'
    __table_args__ = (
        UniqueConstraint('image_id', 'name', name='uq_image_properties_name'),
        Index('ix_image_properties_name', 'name'),
        MYSQL_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True,
                                    autoincrement=True)
    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey('images.id'), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    value: Mapped[str | None] = mapped_column(LongText)


class ImageTag(Base):
    __tablename__ = 'image_tags'
    __table_args__ = (
        UniqueConstraint('image_id', 'value', name='uq_image_tags_value'),
        Index('ix_image_tags_value', 'value'),
        MYSQL_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True,
                                    autoincrement=True)
    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey('images.id'), nullable=False)
    value: Mapped[str] = mapped_column(String(255), nullable=False)


class ImageMember(Base):
    __tablename__ = 'image_members'
    __table_args__ = (
        UniqueConstraint('image_id', 'member', name='uq_image_members_member'),
        Index('ix_image_members_member_status', 'member', 'status'),
        MYSQL_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True,
                                    autoincrement=True)
    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey('images.id'), nullable=False)
    member: Mapped[str] = mapped_column(String(255), nullable=False)
    can_share: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default='pending')
    created_at: Mapped[object] = mapped_column(Timestamp)
    updated_at: Mapped[object | None] = mapped_column(Timestamp)


class ImageLocation(Base):
    __tablename__ = 'image_locations'
    __table_args__ = (
        Index('ix_image_locations_image_id', 'image_id'),
        MYSQL_OPTIONS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True,
                                    autoincrement=True)
    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey('images.id'), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    # JSON text: the store's metadata about this location
    meta_data: Mapped[str] = mapped_column(Text, default='{}')
    status: Mapped[str] = mapped_column(String(30), default='active')
    created_at: Mapped[object] = mapped_column(Timestamp)


class ImageUpload(Base):
    """An upload in flight: what it reserves of its owner's storage quota,
    where its unfinished data may lie, and which process carries it on,
    for as long as that process renews its lease. Removed in the
    transaction that makes the image active or gives the upload up; a
    row whose process is gone is reclaimed by a sweep
    (glance.images.uploads)."""
    __tablename__ = 'image_uploads'
    __table_args__ = (
        Index('ix_image_uploads_owner', 'owner'),
        Index('ix_image_uploads_lease_expires_at', 'lease_expires_at'),
        Index('ix_image_uploads_node', 'node'),
        MYSQL_OPTIONS,
    )

    # Also the name the store gives the unfinished data.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey('images.id'), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(255))
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    # JSON list of the location URIs an interrupted write may leave.
    leftovers: Mapped[str] = mapped_column(Text, default='[]')
    # The status the image goes back to if the upload is given up.
    on_failure: Mapped[str] = mapped_column(String(30))
    node: Mapped[str] = mapped_column(String(255))
    process: Mapped[str] = mapped_column(String(255))
    lease_expires_at: Mapped[object] = mapped_column(Timestamp)
    created_at: Mapped[object] = mapped_column(Timestamp)


class StorageOwner(Base):
    """One row per owner whose storage quota was checked: a lock taken
    (SELECT ... FOR UPDATE) so that one owner's quota checks run one at
    a time on every database."""
    __tablename__ = 'storage_owners'
    __table_args__ = (MYSQL_OPTIONS,)

    owner: Mapped[str] = mapped_column(String(255), primary_key=True)


class Task(Base):
    """A task (upstream's shape: the row, and its JSON blobs in
    task_info). Beyond upstream, a task being processed records which
    process carries it on and until when (node, process,
    lease_expires_at, renewed with the uploads' leases), so that a task
    whose process died is found and failed by a sweep
    (glance.images.legacy_import)."""
    __tablename__ = 'tasks'
    __table_args__ = (
        Index('ix_tasks_type', 'type'),
        Index('ix_tasks_status', 'status'),
        Index('ix_tasks_owner', 'owner'),
        Index('ix_tasks_deleted', 'deleted'),
        Index('ix_tasks_updated_at', 'updated_at'),
        Index('ix_tasks_image_id', 'image_id'),
        Index('ix_tasks_lease_expires_at', 'lease_expires_at'),
        MYSQL_OPTIONS,
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(30), nullable=False)
    status: Mapped[str] = mapped_column(String(30), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[object | None] = mapped_column(Timestamp)
    created_at: Mapped[object] = mapped_column(Timestamp, nullable=False)
    updated_at: Mapped[object | None] = mapped_column(Timestamp)
    deleted_at: Mapped[object | None] = mapped_column(Timestamp)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    image_id: Mapped[str | None] = mapped_column(String(36))
    request_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64))
    node: Mapped[str | None] = mapped_column(String(255))
    process: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[object | None] = mapped_column(Timestamp)


class TaskInfo(Base):
    __tablename__ = 'task_info'
    __table_args__ = (MYSQL_OPTIONS,)

    task_id: Mapped[str] = mapped_column(
        String(36), ForeignKey('tasks.id'), primary_key=True)
    # JSON text
    input: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
