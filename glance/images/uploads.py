"""Uploads in flight: their storage reservations, leases and recovery.

Each upload has a row in image_uploads from the transaction that moves
its image queued -> saving to the one that makes it active or gives it
up. The row says:

- how many bytes the upload reserves of its owner's user_storage_quota:
  the declared size, or for data of unknown size a reservation grown in
  steps as the data comes. Quota checks of one owner hold a per-owner
  lock, and count active usage plus the other uploads' reservations, so
  parallel uploads can never pass the quota together;
- where an interrupted write may leave data (the store's leftovers);
- which process carries it on (node, and boot id:pid:start time) and
  until when: each serving process renews the leases of all its uploads
  at once, every third of upload_lease_time, from one keeper thread
  (a green thread under eventlet).

A sweep (at each start, and every upload_sweep_interval in each serving
process) reclaims the uploads whose lease has expired, or whose process
on this node is gone: it deletes their leftovers and leaves the image as
a failed upload does (queued, or killed for the classic API). It also
finishes the deletions of image data that a dead process left pending.

Other long work (tasks) registers as a LeaseHolder: its leases are
renewed by the same keeper and its dead work reclaimed by the same
sweeps.
"""
import datetime
import logging
import os
import socket
import threading
import time
import uuid

from oslo_config import cfg

from glance import store
from glance.common import exception
from glance.common import offload
import glance.db
from glance.db import helpers
from glance.db import images as image_db
from glance.db import locations as location_db
from glance.db import uploads as upload_db
from glance.images import service

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

upload_opts = [
    cfg.StrOpt('host', default=socket.gethostname(),
               sample_default='<the host name>',
               help='Name of this node among those sharing the database. '
                    'A node checks the processes of its own uploads '
                    'directly; the uploads of other nodes are taken for '
                    'dead only when their lease expires.'),
    cfg.IntOpt('upload_lease_time', default=300, min=3,
               help='Seconds after which an upload whose process stopped '
                    'renewing its lease is taken for dead by any node '
                    'sharing the database: its image goes back to the '
                    'status a failed upload leaves and its unfinished '
                    'data is deleted. Each process renews the leases of '
                    'its uploads every third of this time; uploads of a '
                    'process found gone on the same node are reclaimed '
                    'without waiting.'),
    cfg.IntOpt('upload_sweep_interval', default=60, min=1,
               help='Seconds between two looks of each serving process '
                    'for dead uploads (and image data deletions left '
                    'unfinished). Every start looks once too.'),
]
CONF.register_opts(upload_opts)

# A reservation for data of unknown size grows by this much at a time:
# one short transaction per step.
RESERVATION_STEP = 16 * 1024 * 1024


def list_opts():
    return [(None, upload_opts)]


# --- who carries an upload on ---------------------------------------------

def _boot_id():
    try:
        with open('/proc/sys/kernel/random/boot_id') as boot_id:
            return boot_id.read().strip()
    except OSError:
        return ''


def _process_start(pid):
    """(state, start time) of a process from /proc, None if it is gone."""
    try:
        with open(f'/proc/{pid}/stat') as stat:
            fields = stat.read().rsplit(')', 1)[1].split()
    except FileNotFoundError:
        return None
    except OSError:
        return '', ''
    return fields[0], fields[19]


def _process_identity(pid):
    state = _process_start(pid)
    return f'{_boot_id()}:{pid}:{state[1] if state else ""}'


_identity = (None, None)


def identity():
    """(node, process) of this process: the `host` option, and boot
    id, pid and start time (a pid is reused; a boot id is not)."""
    global _identity
    pid = os.getpid()
    if _identity[0] != pid:
        _identity = (pid, _process_identity(pid))
    return CONF.host, _identity[1]


def process_is_gone(process):
    """Whether the process of an identity made on this node is gone."""
    boot_id, _, rest = process.partition(':')
    pid, _, started = rest.partition(':')
    if boot_id != _boot_id() or not pid.isdigit():
        return True
    found = _process_start(int(pid))
    if found is None:
        return True
    state, start = found
    # A zombie's (or a dying process's) upload is over; another start
    # time is another process.
    return state in ('Z', 'X') or bool(start and started
                                       and start != started)


def _lease_end():
    return helpers.utcnow() + datetime.timedelta(
        seconds=CONF.upload_lease_time)


# --- an upload's reservation ----------------------------------------------

def failed_upload_values(status):
    """What a failed upload leaves in the image: queued (ready for
    another try, without the failed data's sizes) or killed."""
    values = {'status': status}
    if status == 'queued':
        values.update(size=None, virtual_size=None)
    return values


def _quota_room(session, quota, owner, image_id, upload_id=None):
    """Bytes of the owner's quota left to one upload: what neither
    active data (the image itself excepted) nor the other uploads in
    flight take. Called with the owner's lock held."""
    used = image_db.owner_storage_usage(session, owner,
                                        exclude_image_id=image_id)
    used += upload_db.reserved_by_others(session, owner, upload_id)
    return max(quota - used, 0)


