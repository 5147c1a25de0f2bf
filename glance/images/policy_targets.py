"""What policy rules see of an image, and the checks every operation on
an image makes: may the caller see it, may it do this to it."""
from collections import abc

from glance.common import exception
from glance.common import policy


class ImageTarget(abc.Mapping):
    """What policy rules see of an image: its attributes and properties,
    `project_id` as the owner, and `member_id` as the caller's project when
    it sees another project's shared image as a member.

    Values are looked up when a rule asks for them, so that judging many
    images costs little more than the values the rules read.
    """

    HIDDEN = frozenset(['properties', 'tags', 'locations'])

    def __init__(self, context, image):
        self.project_id = context.project_id
        self.image = image

    def __getitem__(self, key):
        image = self.image
        if key == 'project_id':
            return image['owner']
        if key == 'member_id':
            shared_with_caller = (image['visibility'] == 'shared'
                                  and self.project_id != image['owner'])
            return self.project_id if shared_with_caller else None
        if key in image and key not in self.HIDDEN:
            return image[key]
        return image['properties'][key]

    def _keys(self):
        keys = dict.fromkeys(k for k in self.image if k not in self.HIDDEN)
        keys.update(dict.fromkeys(self.image['properties']))
        keys.update(dict.fromkeys(['project_id', 'member_id']))
        return keys

    def __iter__(self):
        return iter(self._keys())

    def __len__(self):
        return len(self._keys())


def policy_target(context, image):
    return ImageTarget(context, image)


def new_image_target(context, owner, visibility):
    return {'project_id': owner, 'owner': owner, 'visibility': visibility}


# Actions that change an image. Whatever their rules say, only an admin
# or the owning project may do them (upstream's database layer insists
# too): a rule written for projects never matches a project-less caller
# to an ownerless image.
CHANGES_IMAGE = frozenset(['modify_image', 'delete_image', 'upload_image',
                           'deactivate', 'reactivate', 'set_image_location',
                           'delete_image_location'])


def enforce_on_image(context, action, image):
    """Enforce a rule on an existing image.

    A caller who may not even see the image gets 404, as if it did not
    exist; one who may see it but not do this gets 403.
    """
    target = policy_target(context, image)
    if policy.check(context, action, target):
        if action in CHANGES_IMAGE and not context.is_admin and (
                image['owner'] is None
                or image['owner'] != context.project_id):
            raise exception.Forbidden('You do not own this image')
        return
    if action == 'get_image' or not policy.check(context, 'get_image',
                                                 target):
        raise exception.ImageNotFound(image_id=image['id'])
    policy.enforce(context, action, target)


def enforce_visibility(context, visibility, target):
    if visibility == 'public':
        policy.enforce(context, 'publicize_image', target)
    elif visibility == 'community':
        policy.enforce(context, 'communitize_image', target)


def can_see(context, image, is_member):
    """Whether the caller may see an image the database found.

    is_member: the caller's project is a member of the image (any status).
    An image without an owner is there for everyone (as upstream has
    it); the rules then decide what each caller may do with it.
    """
    if context.is_admin or image['owner'] == context.project_id:
        return True
    if image['owner'] is None:
        return True
    if image['visibility'] in ('public', 'community'):
        return True
    return image['visibility'] == 'shared' and is_member
