"""Image data: upload (queued -> saving -> active) and download.

Bytes are streamed in chunks; md5 (`checksum`) and the multihash
(`os_hash_algo`/`os_hash_value`) are computed as the chunks pass, the
disk format is inspected on the way (glance.images.inspection: the data
of a bare image must be what its disk_format says, and safe), and the
size limits are enforced on the running total, so no image is ever held in
memory nor read twice.
"""
import hashlib
import logging

from oslo_config import cfg

from glance import store
from glance.common import exception
from glance.common import offload
import glance.db
from glance.db import images as image_db
from glance.db import locations as location_db
from glance.images import inspection as format_inspection
from glance.images import policy_targets
from glance.images import quotas
from glance.images import service
from glance.images import uploads

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

UPLOAD_CHUNK_SIZE = 4 * 1024 * 1024
# Smaller chunks are hashed in line: a thread hand-off would cost more.
OFFLOAD_MIN_BYTES = 256 * 1024


class ClientReadError(exception.BadRequest):
    message = 'Error reading the image data from the request.'


def read_chunks(body_file, chunk_size=UPLOAD_CHUNK_SIZE):
    """The request body as chunks (any read error is the client's)."""
    while True:
        try:
            chunk = body_file.read(chunk_size)
        # The server's own errors too: gunicorn's for a malformed chunk
        # (InvalidChunkSize, ...) are neither OSError nor ValueError.
        except Exception as error:
            raise ClientReadError(
                'Error reading the image data from the request: %s' % error)
        if not chunk:
            return
        yield chunk


class HashingLimitedStream:
    """Passes chunks through, hashing and counting them on the way.

    Raises ImageSizeLimitExceeded past `size_cap`, Invalid when the data
    passes or falls short of the size the client declared
    (`expected_size`, None: not declared), and StorageQuotaFull when
    `upload` (an uploads.Upload, or None) cannot reserve what came
    (Upload.received). `inspection` (an inspection.Inspection, or None)
    sees the chunks too, in line: past the first MiBs its inspectors
    only count bytes (about 30 us a 4 MiB chunk, measured), less than a
    thread hand-off costs.
    """

    def __init__(self, chunks, size_cap, upload=None, expected_size=None,
                 inspection=None):
        self.chunks = inspection.wrap(chunks) if inspection else chunks
        self.size_cap = size_cap
        self.upload = upload
        self.expected_size = expected_size
        self.size = 0
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.multihash = hashlib.new(CONF.hashing_algorithm)
        # Each hash runs on other threads (other cores), chunk after
        # chunk, while the store writes and the next chunks are read.
        self.md5_updates = offload.Chain()
        self.multihash_updates = offload.Chain()

    def _hash(self, chunk):
        if len(chunk) < OFFLOAD_MIN_BYTES:
            self._wait_for_hashing()
            self.md5.update(chunk)
            self.multihash.update(chunk)
        else:
            self.md5_updates.call(self.md5.update, chunk)
            self.multihash_updates.call(self.multihash.update, chunk)

    def _wait_for_hashing(self):
        self.md5_updates.wait()
        self.multihash_updates.wait()

    def __iter__(self):
        for chunk in self.chunks:
            self.size += len(chunk)
            if self.size > self.size_cap:
                raise exception.ImageSizeLimitExceeded(
                    'The incoming image is too large: The provided image is '
                    'too large.')
            if self.expected_size is not None \
                    and self.size > self.expected_size:
                raise exception.Invalid(
                    'Size exceeds: expected %d bytes, got %d bytes'
                    % (self.expected_size, self.size))
            if self.upload is not None:
                self.upload.received(self.size)
            self._hash(chunk)
            yield chunk
        self._wait_for_hashing()
        if self.expected_size is not None and self.size != self.expected_size:
            raise exception.Invalid(
                'Size mismatch: expected %d bytes, got %d bytes'
                % (self.expected_size, self.size))


def upload(context, image_id, body_file, size=None, checksum=None,
           on_failure='queued', backend=None):
    """Store the data of a queued image and make it active.

    size, checksum: the size and md5 the client declared, if it did
    (checked against the data; the size is also used to refuse early
    what cannot fit). on_failure: the status a failed upload leaves the
    image in: 'queued', ready for another try (v2), or 'killed' (as the
    classic API has it). backend: the store id the client chose
    (X-Image-Meta-Store), None for the default one.
    """
    backend = upload_backend(backend)
    _store_data(context, image_id, lambda: read_chunks(body_file), size,
                checksum, on_failure, backend)


def upload_backend(backend):
    """The backend id an upload names, checked before anything else as
    upstream does: only the multi-store mode has ids (elsewhere the name
    is ignored, as upstream ignores it); an unknown one is Invalid."""
    if backend is None or not store.multistore_enabled():
        return None
    try:
        store.check_backend(backend)
    except exception.UnknownScheme as error:
        raise exception.Invalid(str(error))
    return backend


def copy_from(context, image_id, url, size=None, checksum=None,
              on_failure='killed'):
    """Store the data found at `url` (a location some store reads, e.g.
    http://) as the data of a queued image, and make it active. As
    `upload` otherwise."""
    def open_chunks():
        chunks, _total = store.get_from_backend(url)
        return chunks
    _store_data(context, image_id, open_chunks, size, checksum, on_failure)