def quota_full(size, room):
    return exception.StorageQuotaFull(
        'Image exceeds the storage quota: The size of the data %d will '
        'exceed the limit. %d bytes remaining.' % (size, room))


class Upload:
    """An upload in flight, as its own process sees it.

    room: bytes the quota left it when it began (None: no quota);
    reserved: bytes it holds of the quota now.
    """

    def __init__(self, image, attempt, leftovers, on_failure, quota):
        self.image_id = image['id']
        self.owner = image['owner']
        self.id = attempt
        self.leftovers = leftovers
        self.on_failure = on_failure
        self.quota = quota
        self.room = None
        self.reserved = 0
        self.node, self.process = identity()

    def begin(self, session, size):
        """Record the upload, in the transaction that moves its image
        to saving (opened with fresh_reads when there is a quota)."""
        if self.quota:
            upload_db.lock_owner(session, self.owner)
            self.room = _quota_room(session, self.quota, self.owner,
                                    self.image_id)
            wanted = size if size is not None else RESERVATION_STEP
            self.reserved = min(wanted, self.room)
        upload_db.upload_create(session, {
            'id': self.id, 'image_id': self.image_id, 'owner': self.owner,
            'reserved': self.reserved, 'leftovers': self.leftovers,
            'on_failure': self.on_failure, 'node': self.node,
            'process': self.process, 'lease_expires_at': _lease_end()})
        _in_flight.add(self.id)
        self.renew_at = time.monotonic() + CONF.upload_lease_time / 3

    def received(self, size):
        """Called as the data comes (`size` bytes so far): reserves
        them, and renews the lease where no keeper runs (a WSGI server
        without threads, say)."""
        if self.quota is not None and size > self.reserved:
            self.need(size)
        if time.monotonic() > self.renew_at and not keeper_running():
            self.renew_at = time.monotonic() + CONF.upload_lease_time / 3
            with glance.db.writing() as session:
                upload_db.renew_lease(session, self.id, self.process,
                                      _lease_end())

    def need(self, size):
        """Make sure `size` bytes are reserved; StorageQuotaFull if the
        quota cannot hold them."""
        if self.quota is None or size <= self.reserved:
            return
        with glance.db.writing(fresh_reads=True) as session:
            upload_db.lock_owner(session, self.owner)
            self.room = _quota_room(session, self.quota, self.owner,
                                    self.image_id, self.id)
            if size > self.room:
                raise quota_full(size, self.room)
            reserved = min(max(size, self.reserved + RESERVATION_STEP),
                           self.room)
            if not upload_db.upload_reserve(session, self.id, self.process,
                                            reserved):
                raise self._reclaimed()
        self.reserved = reserved

    def _reclaimed(self):
        return exception.Conflict(
            'The upload of image %s was taken for dead and given up.'
            % self.image_id)

    def finish(self, session):
        """End the upload in the transaction that makes its image
        active; Conflict if a sweep took it for dead meanwhile."""
        _in_flight.discard(self.id)
        if not upload_db.upload_delete(session, self.id, self.process):
            raise self._reclaimed()

    def give_up(self):
        """End a failed upload: the image as on_failure says."""
        _in_flight.discard(self.id)
        try:
            with glance.db.writing() as session:
                if upload_db.upload_delete(session, self.id, self.process):
                    image_db.image_update(
                        session, self.image_id,
                        failed_upload_values(self.on_failure),
                        expected_status='saving')
        except (exception.NotFound, exception.Conflict):
            pass
        except Exception:
            LOG.exception('Could not set image %s %s', self.image_id,
                          self.on_failure)


def start(image, on_failure, quota, backend=None):
    """An Upload for `image` (not yet recorded: see Upload.begin), and
    the store registry its data goes to (to `backend`, or the default
    backend when None). quota: user_storage_quota in bytes (0: none)."""
    registry = store.current_registry()
    attempt = uuid.uuid4().hex
    quota = quota or None
    leftovers = registry.leftovers(image['id'], attempt, backend)
    return (Upload(image, attempt, leftovers, on_failure, quota), registry)


# --- the keeper: leases and sweeps ----------------------------------------

# The ids of this process's uploads in flight.
_in_flight = set()


class LeaseHolder:
    """Other long work carried on under leases like the uploads' (tasks):
    the keeper renews its leases with theirs (`renew(session, node,
    process, lease_end)`, while `in_flight` holds any of its ids), and
    every sweep calls its `reclaim_dead()`."""

    def __init__(self, renew, reclaim_dead):
        self.renew = renew
        self.reclaim_dead = reclaim_dead
        self.in_flight = set()


_holders = []


def register_lease_holder(renew, reclaim_dead):
    holder = LeaseHolder(renew, reclaim_dead)
    _holders.append(holder)
    return holder


