"""The JSON schemas of v2: defined once, served by GET /v2/schemas/...,
and used to validate request bodies."""
import jsonschema
from oslo_config import cfg

from glance.common import exception
from glance.images import rules

CONF = cfg.CONF

image_format_opts = [
    cfg.ListOpt('container_formats',
                default=['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker',
                         'compressed'],
                help='Container formats an image may declare.'),
    cfg.ListOpt('disk_formats',
                default=['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw',
                         'qcow2', 'vdi', 'iso', 'ploop'],
                help='Disk formats an image may declare.'),
]
CONF.register_opts(image_format_opts, group='image_format')

UUID_PATTERN = ('^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
                '-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$')


class Schema:
    """A named JSON schema with a compiled validator."""

    def __init__(self, name, properties, links=None,
                 additional_properties=None):
        self.name = name
        self.properties = properties
        self.links = links
        self.additional_properties = additional_properties
        document = self.document()
        self._validator = jsonschema.validators.validator_for(document)(
            document)

    def document(self):
        document = {'name': self.name, 'properties': self.properties}
        if self.additional_properties is not None:
            document['additionalProperties'] = self.additional_properties
        if self.links is not None:
            document['links'] = self.links
        return document

    def validate(self, instance):
        error = jsonschema.exceptions.best_match(
            self._validator.iter_errors(instance))
        if error is not None:
            raise exception.Invalid(
                "Provided object does not match schema '%s': %s"
                % (self.name, error))


def _nullable(kind, **extra):
    return dict({'type': ['null', kind]}, **extra)


def image_properties():
    return {
        'id': {'type': 'string',
               'description': 'An identifier for the image',
               'pattern': UUID_PATTERN},
        'name': _nullable('string',
                          description='Descriptive name for the image',
                          maxLength=255),
        'status': {'type': 'string', 'readOnly': True,
                   'description': 'Status of the image',
                   'enum': list(rules.STATUSES)},
        'visibility': {'type': 'string',
                       'description': 'Scope of image accessibility',
                       'enum': list(rules.VISIBILITIES)},
        'protected': {'type': 'boolean',
                      'description': 'If true, image will not be deletable.'},
        'os_hidden': {'type': 'boolean',
                      'description': 'If true, image will not appear in '
                                     'default image list response.'},
        'checksum': _nullable('string', readOnly=True,
                              description='md5 hash of image contents.',
                              maxLength=32),
        'os_hash_algo': _nullable(
            'string', readOnly=True,
            description='Algorithm to calculate the os_hash_value',
            maxLength=64),
        'os_hash_value': _nullable(
            'string', readOnly=True,
            description='Hexdigest of the image contents using the '
                        'algorithm specified by the os_hash_algo',
            maxLength=128),
        'owner': _nullable('string', description='Owner of the image',
                           maxLength=255),
        'size': _nullable('integer', readOnly=True,
                          description='Size of image file in bytes'),
        'virtual_size': _nullable('integer', readOnly=True,
                                  description='Virtual size of image in '
                                              'bytes'),
        'container_format': _nullable(
            'string', description='Format of the container',
            enum=[None] + CONF.image_format.container_formats),
        'disk_format': _nullable(
            'string', description='Format of the disk',
            enum=[None] + CONF.image_format.disk_formats),
        'created_at': {'type': 'string', 'readOnly': True,
                       'description': 'Date and time of image registration'},
        'updated_at': {'type': 'string', 'readOnly': True,
                       'description': 'Date and time of the last image '
                                      'modification'},
        'tags': {'type': 'array',
                 'description': 'List of strings related to the image',
                 'items': {'type': 'string', 'maxLength': 255}},
        'direct_url': {'type': 'string', 'readOnly': True,
                       'description': 'URL to access the image file kept in '
                                      'external store'},
        'min_ram': {'type': 'integer',
                    'description': 'Amount of ram (in MB) required to boot '
                                   'image.'},
        'min_disk': {'type': 'integer',
                     'description': 'Amount of disk space (in GB) required '
                                    'to boot image.'},
        'self': {'type': 'string', 'readOnly': True,
                 'description': 'An image self url'},
        'file': {'type': 'string', 'readOnly': True,
                 'description': 'An image file url'},
        'stores': {'type': 'string', 'readOnly': True,
                   'description': 'Store in which image data resides.  Only '
                                  'present when the operator has enabled '
                                  'multiple stores.  May be a comma-separated'
                                  ' list of store identifiers.'},
        'schema': {'type': 'string', 'readOnly': True,
                   'description': 'An image schema url'},
        'locations': {
            'type': 'array',
            'items': {
                'type': 'object',
                'properties': {
                    'url': {'type': 'string', 'maxLength': 255},
                    'metadata': {'type': 'object'},
                    'validation_data': {
                        'description': 'Values to be used to populate the '
                                       'corresponding image properties. If '
                                       'the image status is not \'queued\', '
                                       'values must exactly match those '
                                       'already contained in the image '
                                       'properties.',
                        'type': 'object',
                        'writeOnly': True,
                        'additionalProperties': False,
                        'properties': {
                            'checksum': {'type': 'string', 'minLength': 32,
                                         'maxLength': 32},
                            'os_hash_algo': {'type': 'string',
                                             'maxLength': 64},
                            'os_hash_value': {'type': 'string',
                                              'maxLength': 128},
                        },
                        'required': ['os_hash_algo', 'os_hash_value'],
                    },
                },
                'required': ['url', 'metadata'],
            },
            'description': 'A set of URLs to access the image file kept in '
                           'external store',
        },
    }