def store_from(context, image_id, open_chunks, on_failure='queued'):
    """Store the chunks open_chunks() returns as the data of a queued
    image (in the default store) and make it active: as `upload`."""
    _store_data(context, image_id, open_chunks, None, None, on_failure)


def _store_data(context, image_id, open_chunks, size, checksum, on_failure,
                backend=None):
    quota = quotas.storage_quota_bytes()
    # With a quota, reads see what the owner's previous lock holder
    # committed (see glance.db.writing).
    with glance.db.writing(fresh_reads=bool(quota)) as session:
        image = service.find(session, context, image_id, for_update=True)
        policy_targets.enforce_on_image(context, 'upload_image', image)
        if image['status'] != 'queued':
            raise exception.InvalidImageStatusTransition(
                'Image status transition from %s to saving is not allowed'
                % image['status'])
        missing = [k for k in ('disk_format', 'container_format')
                   if not image[k]]
        if missing:
            raise exception.Invalid(
                '%s %s must be set prior to saving data.'
                % ('Property' if len(missing) == 1 else 'Properties',
                   ', '.join(missing)))
        if size is not None and size > CONF.image_size_cap:
            raise exception.ImageSizeLimitExceeded(
                'The incoming image is too large: The provided image is too '
                'large.')
        upload, registry = uploads.start(image, on_failure, quota, backend)
        image_db.image_update(session, image_id, {'status': 'saving'},
                              expected_status='queued')
        upload.begin(session, size)

    try:
        if size is not None and upload.room is not None \
                and size > upload.room:
            raise uploads.quota_full(size, upload.room)
        inspection = format_inspection.for_image(image)
        stream = HashingLimitedStream(open_chunks(), CONF.image_size_cap,
                                      upload, size, inspection)
        location, written, metadata = registry.add(
            image_id, stream, size, backend=backend, attempt=upload.id)
    except BaseException:
        upload.give_up()
        raise

    actual = stream.md5.hexdigest()
    if checksum and checksum != actual:
        service.delete_data(location)
        upload.give_up()
        raise exception.Invalid(
            "Supplied checksum (%s) and checksum generated from uploaded "
            "image (%s) did not match. Setting image status to '%s'."
            % (checksum, actual, on_failure))
    try:
        virtual_size = inspection.verdict() if inspection else None
    except format_inspection.InvalidImageData:
        service.delete_data(location)
        upload.give_up()
        raise

    values = {
        'status': 'active',
        'size': written,
        'virtual_size': virtual_size,
        'checksum': actual,
        'os_hash_algo': CONF.hashing_algorithm,
        'os_hash_value': stream.multihash.hexdigest(),
    }
    try:
        with glance.db.writing() as session:
            upload.finish(session)
            image_db.image_update(session, image_id, values,
                                  expected_status='saving')
            location_db.location_add(session, image_id, location, metadata)
    except (exception.NotFound, exception.Conflict):
        # Deleted (or otherwise moved on) while the data streamed in.
        service.delete_data(location)
        upload.give_up()
        raise exception.Gone(
            'Image %s could not be found after upload. The image may have '
            'been deleted during the upload, cleaning up the chunks '
            'uploaded.' % image_id)


def activate_without_upload(context, image_id, size, checksum=None,
                            location=None):
    """Make a queued image active with data nobody uploads here: the data
    at an external `location` (which its store reads on download), or no
    data at all (an empty image, size 0, without location)."""
    with glance.db.writing() as session:
        image = service.find(session, context, image_id, for_update=True)
        if location is not None:
            policy_targets.enforce_on_image(context, 'set_image_location',
                                            image)
        if image['status'] != 'queued':
            raise exception.InvalidImageStatusTransition(
                'Image status transition from %s to active is not allowed'
                % image['status'])
        image_db.image_update(
            session, image_id,
            {'status': 'active', 'size': size, 'checksum': checksum},
            expected_status='queued')
        if location is not None:
            # In the multi-store mode, with the id of the store that
            # holds URLs like it, as upstream records locations.
            backend = store.owner_of(location) \
                if store.multistore_enabled() else None
            location_db.location_add(
                session, image_id, location,
                {'store': backend} if backend else None)


def _open_data(context, image_id):
    """The image and where to read its data from (its locations in the
    order to try them), after the checks a download needs; None when
    there is no data."""
    with glance.db.reading() as session:
        image = service.find(session, context, image_id)
        locations = location_db.location_list(session, image_id)
    if image['status'] == 'deactivated' and not context.is_admin:
        raise exception.ImageDeactivated()
    policy_targets.enforce_on_image(context, 'download_image', image)
    if image['status'] in ('queued', 'saving', 'uploading', 'importing') \
            or not locations:
        return image, None
    return image, store.ordered_locations(locations)


def download(context, image_id, choose_range=None):
    """The image and its data, after the checks a download needs.

    Returns (image, chunks, byte_range, total): chunks is None when the
    image has no data; byte_range is what choose_range(size) chose for an
    image of `size` bytes, (offset, length), or None for all of it (it
    may raise to refuse a range); total is the size of the whole data as
    its store says (None if it cannot). ImageDataNotFound if the data is
    missing from its store.
    """
    image, locations = _open_data(context, image_id)
    if locations is None:
        return image, None, None, None
    byte_range = choose_range(image['size'] or 0) if choose_range else None
    offset, length = byte_range or (0, None)
    # A location whose store fails passes to the next one.
    chunks, total = store.get_from_locations(locations, offset=offset,
                                             length=length)
    return image, chunks, byte_range, total
