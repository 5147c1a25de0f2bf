"""The S3 store: images as objects in a bucket of Amazon S3 or any server
that speaks its API (Ceph RGW, MinIO, OpenStack Swift's s3api), through
boto3 with SigV4 signatures.

Locations are written as glance_store 5.7 writes them, without
credentials: s3://<host>/<bucket>/<image id>, or s3+https://... when
s3_store_host is an https:// URL. Older locations that carry credentials
(s3://<access key>:<secret key>@<host>/<bucket>/<key>) still read; the
configured host and credentials are used for every request, whatever
host a location names.

Memory stays bounded whatever the image: an image of known size below
s3_store_large_object_size is streamed in one PUT as it arrives; any
other is sent as a multipart upload whose parts (s3_store_large_object_
chunk_size bytes, more for images that would need over 10000 parts) go
out in parallel, with no more than a few of them held in memory at once
(upstream keeps an image of unknown size, or one below the threshold,
whole in memory). Data of unknown size that ends within the first part
is sent in one PUT.

A multipart upload is invisible until it is completed: an upload that
fails aborts it, and one whose process dies leaves an unfinished
multipart upload that the restart's sweep aborts (see leftovers() and
stray_partials(): the URI of a key's unfinished multipart uploads is the
key's location with "?uploads" after it, as S3 names their listing).
"""
import collections
import itertools
import math
import os
import re
import threading

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.store import driver
from glance.store import location

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024
# The bytes of parts one upload holds in memory while they are sent (at
# least one part and the one filling, whatever their size).
PART_MEMORY_BUDGET = 20 * MiB

