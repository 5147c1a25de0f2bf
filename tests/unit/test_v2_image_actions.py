"""API tests of the image actions: POST /v2/images/{id}/actions/deactivate
and .../reactivate."""
import pytest

from tests.helpers import IMAGE_DATA as DATA
from tests.helpers import MISSING_ID
from tests.helpers import active_image
from tests.helpers import assert_error
from tests.helpers import download
from tests.helpers import show

# --- deactivate / reactivate -------------------------------------------------

def action(client, image_id, name, **kwargs):
    return client.post(f'/v2/images/{image_id}/actions/{name}',
                       **kwargs)


def test_deactivate_answers_204(client):
    image = active_image(client)
    response = action(client, image['id'], 'deactivate')
    assert response.status_int == 204
    assert response.body == b''
    assert show(client, image['id'])['status'] == 'deactivated'


def test_admin_still_downloads_a_deactivated_image(client):
    image = active_image(client)
    action(client, image['id'], 'deactivate')
    response = download(client, image['id'])
    assert response.status_int == 200
    assert response.body == DATA


def test_deactivate_twice_is_fine(client):
    image = active_image(client)
    action(client, image['id'], 'deactivate')
    assert action(client, image['id'], 'deactivate').status_int == 204
    assert show(client, image['id'])['status'] == 'deactivated'


def test_reactivate_makes_the_image_active_again(client):
    image = active_image(client)
    action(client, image['id'], 'deactivate')
    assert action(client, image['id'], 'reactivate').status_int == 204
    assert show(client, image['id'])['status'] == 'active'
    assert download(client, image['id']).body == DATA


def test_reactivate_of_active_image_is_fine(client):
    image = active_image(client)
    assert action(client, image['id'], 'reactivate').status_int == 204
    assert show(client, image['id'])['status'] == 'active'


@pytest.mark.parametrize('name', ['deactivate', 'reactivate'])
def test_action_on_queued_image_is_forbidden(client, name):
    image = client.create_image()
    response = action(client, image['id'], name)
    assert response.status_int == 403
    assert response.body == (b"403 Forbidden\n\nNot allowed to %s image in "
                             b"status 'queued'\n\n   " % name.encode())
    assert show(client, image['id'])['status'] == 'queued'


@pytest.mark.parametrize('name', ['deactivate', 'reactivate'])
def test_action_on_missing_image_is_not_found(client, name):
    assert_error(action(client, MISSING_ID, name), 404,
                 f'No image found with ID {MISSING_ID}')


def test_action_with_body_is_bad_request(client):
    image = active_image(client)
    response = action(client, image['id'], 'deactivate', body={})
    assert_error(response, 400, 'A body is not expected with this request.')
    assert show(client, image['id'])['status'] == 'active'


def test_upload_to_deactivated_image_is_conflict(client):
    image = active_image(client)
    action(client, image['id'], 'deactivate')
    assert_error(client.upload(image['id'], DATA), 409,
                 'Image status transition from deactivated to saving is not '
                 'allowed')


def test_deactivated_image_can_be_deleted(client, stored_files):
    image = active_image(client)
    action(client, image['id'], 'deactivate')
    assert client.delete(f"/v2/images/{image['id']}").status_int == 204
    assert stored_files() == []
