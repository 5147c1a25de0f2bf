"""Default rules of images: metadata, data, state and locations."""
from glance.policies import base
from glance.policies.base import ADMIN
from glance.policies.base import IMAGE_PATH
from glance.policies.base import MEMBER_OF_OWNER
from glance.policies.base import READER_OF_OWNER
from glance.policies.base import VISIBLE

IMAGE = IMAGE_PATH
rule = base.project_rule

RULES = [
    rule('add_image', '%s or (%s and project_id:%%(owner)s)'
         % (ADMIN, MEMBER_OF_OWNER),
         'Create an image (owned by the caller\'s project).',
         'POST', '/v2/images'),
    rule('get_images', '%s or (%s)' % (ADMIN, READER_OF_OWNER),
         'List images.', 'GET', '/v2/images'),
    rule('get_image', '%s or (role:reader and (%s))' % (ADMIN, VISIBLE),
         'Show an image.', 'GET', IMAGE),
    rule('modify_image', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
         'Update an image.', 'PATCH', IMAGE),
    rule('delete_image', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
         'Delete an image.', 'DELETE', IMAGE),
    rule('publicize_image', ADMIN,
         'Make an image public.', 'PATCH', IMAGE),
    rule('communitize_image', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
         'Make an image a community image.', 'PATCH', IMAGE),
    rule('upload_image', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
         'Upload the data of an image.', 'PUT', IMAGE + '/file'),
    rule('download_image', '%s or (role:member and (%s))' % (ADMIN, VISIBLE),
         'Download the data of an image.', 'GET', IMAGE + '/file'),
    rule('deactivate', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
         'Deactivate an image.', 'POST', IMAGE + '/actions/deactivate'),
    rule('reactivate', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
         'Reactivate an image.', 'POST', IMAGE + '/actions/reactivate'),
    rule('get_image_location', '%s or (%s)' % (ADMIN, READER_OF_OWNER),
         'See the locations of an image.', 'GET', IMAGE),
    rule('set_image_location', '%s or (%s)' % (ADMIN, MEMBER_OF_OWNER),
         'Change the locations of an image.', 'PATCH', IMAGE),
    rule('delete_image_location', ADMIN,
         'Remove a location of an image.', 'PATCH', IMAGE),
    # The v2.17 location calls (POST/GET /v2/images/{id}/locations).
    rule('add_image_location',
         'rule:service_api or (%s and project_id:%%(owner)s)'
         % MEMBER_OF_OWNER,
         'Add a location to a queued image.', 'POST',
         IMAGE + '/locations'),
    rule('fetch_image_location', 'rule:service_api',
         'List the locations of an image.', 'GET', IMAGE + '/locations'),
]
