"""The OpenAPI 3.1 document (glance.api.openapi, glance-openapi): a valid
document, of every route served, built from the schemas the API serves
and validates with, for the configuration."""
import json
import os
import subprocess
import sys

import openapi_spec_validator
import pytest

from glance.api import openapi
from glance.api.v1 import mapping
from tests.helpers import configure
from tests.helpers import served_routes

METHODS = ('get', 'head', 'post', 'put', 'patch', 'delete')


def operations(document):
    return {(method.upper(), path)
            for path, item in document['paths'].items()
            for method in item if method in METHODS}


def test_document_is_valid_openapi_3_1(app):
    document = openapi.document()

    assert document['openapi'].startswith('3.1.')
    openapi_spec_validator.validate(
        document, cls=openapi_spec_validator.OpenAPIV31SpecValidator)


def test_document_has_every_route_served_and_no_other(app):
    assert operations(openapi.document()) == set(served_routes())


def test_components_are_the_schemas_the_api_serves(client):
    schemas = openapi.document()['components']['schemas']

    for name in ('image', 'images', 'member', 'members'):
        response = client.get('/v2/schemas/' + name)
        assert response.status_int == 200
        assert schemas[name] == response.json


def test_document_follows_the_configuration(client_with):
    client = client_with('[DEFAULT]\nenable_v1_api = false\n'
                         '[image_format]\ndisk_formats = raw,qcow2\n')
    document = openapi.document()

    assert not [path for path in document['paths']
                if path.startswith('/v1')]
    assert document['components']['schemas']['image']['properties'][
        'disk_format']['enum'] == [None, 'raw', 'qcow2']
    assert client.get('/v2/schemas/image').json == \
        document['components']['schemas']['image']


def test_v1_headers_are_the_fields_v1_reads(app):
    operation = openapi.document()['paths']['/v1/images']['post']
    headers = {parameter['name'] for parameter in operation['parameters']
               if parameter['in'] == 'header'}

    assert {mapping.META_PREFIX + field for field in mapping.META_FIELDS} \
        <= headers


def test_every_operation_documents_its_errors(app):
    document = openapi.document()
    for path, item in document['paths'].items():
        for method, operation in item.items():
            if method not in METHODS or not path.startswith(('/v1/', '/v2/')):
                continue
            assert {'400', '401', '403'} <= set(operation['responses']), (
                method, path)


def test_api_serves_no_document_of_its_own(client):
    # Upstream's paths answer as upstream's: the document is a command's.
    assert client.get('/v2/openapi.json').status_int == 404


@pytest.fixture
def config_file(tmp_path):
    return configure(tmp_path, '[DEFAULT]\nenable_v2_api = false\n')


def test_glance_openapi_prints_the_document_of_a_configuration(config_file):
    command = os.path.join(os.path.dirname(sys.executable), 'glance-openapi')
    if not os.access(command, os.X_OK):
        command = [sys.executable, '-c',
                   'from glance.cmd.openapi import main; main()']
    else:
        command = [command]
    result = subprocess.run(command + ['--config-file', str(config_file)],
                            capture_output=True, text=True, timeout=60,
                            check=True)
    document = json.loads(result.stdout)

    openapi_spec_validator.validate(document)
    assert '/v1/images' in document['paths']
    assert not [path for path in document['paths']
                if path.startswith('/v2')]
