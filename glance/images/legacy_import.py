"""The legacy `import` task (POST /v2/tasks): a new image whose data is
fetched from an http(s) URL, as upstream's deprecated task does.

    POST  check import_from (scheme, [import_filtering_opts]), record the
          task (pending), run it on the executor
    run   processing; check the input; create the image from
          image_properties; fetch import_from (every redirect checked
          again) into the default store; success {"image_id": ...}. On
          any failure the image is deleted (upstream's revert) and the
          task fails with the error's message.

Beyond upstream, a task being processed holds a lease renewed by the
uploads' keeper (glance.images.uploads). When its process dies, the next
sweep of any node (at start, or every upload_sweep_interval) takes it
over: the upload's own sweep has already removed the partial data; the
task's image is deleted and the task fails with a message saying why.
"""
import logging
import urllib.parse

import requests

from glance.common import exception
from glance.common import uri_filter
import glance.context
import glance.db
from glance.db import helpers
from glance.db import tasks as task_db
from glance.images import data
from glance.images import rules
from glance.images import service
from glance.images import uploads
from glance.tasks import executor
from glance.tasks import records

LOG = logging.getLogger(__name__)

REQUIRED_INPUT = ('import_from', 'import_from_format', 'image_properties')
MAX_REDIRECTS = 10
CHUNK_SIZE = 1024 * 1024
FETCH_TIMEOUT = 60


class ImportTaskError(exception.GlanceException):
    """The task fails with this message (no HTTP status: never seen by a
    request)."""


# --- at the API -------------------------------------------------------------

def check_import_from(location):
    """Upstream's checks of import_from at POST time, with its messages
    (Invalid: 400)."""
    if not location:
        raise exception.Invalid('Invalid location: %s' % location)
    if not isinstance(location, str) or not location.startswith(
            ('http://', 'https://')):
        if isinstance(location, str) and location.startswith(
                ('file:///', 'filesystem:///')):
            raise exception.Invalid(
                'File based imports are not allowed. Please use a non-local '
                'source of image data.')
        raise exception.Invalid(
            "The given uri is not valid. Please specify a valid uri from "
            "the following list of supported uri ['http']")
    if not uri_filter.is_allowed(location):
        raise exception.Invalid(
            'URI for legacy import task does not pass filtering: %s'
            % location)


def create(context, task_type, task_input):
    """Record a task (POST /v2/tasks) and, for `import`, start it. The
    other types run only inside the service (they need an image and an
    import request): one asked for here fails at once, never left
    pending."""
    task_input = task_input or {}
    if task_type == 'import':
        check_import_from(task_input.get('import_from'))
    image_id = task_input.get('image_id')
    task = records.create(context, task_type, task_input,
                          image_id=image_id if isinstance(image_id, str)
                          and len(image_id) <= 36 else None)
    if task_type == 'import':
        executor.spawn(run, context, task['id'])
    else:
        records.fail(task['id'], 'Tasks of type %s are started by the '
                                 'service, not through the tasks API.'
                     % task_type)
        task = records.get(context, task['id'])
    return task


# --- the work ---------------------------------------------------------------

def open_source(url):
    """The chunks of the data at url, following redirects, each target
    checked against [import_filtering_opts] before it is requested."""
    for _ in range(MAX_REDIRECTS + 1):
        if not uri_filter.is_allowed(url):
            raise ImportTaskError('Redirect to disallowed URL: %s' % url)
        response = requests.get(url, stream=True, allow_redirects=False,
                                timeout=FETCH_TIMEOUT)
        if response.is_redirect:
            target = response.headers['Location']
            response.close()
            url = urllib.parse.urljoin(url, target)
            continue
        if response.status_code >= 400:
            response.close()
            raise ImportTaskError('%s %s fetching %s' % (
                response.status_code, response.reason, url))
        return response.iter_content(CHUNK_SIZE)
    raise ImportTaskError('Too many redirects fetching %s' % url)


def _new_image(context, properties):
    properties = dict(properties or {})
    if not properties:
        properties = {'disk_format': 'qcow2', 'container_format': 'bare'}
    tags = properties.pop('tags', None) or []
    base = {k: properties.pop(k) for k in list(properties)
            if k in rules.BASE_PROPERTIES}
    extra = {k: v if isinstance(v, str) else str(v)
             for k, v in properties.items()}
    return service.create(context, base, extra, tags)


def _import(context, task_id, task_input):
    for key in REQUIRED_INPUT:
        if key not in task_input:
            raise ImportTaskError("Input does not contain '%s' field" % key)
    image = _new_image(context, task_input['image_properties'])
    records.set_image(task_id, image['id'])
    url = task_input['import_from']
    data.store_from(context, image['id'], lambda: open_source(url))
    return image['id']


def _delete_image(image_id):
    """Upstream's revert: the task's image goes."""
    try:
        service.delete(glance.context.get_admin_context(), image_id)
    except exception.NotFound:
        pass
    except Exception:
        LOG.exception('Could not delete image %s of a failed task',
                      image_id)


def _message(error):
    if isinstance(error, exception.GlanceException):
        return str(error)
    if isinstance(error, requests.RequestException):
        return 'Error fetching the image data: %s' % error
    return str(error) or type(error).__name__


def run(context, task_id):
    node, process = uploads.identity()
    try:
        records.begin(task_id, node, process, uploads.lease_end())
    except exception.Conflict:
        return  # taken by another start, or already over
    holder.in_flight.add(task_id)
    try:
        with glance.db.reading() as session:
            task = task_db.task_get(session, task_id, None, True)
        try:
            image_id = _import(context, task_id, task['input'] or {})
        except Exception as error:
            LOG.warning('Task %s failed: %s', task_id, error)
            with glance.db.reading() as session:
                image_id = task_db.task_get(session, task_id, None,
                                            True)['image_id']
            if image_id:
                _delete_image(image_id)
            records.fail(task_id, _message(error), process)
        else:
            records.succeed(task_id, {'image_id': image_id}, process)
    except exception.Conflict:
        LOG.warning('Task %s was taken for dead meanwhile', task_id)
    finally:
        holder.in_flight.discard(task_id)


# --- tasks whose process died -----------------------------------------------

INTERRUPTED = ('The task was interrupted: the process running it (%s on '
               '%s) stopped, and its work was undone.')


def _reclaim(task):
    node, process = uploads.identity()
    with glance.db.writing() as session:
        if not task_db.task_claim(session, task, node, process,
                                  uploads.lease_end()):
            return
    if task['image_id'] and task['type'] == 'import':
        _delete_image(task['image_id'])
    try:
        records.fail(task['id'], INTERRUPTED % (task['process'],
                                                task['node']), process)
    except exception.Conflict:
        return
    LOG.warning('Task %s of %s on %s was left unfinished: failed',
                task['id'], task['process'], task['node'])


def reclaim_dead_tasks():
    node, process = uploads.identity()
    now = helpers.utcnow()
    with glance.db.reading() as session:
        candidates = task_db.sweep_candidates(session, node, now)
    for task in candidates:
        if task['node'] == node and task['process'] == process:
            continue
        if task['lease_expires_at'] is None \
                or task['lease_expires_at'] < now \
                or (task['node'] == node
                    and uploads.process_is_gone(task['process'])):
            _reclaim(task)


holder = uploads.register_lease_holder(task_db.renew_leases,
                                       reclaim_dead_tasks)
