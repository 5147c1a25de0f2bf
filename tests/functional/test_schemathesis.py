"""schemathesis, driven by the service's own OpenAPI document
(glance.api.openapi), against a real glance-api.

For each operation of the document (every route of v1 and v2), a seeded,
bounded run of positive (valid per the document) and negative (invalid)
requests; the path parameters are often real images, members and tags,
so that the routes are exercised past their 404. An answer must be no
5xx (but for the cases in fuzzing.KNOWN_500S, fixed elsewhere), and its
status, content type, headers and body must be the ones the document
gives: a mismatch between the document and a real answer is a failure.

GLANCE_SCHEMATHESIS_EXAMPLES (default 25) examples per operation and
mode; the seed is fixed (hypothesis derandomize).
"""
import os
import time
import urllib.parse

import hypothesis
from hypothesis import strategies
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks

from glance.api import openapi
from glance.api.v2 import images as v2_images
from tests.functional import fuzzing
from tests.functional.daemon import GlanceApi
from tests.functional.process import serving
from tests.helpers import NO_PROXY
from tests.helpers import WebServer
from tests.helpers import served_routes

EXAMPLES = int(os.environ.get('GLANCE_SCHEMATHESIS_EXAMPLES', '25'))
ANSWER_TIMEOUT = 15
CHECKS = [not_a_server_error,
          openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance,
          openapi_checks.response_headers_conformance,
          openapi_checks.response_schema_conformance]
# Headers the v1 API fetches data from: they point at loopback only.
FETCHED_HEADERS = ('x-image-meta-location', 'x-image-meta-copy_from',
                   'x-image-meta-uri', 'x-glance-api-copy-from')
# The JSON patch media types are JSON.
schemathesis.serializer.alias(sorted(v2_images.PATCH_MEDIA_TYPES),
                              'application/json')
MODES = [schemathesis.GenerationMode.POSITIVE,
         schemathesis.GenerationMode.NEGATIVE]


@pytest.fixture(scope='module')
def web_server():
    server = WebServer({'/image.raw': b'data at a location'}).start()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def schemathesis_api(tmp_path_factory):
    """A glance-api of its own (this module checks its log itself)."""
    with serving(GlanceApi(tmp_path_factory.mktemp('schemathesis-api'),
                           workers=2, env=NO_PROXY)) as api:
        yield api


@pytest.fixture(scope='module')
def schema():
    # The document of the default configuration, as the server runs.
    return schemathesis.openapi.from_dict(openapi.document())


@pytest.fixture(scope='module')
def totals():
    """Requests sent over the module, printed at its end."""
    tally = {'requests': 0, 'operations': 0, 'seconds': 0.0}
    yield tally
    print('schemathesis: %(requests)d requests over %(operations)d '
          'operations in %(seconds).1f s' % tally)


def sent_request(response):
    """The fuzzing.Sent of the request a response answers."""
    request = response.request
    body = request.body or b''
    if isinstance(body, str):
        body = body.encode('utf-8')
    return fuzzing.Sent(request.method, request.path_url,
                        dict(request.headers), body)


def aim(case, pick, seeds, web_server):
    """Point the case at real things most of the time, and its v1
    locations at loopback always."""
    parameters = case.path_parameters or {}
    if 'image_id' in parameters and pick < 7 and seeds.ids:
        parameters['image_id'] = seeds.ids[pick % len(seeds.ids)]
    if 'member_id' in parameters and pick % 2 == 0:
        parameters['member_id'] = fuzzing.MEMBER
    if 'tag_value' in parameters and pick < 4:
        parameters['tag_value'] = fuzzing.TAG
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() in FETCHED_HEADERS:
            headers[name] = web_server.url + '/image.raw'


@pytest.mark.parametrize('method,path', served_routes(),
                         ids=lambda value: value)
def test_operation(schema, schemathesis_api, web_server, totals, method,
                   path):
    api = schemathesis_api
    operation = schema[path][method]
    seeds = fuzzing.Seeds(api)
    seeds.make()
    log_start = len(api.log())
    tally = fuzzing.Tally()
    mismatches = []
    session = requests.Session()
    started = time.monotonic()

    for mode in MODES:
        @hypothesis.settings(
            max_examples=EXAMPLES, derandomize=True, database=None,
            deadline=None, phases=[hypothesis.Phase.explicit,
                                   hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck))
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode),
                          pick=strategies.integers(0, 9))
        def run(case, pick):
            aim(case, pick, seeds, web_server)
            try:
                response = case.call(base_url=api.url, session=session,
                                     timeout=ANSWER_TIMEOUT,
                                     allow_redirects=False)
            except requests.RequestException as error:
                tally.no_answer(fuzzing.Sent(method, case.formatted_path),
                                error, (method, path))
                return
            sent = sent_request(response)
            if not tally.answer(sent, response.status_code,
                                (method, path)) or (
                    response.status_code >= 500):
                return  # a failure recorded, or a known 5xx
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, schemathesis.errors.FailureGroup) as error:
                mismatches.append('%s\n  -> %d %s\n%s' % (
                    sent.describe(), response.status_code,
                    response.content[:300], _first_lines(error)))

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            # Nothing of the operation can be invalid (a path parameter
            # of any string): no negative case.
            assert mode == schemathesis.GenerationMode.NEGATIVE
        if seeds.ids and not _exists(session, api, seeds.ids[0]):
            seeds.make()  # a DELETE took them: the next mode gets new ones

    elapsed = time.monotonic() - started
    totals['requests'] += tally.requests
    totals['operations'] += 1
    totals['seconds'] += elapsed
    print(f'{method} {path}: {tally.summary()} in {elapsed:.1f} s')
    assert not mismatches, '%d answers differ from the document:\n%s' % (
        len(mismatches), '\n\n'.join(mismatches[:10]))
    tally.check(api.log()[log_start:])


def _exists(session, api, image_id):
    return session.get(f'{api.url}/v2/images/{urllib.parse.quote(image_id)}',
                       timeout=ANSWER_TIMEOUT).status_code == 200


def _first_lines(error, lines=12):
    return '\n'.join(str(error).splitlines()[:lines])


def test_every_route_has_an_operation(schema):
    labels = {(operation.method.upper(), operation.path)
              for operation in (result.ok()
                                for result in schema.get_all_operations())}
    assert labels == set(served_routes())


def test_a_mismatch_with_the_document_fails(schemathesis_api):
    """The instrument itself: an answer that is not what the document
    says fails the checks (here, a document that wants one more field of
    an image than the service gives)."""
    document = openapi.document()
    document['components']['schemas']['imageResponse']['allOf'][1][
        'required'].append('no_such_field')
    operation = schemathesis.openapi.from_dict(document)[
        '/v2/images/{image_id}']['GET']
    seeds = fuzzing.Seeds(schemathesis_api)
    seeds.make()
    case = operation.Case(path_parameters={'image_id': seeds.ids[0]})
    response = case.call(base_url=schemathesis_api.url,
                         timeout=ANSWER_TIMEOUT)
    assert response.status_code == 200
    with pytest.raises(schemathesis.errors.FailureGroup) as failure:
        case.validate_response(response, checks=CHECKS)
    assert "'no_such_field' is a required property" in str(failure.value) \
        or '"no_such_field" is a required property' in str(failure.value)
    # The real document agrees with the same answer.
    real = schemathesis.openapi.from_dict(openapi.document())[
        '/v2/images/{image_id}']['GET']
    real.Case(path_parameters={'image_id': seeds.ids[0]}).validate_response(
        response, checks=CHECKS)