IMAGE_LINKS = [{'rel': 'self', 'href': '{self}'},
               {'rel': 'enclosure', 'href': '{file}'},
               {'rel': 'describedby', 'href': '{schema}'}]


def image_schema():
    return Schema('image', image_properties(), links=IMAGE_LINKS,
                  additional_properties={'type': 'string'})


def images_schema(image):
    return Schema('images', {
        'images': {'type': 'array', 'items': image.document()},
        'first': {'type': 'string'},
        'next': {'type': 'string'},
        'schema': {'type': 'string'},
    }, links=[{'rel': 'first', 'href': '{first}'},
              {'rel': 'next', 'href': '{next}'},
              {'rel': 'describedby', 'href': '{schema}'}])


def member_properties():
    return {
        'member_id': {'type': 'string',
                      'description': 'An identifier for the image member '
                                     '(tenantId)'},
        'image_id': {'type': 'string',
                     'description': 'An identifier for the image',
                     'pattern': UUID_PATTERN},
        'created_at': {'type': 'string',
                       'description': 'Date and time of image member '
                                      'creation'},
        'updated_at': {'type': 'string',
                       'description': 'Date and time of last modification of '
                                      'image member'},
        'status': {'type': 'string',
                   'description': 'The status of this image member',
                   'enum': list(rules.MEMBER_STATUSES)},
        'schema': {'readOnly': True, 'type': 'string'},
    }


def member_schema():
    return Schema('member', member_properties())


def members_schema(member):
    return Schema('members', {
        'members': {'type': 'array', 'items': member.document()},
        'schema': {'type': 'string'},
    }, links=[{'rel': 'describedby', 'href': '{schema}'}])


def task_properties():
    return {
        'id': {'description': 'An identifier for the task',
               'pattern': UUID_PATTERN, 'type': 'string'},
        'type': {'description': 'The type of task represented by this '
                                'content',
                 'enum': ['import', 'api_image_import', 'location_import'],
                 'type': 'string'},
        'status': {'description': 'The current status of this task',
                   'enum': ['pending', 'processing', 'success', 'failure'],
                   'type': 'string'},
        'input': {'description': 'The parameters required by task, JSON '
                                 'blob',
                  'type': ['null', 'object']},
        'result': {'description': 'The result of current task, JSON blob',
                   'type': ['null', 'object']},
        'owner': {'description': 'An identifier for the owner of this task',
                  'type': 'string'},
        'message': {'description': 'Human-readable informative message only '
                                   'included when appropriate (usually on '
                                   'failure)',
                    'type': 'string'},
        'image_id': {'description': 'Image associated with the task',
                     'type': 'string'},
        'request_id': {'description': 'Human-readable informative '
                                      'request-id',
                       'type': 'string'},
        'user_id': {'description': 'User associated with the task',
                    'type': 'string'},
        'expires_at': {'description': 'Datetime when this resource would be '
                                      'subject to removal',
                       'type': ['null', 'string']},
        'created_at': {'description': 'Datetime when this resource was '
                                      'created',
                       'type': 'string'},
        'updated_at': {'description': 'Datetime when this resource was '
                                      'updated',
                       'type': 'string'},
        'self': {'readOnly': True, 'type': 'string'},
        'schema': {'readOnly': True, 'type': 'string'},
    }


# What a list's stubs leave out of a task.
TASK_STUB_HIDDEN = ('input', 'result', 'message')


def task_schema():
    return Schema('task', task_properties(), additional_properties=False)


def task_stub_schema():
    properties = task_properties()
    for name in TASK_STUB_HIDDEN:
        del properties[name]
    return Schema('task', properties, additional_properties=False)


def tasks_schema(stub):
    return Schema('tasks', {
        'tasks': {'type': 'array', 'items': stub.document()},
        'first': {'type': 'string'},
        'next': {'type': 'string'},
        'schema': {'type': 'string'},
    }, links=[{'rel': 'first', 'href': '{first}'},
              {'rel': 'next', 'href': '{next}'},
              {'rel': 'describedby', 'href': '{schema}'}])


class Schemas:
    """The schemas as configured when the application was built."""

    def __init__(self):
        self.image = image_schema()
        self.images = images_schema(self.image)
        self.member = member_schema()
        self.members = members_schema(self.member)
        self.task = task_schema()
        self.tasks = tasks_schema(task_stub_schema())


def list_opts():
    return [('image_format', image_format_opts)]
