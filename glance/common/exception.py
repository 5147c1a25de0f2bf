"""The project's own exceptions.

Code below the API raises these; `glance.common.wsgi.HTTP_ERRORS` is the one
table that turns them into HTTP statuses.
"""


class GlanceException(Exception):
    """Base of every error the service reports to a client."""
    message = 'An unknown exception occurred'

    def __init__(self, message=None, as_detail=False, **kwargs):
        if message is None:
            message = self.message % kwargs if kwargs else self.message
        self.msg = message
        # Upstream words some errors as the detail under the status's
        # generic explanation; as_detail keeps that wording.
        self.as_detail = as_detail
        super().__init__(self.msg)

    def __str__(self):
        return self.msg


class BadRequest(GlanceException):
    message = 'The request is invalid.'


class Invalid(BadRequest):
    message = 'Data supplied was not valid.'


class NotAuthenticated(GlanceException):
    message = 'You are not authenticated.'


class Forbidden(GlanceException):
    message = 'You are not authorized to complete this action.'


class ReservedProperty(Forbidden):
    message = "Attribute '%(property)s' is reserved."


class ReadonlyProperty(Forbidden):
    message = "Attribute '%(property)s' is read-only."


class ProtectedImageDelete(Forbidden):
    message = 'Image %(image_id)s is protected and cannot be deleted.'


class ImageDeactivated(Forbidden):
    message = ('The requested image has been deactivated. Image data '
               'download is forbidden.')


class NotFound(GlanceException):
    message = 'An object with the specified identifier was not found.'


class ImageNotFound(NotFound):
    message = 'No image found with ID %(image_id)s'


class ImageDeleted(ImageNotFound):
    """The image was deleted (only admins find deleted images)."""
    message = 'Image %(image_id)s not found.'


class ImageNotActive(NotFound):
    """The image has no data to serve yet, or no longer has."""
    message = 'Image %(image_id)s is not active'


class MemberNotFound(NotFound):
    message = 'Member not found.'


class ImageDataNotFound(NotFound):
    message = 'Image data not found.'


class UnknownScheme(NotFound):
    message = "Unknown scheme '%(scheme)s' found in URI"


class Conflict(GlanceException):
    message = 'The request conflicts with the current state of the resource.'


class Duplicate(Conflict):
    message = 'An object with the same identifier already exists.'


class InvalidImageStatusTransition(Conflict):
    message = 'Image status transition from %(cur)s to %(new)s is not allowed'


class Gone(GlanceException):
    message = 'The resource is no longer available.'


class RequestEntityTooLarge(GlanceException):
    message = 'The request is too large.'


class ImageSizeLimitExceeded(RequestEntityTooLarge):
    message = 'The provided image is too large.'


class DeclaredSizeTooLarge(ImageSizeLimitExceeded):
    """The size a request declares passes image_size_cap: refused before
    anything else is done."""
    message = 'The declared size passes the largest image allowed.'


class StorageQuotaFull(RequestEntityTooLarge):
    message = ('The size of the data %(image_size)s will exceed the limit. '
               '%(remaining)s bytes remaining.')


class LimitExceeded(RequestEntityTooLarge):
    message = 'The request returned a 413 Request Entity Too Large.'


class UnsupportedMediaType(GlanceException):
    message = 'The media type of the request is not supported.'


class RangeNotSatisfiable(GlanceException):
    message = 'The requested range is not satisfiable.'


class StoreError(GlanceException):
    """A store could not do what was asked of it (a server-side fault)."""
    message = 'The image store failed.'


class StoreAddDisabled(Gone):
    # (Upstream's store says "Configuration for store failed. ..."; this
    # is what its API answers, 410.)
    message = ('Error in store configuration. Adding images to store is '
               'disabled.')


class StoreDeleteNotSupported(StoreError):
    message = 'Deleting images from this store is not supported.'


class StorageFull(RequestEntityTooLarge):
    message = 'There is not enough disk space on the image storage media.'


class StorageWriteDenied(StoreError):
    message = 'Permission to write image storage media denied.'


class StoreUnavailable(StoreError):
    message = 'The image store is unavailable.'


class BadStoreConfiguration(StoreError):
    message = ('Store %(store_name)s could not be configured correctly: '
               '%(reason)s')


class TaskNotFound(NotFound):
    message = 'Task with the given id %(task_id)s was not found'


class InvalidTaskStatusTransition(Conflict):
    message = 'Status transition from %(cur_status)s to %(new_status)s is ' \
              'not allowed'
