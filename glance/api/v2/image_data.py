"""v2 image data: PUT and GET /v2/images/{id}/file."""
import webob
import webob.byterange
import webob.exc

from glance.common import exception
from glance.common import wsgi
from glance.images import data


class RequestDeserializer(wsgi.Deserializer):

    def upload(self, request):
        if request.content_type != 'application/octet-stream':
            raise webob.exc.HTTPUnsupportedMediaType(
                detail='Invalid content type %s'
                       % (request.content_type or None))
        request.has_body()  # marks a chunked body readable
        size = request.headers.get('x-openstack-image-size')
        try:
            size = int(size) if size is not None else (
                request.content_length or None)
        except ValueError:
            raise webob.exc.HTTPBadRequest(
                explanation='Invalid or missing image size in request '
                            'headers.')
        # 0 declares nothing, as upstream
        return {'body_file': request.body_file, 'size': size or None,
                'backend': request.headers.get('x-image-meta-store')}


def requested_range(request, image_size):
    """(offset, length) of a Range (or legacy Content-Range) request
    header, or None for the whole image; 416 if it cannot be served."""
    header = request.headers.get('Range')
    if header is not None:
        if ',' in header:
            raise webob.exc.HTTPBadRequest(
                explanation='Requests with multiple ranges are not supported '
                            'in Glance. You may make multiple single-range '
                            'requests instead.')
        byte_range = webob.byterange.Range.parse(header)
        if byte_range is None:
            raise webob.exc.HTTPRequestRangeNotSatisfiable(
                'Invalid Range header.')
        if byte_range.start >= image_size:
            raise webob.exc.HTTPRequestRangeNotSatisfiable(
                'Invalid start position in Range header. Start position MUST '
                'be in the inclusive range [0, %s].' % (image_size - 1))
        start = byte_range.start
        if start < 0:  # suffix range: the last -start bytes
            start = max(image_size + start, 0)
        end = byte_range.end
        if end is None or end > image_size:
            end = image_size
        return start, end - start
    header = request.headers.get('Content-Range')
    if header is not None:
        content_range = webob.byterange.ContentRange.parse(header)
        if content_range is None:
            raise webob.exc.HTTPRequestRangeNotSatisfiable(
                'Invalid Content-Range header.')
        # (Whatever total length the header claims: upstream only checks
        # with "*", and otherwise promises bytes it does not have.)
        if content_range.stop > image_size:
            raise webob.exc.HTTPRequestRangeNotSatisfiable(
                'Invalid stop position in Content-Range header. The stop '
                'position MUST be in the inclusive range [0, %s].'
                % (image_size - 1))
        if content_range.start >= image_size:
            raise webob.exc.HTTPRequestRangeNotSatisfiable(
                'Invalid start position in Content-Range header. Start '
                'position MUST be in the inclusive range [0, %s].'
                % (image_size - 1))
        return content_range.start, content_range.stop - content_range.start
    return None


class ImageDataController:

    def upload(self, request, image_id, body_file, size, backend=None):
        data.upload(request.context, image_id, body_file, size,
                    backend=backend)

    def download(self, request, image_id):
        response = webob.Response(request=request)
        try:
            image, chunks, byte_range, _total = data.download(
                request.context, image_id,
                lambda size: requested_range(request, size))
        except exception.ImageDataNotFound:
            chunks = None
        if chunks is None:
            response.status_int = 204
            return response
        size = image['size'] or 0
        offset, length = byte_range or (0, size)
        response.content_type = 'application/octet-stream'
        response.charset = None
        response.app_iter = chunks
        if byte_range:
            response.status_int = 206
            response.headers['Content-Range'] = 'bytes %d-%d/%d' % (
                offset, offset + length - 1, size)
        if image['checksum']:
            response.headers['Content-MD5'] = image['checksum']
        response.content_length = length
        return response


class ResponseSerializer(wsgi.Serializer):

    def upload(self, response, result):
        response.status_int = 204


def create_resource():
    return wsgi.Resource(ImageDataController(), RequestDeserializer(),
                         ResponseSerializer())
