"""API tests of image tags: PUT and DELETE /v2/images/{id}/tags/{tag}."""
import pytest

from tests.helpers import MISSING_ID
from tests.helpers import active_image
from tests.helpers import assert_error
from tests.helpers import show

# --- tags --------------------------------------------------------------------

def tag_path(image_id, tag):
    return f'/v2/images/{image_id}/tags/{tag}'


def test_put_tag_answers_204_and_adds_it(client):
    image = client.create_image(tags=['first'])
    response = client.put(tag_path(image['id'], 'second'))
    assert response.status_int == 204
    assert response.body == b''
    assert show(client, image['id'])['tags'] == ['first', 'second']


def test_put_existing_tag_is_idempotent(client):
    image = client.create_image(tags=['a', 'b'])
    assert client.put(tag_path(image['id'], 'a')).status_int == 204
    assert show(client, image['id'])['tags'] == ['a', 'b']


def test_put_tag_with_encoded_characters(client):
    image = client.create_image()
    assert client.put(tag_path(image['id'], 'two%20words')).status_int == 204
    assert show(client, image['id'])['tags'] == ['two words']


def test_delete_tag_answers_204_and_removes_it(client):
    image = client.create_image(tags=['a', 'b', 'c'])
    response = client.delete(tag_path(image['id'], 'b'))
    assert response.status_int == 204
    assert show(client, image['id'])['tags'] == ['a', 'c']


def test_delete_missing_tag_is_not_found(client):
    image = client.create_image(tags=['a'])
    response = client.delete(tag_path(image['id'], 'nope'))
    assert response.status_int == 404
    assert response.body == (b'404 Not Found\n\nThe resource could not be '
                             b'found.\n\n   ')
    assert show(client, image['id'])['tags'] == ['a']


@pytest.mark.parametrize('method', ['PUT', 'DELETE'])
def test_tag_of_missing_image_is_not_found(client, method):
    response = client.request(method, tag_path(MISSING_ID, 'a'))
    assert response.status_int == 404
    assert response.body == (b'404 Not Found\n\nImage %s not found.\n\n   '
                             % MISSING_ID.encode())


def test_too_long_tag_is_bad_request(client):
    image = client.create_image()
    response = client.put(tag_path(image['id'], 't' * 256))
    assert_error(response, 400, "Provided object does not match schema "
                                "'image': ")
    assert 'is too long' in response.text
    assert show(client, image['id'])['tags'] == []


def test_tag_of_255_characters_is_fine(client):
    image = client.create_image()
    assert client.put(tag_path(image['id'], 't' * 255)).status_int == 204


@pytest.mark.parametrize('method', ['PUT', 'DELETE'])
def test_tag_with_body_is_bad_request(client, method):
    image = client.create_image(tags=['a'])
    response = client.request(method, tag_path(image['id'], 'a'), body={})
    assert_error(response, 400, 'A body is not expected with this request.')


def test_tag_quota_on_put(client_with):
    client = client_with('[DEFAULT]\nimage_tag_quota = 2\n')
    image = client.create_image(tags=['a', 'b'])
    response = client.put(tag_path(image['id'], 'c'))
    assert response.status_int == 413
    assert response.text == (
        '413 Request Entity Too Large\n\nImage tag limit exceeded for image '
        f"{image['id']}: The limit has been exceeded on the number of "
        'allowed image tags. Attempted: 3, Maximum: 2:\n\n   ')
    assert show(client, image['id'])['tags'] == ['a', 'b']


def test_existing_tag_at_the_quota_is_fine(client_with):
    client = client_with('[DEFAULT]\nimage_tag_quota = 2\n')
    image = client.create_image(tags=['a', 'b'])
    assert client.put(tag_path(image['id'], 'a')).status_int == 204


def test_tags_work_on_active_images(client):
    image = active_image(client)
    assert client.put(tag_path(image['id'], 'live')).status_int == 204
    assert client.delete(tag_path(image['id'], 'live')).status_int == 204
    assert show(client, image['id'])['tags'] == []
