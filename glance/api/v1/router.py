"""Routes of the classic Image API v1 (served when enable_v1_api is on).

The paths and methods are upstream's v1 (last served by Queens); any
other method on a known path gets 405 with an Allow header.
"""
from glance.api.v1 import images
from glance.api.v1 import members
from glance.common import wsgi


class API(wsgi.Router):
    """The /v1 application."""

    def __init__(self, mapper):
        connect = self.connect_methods
        self.redirect_to_slash(mapper)

        images_resource = images.create_resource()
        connect(mapper, '/', images_resource, {'GET': 'index'})
        connect(mapper, '/images', images_resource,
                {'GET': 'index', 'POST': 'create'})
        # Before /images/{image_id}, which would take "detail" for an id.
        connect(mapper, '/images/detail', images_resource,
                {'GET': 'detail', 'HEAD': 'detail'})
        connect(mapper, '/images/{image_id}', images_resource,
                {'GET': 'show', 'HEAD': 'meta', 'PUT': 'update',
                 'DELETE': 'delete'})

        members_resource = members.create_resource()
        connect(mapper, '/images/{image_id}/members', members_resource,
                {'GET': 'index', 'PUT': 'update_all'})
        connect(mapper, '/images/{image_id}/members/{member_id}',
                members_resource,
                {'GET': 'show', 'PUT': 'update', 'DELETE': 'delete'})
        connect(mapper, '/shared-images/{member_id}', members_resource,
                {'GET': 'shared_images'})

        super().__init__(mapper)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls(wsgi.APIMapper())
