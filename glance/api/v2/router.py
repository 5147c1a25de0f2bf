"""Routes of the Image API v2."""
from glance.api.v2 import image_actions
from glance.api.v2 import image_data
from glance.api.v2 import image_members
from glance.api.v2 import image_tags
from glance.api.v2 import images
from glance.api.v2 import info
from glance.api.v2 import schemas
from glance.api.v2 import stores
from glance.api.v2 import tasks
from glance.common import wsgi


class SchemasController:

    def __init__(self, schemas):
        self.schemas = schemas

    def image(self, request):
        return self.schemas.image.document()

    def images(self, request):
        return self.schemas.images.document()

    def member(self, request):
        return self.schemas.member.document()

    def members(self, request):
        return self.schemas.members.document()

    def task(self, request):
        return self.schemas.task.document()

    def tasks(self, request):
        return self.schemas.tasks.document()


class API(wsgi.Router):
    """The /v2 application."""

    def __init__(self, mapper):
        all_schemas = schemas.Schemas()
        connect = self.connect_methods
        self.redirect_to_slash(mapper)

        schemas_resource = wsgi.Resource(SchemasController(all_schemas))
        for name in ('image', 'images', 'member', 'members', 'task',
                     'tasks'):
            connect(mapper, '/schemas/' + name, schemas_resource,
                    {'GET': name})

        images_resource = images.create_resource(all_schemas)
        connect(mapper, '/images', images_resource,
                {'GET': 'index', 'POST': 'create'})
        connect(mapper, '/images/{image_id}', images_resource,
                {'GET': 'show', 'PATCH': 'update', 'DELETE': 'delete'})

        data_resource = image_data.create_resource()
        connect(mapper, '/images/{image_id}/file', data_resource,
                {'GET': 'download', 'PUT': 'upload'})

        actions_resource = image_actions.create_resource()
        for action in ('deactivate', 'reactivate'):
            connect(mapper, '/images/{image_id}/actions/' + action,
                    actions_resource, {'POST': action})

        tags_resource = image_tags.create_resource(all_schemas)
        connect(mapper, '/images/{image_id}/tags/{tag_value}', tags_resource,
                {'PUT': 'update', 'DELETE': 'delete'})

        members_resource = image_members.create_resource()
        connect(mapper, '/images/{image_id}/members', members_resource,
                {'GET': 'index', 'POST': 'create'})
        connect(mapper, '/images/{image_id}/members/{member_id}',
                members_resource,
                {'GET': 'show', 'PUT': 'update', 'DELETE': 'delete'})

        info_resource = info.create_resource()
        connect(mapper, '/info/stores', info_resource,
                {'GET': 'get_stores'})
        connect(mapper, '/info/stores/detail', info_resource,
                {'GET': 'get_stores_detail'})

        stores_resource = stores.create_resource()
        connect(mapper, '/stores/{store_id}/{image_id}', stores_resource,
                {'DELETE': 'delete_from_store'})

        tasks_resource = tasks.create_resource(all_schemas)
        connect(mapper, '/tasks', tasks_resource,
                {'GET': 'index', 'POST': 'create'})
        connect(mapper, '/tasks/{task_id}', tasks_resource,
                {'GET': 'show', 'DELETE': 'delete'})
        connect(mapper, '/images/{image_id}/tasks', tasks_resource,
                {'GET': 'image_tasks'})

        super().__init__(mapper)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls(wsgi.APIMapper())