def lease_end():
    """When a lease taken or renewed now ends."""
    return _lease_end()


def _leases_in_flight():
    return bool(_in_flight) or any(h.in_flight for h in _holders)


def renew_leases():
    node, process = identity()
    end = _lease_end()
    with glance.db.writing() as session:
        if _in_flight:
            upload_db.renew_leases(session, node, process, end)
        for holder in _holders:
            if holder.in_flight:
                holder.renew(session, node, process, end)


def _reclaim(upload):
    """Give up a dead upload: take it over (so that no other sweep does
    the same), delete its leftovers, then put its image back."""
    node, process = identity()
    with glance.db.writing() as session:
        if not upload_db.upload_claim(session, upload, node, process,
                                      _lease_end()):
            return
    # Deleted before the row goes: a sweep that dies here leaves the
    # row, which a later sweep takes again.
    if not all([service.delete_data(uri) for uri in upload['leftovers']]):
        return
    with glance.db.writing() as session:
        if upload_db.upload_delete(session, upload['id'], process):
            try:
                image_db.image_update(
                    session, upload['image_id'],
                    failed_upload_values(upload['on_failure']),
                    expected_status='saving')
            except (exception.NotFound, exception.Conflict):
                pass
    LOG.warning('Upload of image %s by %s on %s was left unfinished: '
                'image set %s', upload['image_id'], upload['process'],
                upload['node'], upload['on_failure'])


def reclaim_dead_uploads():
    node, process = identity()
    now = helpers.utcnow()
    with glance.db.reading() as session:
        candidates = upload_db.sweep_candidates(session, node, now)
    for upload in candidates:
        if upload['node'] == node and upload['process'] == process:
            continue
        if upload['lease_expires_at'] < now or (
                upload['node'] == node
                and process_is_gone(upload['process'])):
            _reclaim(upload)


def finish_pending_deletes():
    """Delete the data of deleted images that a process left behind."""
    with glance.db.reading() as session:
        pending = location_db.pending_deletes(session)
    for location in pending:
        # From the backend the location records (several may share a
        # type, and so a URI scheme).
        if service.delete_data(location['url'], location):
            with glance.db.writing() as session:
                location_db.location_delete(session, location['id'])


def remove_stray_partials():
    """Delete unfinished data that no upload in flight may write.

    Listed before the uploads are read: an upload's row is committed
    before its data is created, so a live upload's data listed here
    has its row read below."""
    partials = store.current_registry().stray_partials()
    if not partials:
        return
    with glance.db.reading() as session:
        claimed = upload_db.all_leftovers(session)
    for uri in partials:
        if uri not in claimed:
            service.delete_data(uri)


def sweep():
    reclaim_dead_uploads()
    # After the uploads: a dead task's upload is given up first.
    for holder in _holders:
        holder.reclaim_dead()
    finish_pending_deletes()


def sweep_at_start():
    """The start-up sweep: also removes unfinished data nobody claims.
    A failure is logged: the periodic sweeps try again."""
    try:
        sweep()
        remove_stray_partials()
    except Exception:
        LOG.exception('Sweep of unfinished uploads failed')


class _Keeper:
    """This process's keeper thread: renews the leases of its uploads
    and sweeps, each on its own period."""

    def __init__(self):
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self.run, name='upload-keeper',
                                       daemon=True)
        self.thread.start()

    def run(self):
        if not offload.eventlet_active():  # a green thread shares its OS
            offload.leave_signals_to_the_main_thread()  # thread's mask
        last_sweep = time.monotonic()
        while True:
            period = min(CONF.upload_lease_time / 3,
                         CONF.upload_sweep_interval)
            time.sleep(period)  # green under eventlet
            try:
                if _leases_in_flight():
                    renew_leases()
                if time.monotonic() - last_sweep \
                        >= CONF.upload_sweep_interval:
                    last_sweep = time.monotonic()
                    sweep()
            except Exception:
                LOG.exception('Upload keeper: lease renewal or sweep failed')


_keeper = None
_keeper_lock = threading.Lock()


def keeper_running():
    return (_keeper is not None and _keeper.pid == os.getpid()
            and _keeper.thread.is_alive())


def ensure_keeper():
    """Start this process's keeper unless it runs (a forked worker
    starts its own)."""
    global _keeper
    if _keeper is not None and _keeper.pid == os.getpid():
        return
    with _keeper_lock:
        if _keeper is None or _keeper.pid != os.getpid():
            _in_flight.clear()  # a forked child carries no upload on
            for holder in _holders:
                holder.in_flight.clear()
            _keeper = _Keeper()


class KeeperStarter:
    """WSGI wrapper: the serving process's first request starts its
    keeper (a thread started before a fork would not survive it, and
    the daemon's master process serves nothing)."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if _keeper is None or _keeper.pid != os.getpid():
            ensure_keeper()
        return self.application(environ, start_response)