s3_opts = [
    cfg.StrOpt('s3_store_host',
               help='The S3 server: a host name or address, with a port '
                    'if need be, optionally as an http:// or https:// URL '
                    '(http when no scheme is given; https locations are '
                    'written s3+https://). Required.'),
    cfg.StrOpt('s3_store_region_name', default='',
               help='The region of the bucket, for the SigV4 signatures. '
                    'Empty: taken from an Amazon S3 host name such as '
                    's3.eu-west-1.amazonaws.com, else us-east-1.'),
    cfg.StrOpt('s3_store_access_key', secret=True,
               help='The access key of the S3 account. Required.'),
    cfg.StrOpt('s3_store_secret_key', secret=True,
               help='The secret key of the S3 account. Required.'),
    cfg.StrOpt('s3_store_bucket',
               help='The bucket images are stored in, one object per image '
                    'named by the image id. Required.'),
    cfg.BoolOpt('s3_store_create_bucket_on_put', default=False,
                help='Create the bucket, when it does not exist, on the '
                     'first upload (in s3_store_region_name). Off, an '
                     'upload to a missing bucket fails.'),
    cfg.StrOpt('s3_store_bucket_url_format', default='auto',
               help='How requests name the bucket: "path" '
                    '(https://host/bucket/key), "virtual" '
                    '(https://bucket.host/key: the bucket name must be a '
                    'valid DNS name) or "auto" (botocore\'s choice: virtual '
                    'for Amazon S3 where the name allows it, path for other '
                    'servers).'),
    cfg.IntOpt('s3_store_large_object_size', default=100,
               help='Size in MiB from which an image is sent as a '
                    'multipart upload; smaller ones of known size go in '
                    'one request. Images whose size the client does not '
                    'declare are sent as multipart uploads unless they '
                    'fit in one part.'),
    cfg.IntOpt('s3_store_large_object_chunk_size', default=10,
               help='Size in MiB of the parts of multipart uploads; at '
                    'least 5 (the S3 minimum). Parts grow for images that '
                    'would need more than 10000 of them.'),
    cfg.IntOpt('s3_store_thread_pools', default=10,
               help='How many parts of one multipart upload are sent at '
                    'once, at most: fewer when they and the part being '
                    'filled would take more than %d MiB of memory (one at '
                    'least, while the next fills).'
                    % (PART_MEMORY_BUDGET // MiB)),
    cfg.StrOpt('s3_store_cacert', default='',
               help='A CA bundle (PEM file) to verify an https S3 server '
                    'with. Empty: the bundle botocore uses by default.'),
    cfg.BoolOpt('s3_store_enable_data_integrity_protection', default=False,
                help='Send and check the checksums of request and response '
                     'bodies as s3_store_request_checksum_calculation and '
                     's3_store_response_checksum_validation say. Off, '
                     'checksums are only used where S3 requires them '
                     '(some S3-compatible servers refuse the others).'),
    cfg.StrOpt('s3_store_request_checksum_calculation',
               default='when_required',
               choices=('when_required', 'when_supported'),
               help='With s3_store_enable_data_integrity_protection: when '
                    'uploads carry a checksum of their data.'),
    cfg.StrOpt('s3_store_response_checksum_validation',
               default='when_required',
               choices=('when_required', 'when_supported'),
               help='With s3_store_enable_data_integrity_protection: when '
                    'the checksums of downloaded data are checked.'),
]

SCHEMES = ('s3', 's3+http', 's3+https')
MIN_PART_MIB = 5
MAX_PARTS = 10000
# Data of unknown size: parts double in size every this many parts, so
# that 10000 parts hold more than any image (over 10 TB with 10 MiB parts)
# while images of up to 1000 parts keep the configured size.
PARTS_PER_SIZE = 1000
# The largest part S3 takes.
MAX_PART_SIZE = 5 * 1024 * MiB
READ_CHUNK_SIZE = 1 * MiB
# A query that marks the location of a key's unfinished multipart uploads
# (only ever in the service's own records of uploads in flight).
UPLOADS_MARKER = '?uploads'
# Keys stray_partials() may find unfinished uploads of: the image ids the
# service creates, never another application's objects.
_IMAGE_KEY = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                        r'[0-9a-f]{12}$')
_AWS_HOST = re.compile(r'^s3[.-]([a-z0-9-]+)\.amazonaws\.com(\.cn)?$')
_NOT_FOUND_CODES = ('404', 'NoSuchKey', 'NoSuchBucket', 'NotFound',
                    'NoSuchUpload')

# boto3 and botocore, imported on first use: they cost a process tens of
# MiB that a service without an S3 store should not pay.
_boto = None


def _boto3():
    global _boto
    if _boto is None:
        import boto3
        import botocore.config
        import botocore.exceptions
        import botocore.utils
        _boto = collections.namedtuple(
            'Boto', 'session config exceptions utils')(
            boto3.session, botocore.config, botocore.exceptions,
            botocore.utils)
    return _boto


class S3Location(location.StoreLocation):
    """s3[+http|+https]://[access:secret@]host[/path]/bucket/key.

    `service` is the host part (with any path before the bucket),
    `bucket` and `key` the last two path segments; `uploads` is true for
    the service's own marker of a key's unfinished multipart uploads.
    Credentials in old URIs are parsed and ignored.
    """

    def parse_uri(self, uri):
        if self.scheme not in SCHEMES or uri.count('://') != 1:
            raise exception.Invalid(f'The Store URI was malformed: {uri}')
        rest = uri.split('://', 1)[1]
        self.uploads = rest.endswith(UPLOADS_MARKER)
        if self.uploads:
            rest = rest[:-len(UPLOADS_MARKER)]
        if '@' in rest:
            # A secret key may hold '/': only the last '@' ends them.
            credentials, rest = rest.rsplit('@', 1)
            if ':' not in credentials:
                raise exception.Invalid(
                    f'The Store URI was malformed: {uri}')
        parts = rest.strip('/').split('/')
        if len(parts) < 3 or not all(parts[-2:]):
            raise exception.Invalid(f'The Store URI was malformed: {uri}')
        self.key = parts[-1]
        self.bucket = parts[-2]
        self.service = '/'.join(parts[:-2]).strip('/')
        if not self.service:
            raise exception.Invalid(f'The Store URI was malformed: {uri}')


def _error_code(error):
    """The S3 error code (or HTTP status) of a botocore ClientError."""
    response = getattr(error, 'response', None) or {}
    return str(response.get('Error', {}).get('Code')
               or response.get('ResponseMetadata', {}).get('HTTPStatusCode'))


class _StreamReader:
    """A file-like view of the chunks of an upload of known size, for one
    streamed PUT.

    It refuses to give more or fewer bytes than announced, and keeps the
    exception the chunks raised (botocore wraps or hides what a body
    raises), so that add() can raise it unchanged.
    """

    def __init__(self, chunks, size):
        self.chunks = iter(chunks)
        self.size = size
        self.sent = 0
        self.pending = memoryview(b'')
        self.error = None

    def _next_chunk(self):
        try:
            return next(self.chunks)
        except StopIteration:
            return None
        except BaseException as error:
            self.error = error
            raise

    def read(self, amount=-1):
        try:
            return self._read(amount)
        except BaseException as error:
            if self.error is None:
                self.error = error
            raise

    def _read(self, amount):
        if amount is None or amount < 0:
            amount = self.size - self.sent
        while not self.pending:
            chunk = self._next_chunk()
            if chunk is None:
                if self.sent != self.size:
                    raise exception.Invalid(
                        'Size mismatch: expected %d bytes, got %d bytes'
                        % (self.size, self.sent))
                return b''
            if self.sent + len(chunk) > self.size:
                raise exception.Invalid(
                    'Size exceeds: expected %d bytes, got %d bytes'
                    % (self.size, self.sent + len(chunk)))
            self.pending = memoryview(chunk)
        # A view, not a copy (see _PartBody).
        piece = self.pending[:amount]
        self.pending = self.pending[len(piece):]
        self.sent += len(piece)
        return piece


class _Buffers:
    """The part buffers of one upload, reused once their part is sent:
    an upload's memory is the few parts it has in hand, allocated once
    (no growing, no copying, nothing for the allocator to scatter)."""

    def __init__(self):
        self.free = []

    def take(self, size):
        while self.free:
            buffer = self.free.pop()
            if len(buffer) == size:
                return buffer
        return bytearray(size)

    def give(self, buffer):
        self.free.append(buffer)


def _parts(chunks, part_sizes, buffers):
    """The data as parts: (buffer, bytes filled), each buffer (from
    `buffers`) filled to the next size `part_sizes` gives, the last one
    maybe less. Each chunk is copied into its part and let go."""
    buffer, filled = buffers.take(next(part_sizes)), 0
    for chunk in chunks:
        view = memoryview(chunk)
        del chunk
        while view:
            count = min(len(view), len(buffer) - filled)
            buffer[filled:filled + count] = view[:count]
            filled += count
            view = view[count:]
            if filled == len(buffer):
                yield buffer, filled
                buffer, filled = buffers.take(next(part_sizes)), 0
    if filled:
        yield buffer, filled


class _PartBody:
    """A file-like view of a part (the first `length` bytes of a
    buffer) as a request body.

    Its reads hand out views of the part, never copies, and at least a
    MiB at a time whatever size is asked: urllib3 asks for 16 KiB blocks
    and eventlet's sendall() copies what is left of a bytes object at
    each partial send, which would cost a copy of the part or more.
    seek() lets botocore rewind it for a retry.
    """

    PIECE = 1 * MiB

    def __init__(self, buffer, length):
        self.view = memoryview(buffer)[:length]
        self.position = 0

    def __len__(self):
        return len(self.view)

    def read(self, amount=-1):
        start = self.position
        if amount is None or amount < 0:
            end = len(self.view)
        else:
            end = start + max(amount, self.PIECE)
        piece = self.view[start:end]
        self.position = start + len(piece)
        return piece

    def seek(self, offset, whence=0):
        base = {0: 0, 1: self.position, 2: len(self.view)}[whence]
        self.position = min(max(base + offset, 0), len(self.view))
        return self.position

    def tell(self):
        return self.position

    def close(self):
        pass


def _popped(items):
    """Yield the items of a list, removing each from it."""
    while items:
        yield items.pop(0)


class _Sending:
    """A call on a thread of its own (a green thread under eventlet,
    whose monkey patching makes threading's threads green)."""

    def __init__(self, function, *args):
        self.result = self.error = None
        self.thread = threading.Thread(target=self._run,
                                       args=(function, args), daemon=True,
                                       name='glance-s3-part')
        self.thread.start()

    def _run(self, function, args):
        try:
            self.result = function(*args)
        except BaseException as error:
            self.error = error

    def done(self):
        return not self.thread.is_alive()

    def wait(self):
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.result


class Store(driver.Store):
    NAME = 's3'
    SCHEMES = SCHEMES
    LOCATION_CLASS = S3Location
    OPTS = s3_opts

    # Set by configure_read(): why requests cannot be made, or None.
    read_problem = None
    bucket = None
    _client = None
    _client_pid = None

    @property
    def client(self):
        """The boto3 client, without the connections of another process.

        glance-api's master uses the stores (its start-up sweep) before
        it forks its workers: a worker that reused the connections it
        inherited would share them with its siblings, and their requests
        and answers would mix. A forked process closes its copies (the
        parent's stay open) and opens its own.
        """
        if self._client is not None and self._client_pid != os.getpid():
            self._client.close()
            self._client_pid = os.getpid()
        return self._client

    # Configuration

    def configure_read(self):
        """Build the client from the connection options. Like upstream,
        a store missing them still loads (its writes disabled); its reads
        then fail."""
        store_conf = self.store_conf
        try:
            self._configure_client(store_conf)
        except exception.BadStoreConfiguration as error:
            self.read_problem = error

    def _required(self, store_conf, name):
        value = store_conf[name]
        if not value:
            raise self.bad_configuration(
                f'Could not find {name} in configuration options.')
        return value

    def _configure_client(self, store_conf):
        host = self._required(store_conf, 's3_store_host').strip()
        access_key = self._required(store_conf, 's3_store_access_key')
        secret_key = self._required(store_conf, 's3_store_secret_key')
        if host.startswith('https://'):
            self.scheme, endpoint = 's3+https', host
        elif host.startswith('http://'):
            self.scheme, endpoint = 's3', host
        else:
            self.scheme, endpoint = 's3', 'http://' + host
        # What locations name: the endpoint without its scheme.
        self.service = endpoint.split('://', 1)[1].strip('/')
        url_format = (store_conf.s3_store_bucket_url_format or 'auto')
        if url_format not in ('auto', 'virtual', 'path'):
            raise self.bad_configuration(
                f'Invalid s3_store_bucket_url_format {url_format}: '
                'auto, virtual or path')
        self.url_format = url_format
        region = store_conf.s3_store_region_name or ''
        aws_host = _AWS_HOST.match(self.service.split('/')[0]
                                   .rsplit(':', 1)[0])
        if not region and aws_host:
            # Amazon's own endpoint for the region: botocore knows it.
            region, endpoint = aws_host.group(1), None
        self.region = region or 'us-east-1'
        self.create_region = region
        boto = _boto3()
        if store_conf.s3_store_enable_data_integrity_protection:
            request_checksums = \
                store_conf.s3_store_request_checksum_calculation
            response_checksums = \
                store_conf.s3_store_response_checksum_validation
        else:
            request_checksums = response_checksums = 'when_required'
        threads = store_conf.s3_store_thread_pools or 1
        config = dict(
            signature_version='s3v4', region_name=self.region,
            request_checksum_calculation=request_checksums,
            response_checksum_validation=response_checksums,
            # Parallel parts and downloads share the client's pool.
            max_pool_connections=max(10, threads + 10),
            retries={'max_attempts': 3, 'mode': 'standard'})
        session = boto.session.Session(aws_access_key_id=access_key,
                                       aws_secret_access_key=secret_key)
        cacert = store_conf.s3_store_cacert
        client_args = dict(
            endpoint_url=endpoint, region_name=self.region,
            use_ssl=self.scheme == 's3+https',
            verify=cacert if cacert else None)
        # Payloads go unsigned (UNSIGNED-PAYLOAD, as botocore always sends
        # them over https): a streamed PUT cannot hash its body before
        # sending it, and hashing every part with SHA-256 on the request's
        # thread would cost an upload much of its speed. The request
        # itself stays signed; s3_store_enable_data_integrity_protection
        # adds checksums of the data.
        self._client_pid = os.getpid()
        self._client = session.client('s3', **client_args, config=(
            boto.config.Config(s3={'addressing_style': url_format,
                                   'payload_signing_enabled': False},
                               **config)))
        self.bucket = store_conf.s3_store_bucket
        self.read_problem = None

    def configure_add(self):
        store_conf = self.store_conf
        if self.read_problem is not None:
            raise self.read_problem
        self.bucket = self._required(store_conf, 's3_store_bucket')
        if self.url_format == 'virtual' and \
                not _boto3().utils.check_dns_name(self.bucket):
            raise self.bad_configuration(
                f'The bucket name {self.bucket} is not a valid DNS name, '
                'which s3_store_bucket_url_format virtual needs.')
        large = store_conf.s3_store_large_object_size
        if large is None or large < 0:
            raise self.bad_configuration(
                's3_store_large_object_size must not be negative.')
        self.large_object_size = large * MiB
        part = store_conf.s3_store_large_object_chunk_size
        if part is None or part < MIN_PART_MIB:
            raise self.bad_configuration(
                's3_store_large_object_chunk_size must be at least '
                f'{MIN_PART_MIB} MB.')
        self.part_size = part * MiB
        threads = store_conf.s3_store_thread_pools
        if threads is None or threads <= 0:
            raise self.bad_configuration(
                's3_store_thread_pools must be a positive integer. '
                f'{threads}')
        self.thread_pools = threads
        self.create_bucket_on_put = store_conf.s3_store_create_bucket_on_put

    def properties(self):
        return {
            's3_store_large_object_size': getattr(
                self, 'large_object_size', None),
            's3_store_large_object_chunk_size': getattr(
                self, 'part_size', None),
            's3_store_thread_pools': getattr(self, 'thread_pools', None),
        }

    # Locations

    def _uri(self, key, uploads=False):
        marker = UPLOADS_MARKER if uploads else ''
        return f'{self.scheme}://{self.service}/{self.bucket}/{key}{marker}'

    def owns(self, uri):
        # Upstream's url prefix <scheme>://<host>/<bucket>; locations
        # with credentials, or s3+http for an http host, are ours too.
        if self.bucket is None or self.read_problem is not None:
            return False
        try:
            loc = S3Location(uri)
        except exception.Invalid:
            return False
        same_scheme = (loc.scheme == 's3+https') == (
            self.scheme == 's3+https')
        return (same_scheme and loc.service == self.service
                and loc.bucket == self.bucket)

    def _check_key(self, image_id):
        if (not isinstance(image_id, str) or not image_id
                or '/' in image_id or '?' in image_id or '\0' in image_id):
            raise exception.Invalid(f'Invalid image id {image_id!r}')

    # Errors

    def _failure(self, error, what):
        """The project's exception for a botocore error met doing `what`."""
        boto = _boto3()
        if isinstance(error, boto.exceptions.ClientError):
            code = _error_code(error)
            if code in _NOT_FOUND_CODES:
                return exception.ImageDataNotFound()
            if code in ('InvalidRange', '416'):
                return exception.RangeNotSatisfiable()
            if code in ('AccessDenied', 'SignatureDoesNotMatch',
                        'InvalidAccessKeyId', '403'):
                return exception.StoreUnavailable(
                    f'The S3 server refused to {what}: {error}')
        return exception.StoreUnavailable(
            f'Could not {what} in S3: {error}')

    def _call(self, what, method, **kwargs):
        """client.method(**kwargs), its errors the project's."""
        boto = _boto3()
        try:
            return getattr(self.client, method)(**kwargs)
        except (boto.exceptions.BotoCoreError,
                boto.exceptions.ClientError) as error:
            raise self._failure(error, what)

    def _readable(self):
        if self.read_problem is not None:
            raise self.read_problem

    # Reading

    def get(self, location, offset=0, length=None, chunk_size=None):
        self._readable()
        if length == 0:
            # No range names zero bytes: only the size is needed.
            size = self.get_size(location)
            return driver.ChunkIterator(iter(()), lambda: None), size
        request = {'Bucket': location.bucket, 'Key': location.key}
        if offset or length is not None:
            last = '' if length is None else offset + length - 1
            request['Range'] = f'bytes={offset}-{last}'
        response = self._call(f'read {location.key}', 'get_object',
                              **request)
        body = response['Body']
        total_size = response.get('ContentLength')
        content_range = response.get('ContentRange')
        if content_range:
            total = content_range.rpartition('/')[2]
            total_size = int(total) if total.isdigit() else None
        chunks = self._read_body(body, chunk_size or READ_CHUNK_SIZE,
                                 location.key)
        return driver.ChunkIterator(chunks, body.close), total_size

    def _read_body(self, body, chunk_size, key):
        boto = _boto3()
        try:
            yield from body.iter_chunks(chunk_size)
        except (boto.exceptions.BotoCoreError, OSError) as error:
            raise exception.StoreUnavailable(
                f'Reading {key} from S3 failed: {error}') from error

    def get_size(self, location):
        self._readable()
        response = self._call(f'find {location.key}', 'head_object',
                              Bucket=location.bucket, Key=location.key)
        return response['ContentLength']

    # Writing

    def leftovers(self, image_id, attempt):
        # The object, if the upload completed, and its unfinished
        # multipart upload: S3 has no temporary names.
        self._check_key(image_id)
        return [self._uri(image_id), self._uri(image_id, uploads=True)]

    def stray_partials(self):
        if self.bucket is None or self.read_problem is not None:
            return []
        boto = _boto3()
        found = []
        try:
            pages = self.client.get_paginator(
                'list_multipart_uploads').paginate(Bucket=self.bucket)
            for page in pages:
                for upload in page.get('Uploads', ()):
                    if _IMAGE_KEY.match(upload['Key']):
                        found.append(self._uri(upload['Key'], uploads=True))
        except (boto.exceptions.BotoCoreError,
                boto.exceptions.ClientError) as error:
            if _error_code(error) not in _NOT_FOUND_CODES:
                LOG.warning('Could not list the unfinished uploads of '
                            'bucket %s: %s', self.bucket, error)
        return sorted(set(found))

    def _ensure_bucket(self):
        boto = _boto3()
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except boto.exceptions.ClientError as error:
            if _error_code(error) not in _NOT_FOUND_CODES:
                raise self._failure(error, f'find bucket {self.bucket}')
        except boto.exceptions.BotoCoreError as error:
            raise self._failure(error, f'find bucket {self.bucket}')
        if not self.create_bucket_on_put:
            raise exception.StoreUnavailable(
                f'The bucket {self.bucket} does not exist in S3. Please set '
                'the s3_store_create_bucket_on_put option to add bucket to '
                'S3 automatically.')
        request = {'Bucket': self.bucket}
        if self.create_region and self.create_region != 'us-east-1':
            # us-east-1 is the default location, which S3 refuses to be
            # named.
            request['CreateBucketConfiguration'] = {
                'LocationConstraint': self.create_region}
        try:
            self.client.create_bucket(**request)
        except boto.exceptions.ClientError as error:
            # Another process may have created it meanwhile.
            if _error_code(error) not in ('BucketAlreadyOwnedByYou',
                                          'BucketAlreadyExists'):
                raise self._failure(error, f'create bucket {self.bucket}')
        except boto.exceptions.BotoCoreError as error:
            raise self._failure(error, f'create bucket {self.bucket}')

    def _exists(self, key):
        try:
            self._call(f'find {key}', 'head_object', Bucket=self.bucket,
                       Key=key)
        except exception.ImageDataNotFound:
            return False
        return True

    def add(self, image_id, data, size=None, attempt=None):
        self._check_key(image_id)
        self._ensure_bucket()
        if self._exists(image_id):
            raise exception.Duplicate(f'Image {image_id} already exists')
        if size and size < self.large_object_size:
            written = self._put_streamed(image_id, data, size)
        else:
            written = self._put_in_parts(image_id, data, size)
        return self._uri(image_id), written, {}

    def _put_streamed(self, key, data, size):
        """One PUT whose body is read from `data` as it is sent."""
        boto = _boto3()
        reader = _StreamReader(data, size)
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=reader,
                ContentLength=size)
        except BaseException as error:
            # The data's own error, whatever botocore made of it.
            if reader.error is not None:
                raise reader.error from None
            if isinstance(error, (boto.exceptions.BotoCoreError,
                                  boto.exceptions.ClientError)):
                raise self._failure(error, f'store {key}')
            raise
        return size

    def _part_sizes(self, size):
        """The size of each next part (past the 10000th, which S3 refuses,
        the last size again)."""
        if size:
            part_size = max(self.part_size, math.ceil(size / MAX_PARTS))
            return itertools.repeat(part_size)
        return (min(MAX_PART_SIZE,
                    self.part_size * 2 ** (min(number, MAX_PARTS)
                                           // PARTS_PER_SIZE))
                for number in itertools.count())

    def _put_in_parts(self, key, data, size):
        """A multipart upload of `data`, parts sent in parallel; data that
        ends within its first part goes in one PUT."""
        buffers = _Buffers()
        parts = _parts(data, self._part_sizes(size), buffers)
        first = next(parts, (bytearray(), 0))
        following = next(parts, None)
        if following is None:
            buffer, filled = first
            self._call(f'store {key}', 'put_object', Bucket=self.bucket,
                       Key=key, Body=_PartBody(buffer, filled),
                       ContentLength=filled)
            return filled
        upload_id = self._call(f'store {key}', 'create_multipart_upload',
                               Bucket=self.bucket,
                               Key=key)['UploadId']
        head = [first, following]
        del first, following
        try:
            return self._send_parts(key, upload_id, buffers,
                                    itertools.chain(_popped(head), parts))
        except BaseException:
            self._abort(key, upload_id)
            raise

    def _sending_limit(self, part_size):
        """How many parts may be on their way at once: s3_store_thread_
        pools, fewer if that many (and the one filling) would take more
        than PART_MEMORY_BUDGET; one at least."""
        return max(1, min(self.thread_pools,
                          PART_MEMORY_BUDGET // part_size - 1))

    def _send_parts(self, key, upload_id, buffers, parts):
        sending = collections.deque()
        done = []
        written = 0

        def send(number, buffer, filled):
            answer = self._call(f'store part {number} of {key}',
                                'upload_part', Bucket=self.bucket, Key=key,
                                UploadId=upload_id, PartNumber=number,
                                Body=_PartBody(buffer, filled),
                                ContentLength=filled)
            return {'PartNumber': number, 'ETag': answer['ETag']}

        def wait_oldest():
            part, buffer = sending.popleft()
            done.append(part.wait())
            buffers.give(buffer)

        try:
            for number, (buffer, filled) in enumerate(parts, 1):
                limit = self._sending_limit(len(buffer))
                while sending and (len(sending) >= limit
                                   or sending[0][0].done()):
                    wait_oldest()
                sending.append((_Sending(send, number, buffer, filled),
                                buffer))
                written += filled
                del buffer
            while sending:
                wait_oldest()
        finally:
            # Nothing may still be sending when the upload is aborted.
            for part, _buffer in sending:
                part.thread.join()
        self._call(f'store {key}', 'complete_multipart_upload',
                   Bucket=self.bucket, Key=key, UploadId=upload_id,
                   MultipartUpload={'Parts': done})
        return written

    def _abort(self, key, upload_id):
        try:
            self._call(f'abort the upload of {key}',
                       'abort_multipart_upload', Bucket=self.bucket,
                       Key=key, UploadId=upload_id)
        except exception.GlanceException as error:
            # The sweep's stray_partials() finds it again.
            LOG.warning('Could not abort the multipart upload %s of %s: %s',
                        upload_id, key, error)

    # Deleting

    def delete(self, location):
        self._readable()
        if location.uploads:
            return self._abort_all(location)
        self._call(f'find {location.key}', 'head_object',
                   Bucket=location.bucket, Key=location.key)
        self._call(f'delete {location.key}', 'delete_object',
                   Bucket=location.bucket, Key=location.key)

    def _abort_all(self, location):
        """Abort every unfinished multipart upload of the location's key;
        ImageDataNotFound when there is none."""
        answer = self._call(f'list the uploads of {location.key}',
                            'list_multipart_uploads',
                            Bucket=location.bucket, Prefix=location.key)
        uploads = [upload['UploadId'] for upload in answer.get('Uploads', ())
                   if upload['Key'] == location.key]
        if not uploads:
            raise exception.ImageDataNotFound()
        for upload_id in uploads:
            try:
                self._call(f'abort the upload of {location.key}',
                           'abort_multipart_upload', Bucket=location.bucket,
                           Key=location.key, UploadId=upload_id)
            except exception.ImageDataNotFound:
                pass

