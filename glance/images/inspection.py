"""Disk format inspection of image data while it streams.

oslo.utils' format inspectors look at the chunks as they pass on their
way to the store (the same pass that hashes them: see
data.HashingLimitedStream), keeping only the few headers they need.
Once the data is all stored, `Inspection.verdict()` applies upstream's
rules: the data must be what its disk_format says, and pass the safety
checks of the format it is (a qcow2 with a backing or data file, a VMDK
whose descriptor points elsewhere, a GPT disk with a bad MBR... are
refused). Every path that writes image data into a store (upload,
imports) inspects it the same way: `for_image()`, then `wrap()` the
chunks, then `verdict()`.
"""
import logging

from oslo_config import cfg
from oslo_utils.imageutils import format_inspector

from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

image_format_opts = [
    cfg.ListOpt('vmdk_allowed_types',
                default=['streamOptimized', 'monolithicSparse'],
                help='VMDK create types (createType) allowed. Only the '
                     'conversion of images reads this option: the '
                     'inspection of uploaded data allows only '
                     'streamOptimized and monolithicSparse.'),
    cfg.BoolOpt('require_image_format_match', default=True,
                help='Refuse image data that is not of the format its '
                     'disk_format says (or whose format cannot be '
                     'determined). When False, such data is accepted '
                     'without a virtual_size; safety check failures are '
                     'refused either way.'),
    cfg.ListOpt('gpt_safety_checks_nonfatal', default=[],
                help='Names of the safety checks that do not refuse data '
                     'found to be a GPT disk (the one GPT check is '
                     '"mbr": the protective MBR must be sane).'),
]
CONF.register_opts(image_format_opts, group='image_format')


def list_opts():
    return [('image_format', image_format_opts)]


class InvalidImageData(exception.UnsupportedMediaType):
    """Image data refused by its inspection (415 on PUT /file)."""
    message = 'Image data is invalid.'

    def __init__(self, message):
        # Worded as the detail under webob's 415 explanation, as upstream.
        super().__init__(message, as_detail=True)


def for_image(image):
    """The Inspection of the data of `image`, or None when its data is
    not inspected: as upstream, only the data of 'bare' images is (in
    any other container the disk is not at the start of the data)."""
    if image['container_format'] != 'bare':
        return None
    return Inspection(image['disk_format'])


# The inspectors find some headers through others (VHDX: its region
# table, then the metadata, then the disk size), one level per piece they
# are fed: fed in the pieces upstream's stores write (64 KiB), they find
# them all. Once every inspector has decided, they are fed no more, as
# oslo.utils' own detect_file_format stops reading: past that point they
# would only count bytes, at about 20 us a chunk (1.4 s of CPU per GiB
# of 64 KiB chunks, measured: more than the hashing). A format that
# decides only at the end (a VMDK with its footer there) is fed to the
# end: in pieces over the first FINE_BYTES, in whole chunks after.
PIECE_SIZE = 64 * 1024
FINE_BYTES = 32 * 1024 * 1024


class _Piece:
    """The source of an InspectWrapper that is handed the bytes."""
    piece = b''

    def read(self, size):
        return self.piece


def _sized_by_its_bytes(inspector):
    """Whether the format has no size of its own (raw, gpt): its virtual
    size is the count of bytes it was fed."""
    return type(inspector).virtual_size is \
        format_inspector.FileInspector.virtual_size


class Inspection:
    """The inspection of one image's data, for its disk_format."""

    def __init__(self, disk_format):
        self.disk_format = disk_format
        self.source = _Piece()
        self.wrapper = format_inspector.InspectWrapper(self.source)
        self.decided = False
        self.size = 0  # bytes that passed (fed to the inspectors or not)

    def wrap(self, chunks):
        """`chunks` (an iterable of bytes), passing through the
        inspectors on their way."""
        for chunk in chunks:
            if not self.decided:
                if self.size < FINE_BYTES:
                    for start in range(0, len(chunk), PIECE_SIZE):
                        self._feed(chunk[start:start + PIECE_SIZE])
                else:
                    self._feed(chunk)
                self.decided = self.wrapper.formats is not None
            self.size += len(chunk)
            yield chunk
        self.wrapper.close()  # the end: inspectors waiting for it decide

    def _feed(self, piece):
        self.source.piece = piece
        self.wrapper.read(len(piece))

    def verdict(self):
        """The virtual size of the data once it has all passed (None when
        unknown), or InvalidImageData saying why the data is refused."""
        try:
            inspector, virtual_size = self._matching_inspector()
            inspector.safety_check()
        except format_inspector.SafetyCheckFailed as error:
            fatal = set(error.failures) - set(
                CONF.image_format.gpt_safety_checks_nonfatal)
            if self.disk_format in ('aki', 'ari'):
                # Kernels and ramdisks may carry a deliberately broken MBR.
                fatal.discard('mbr')
            if inspector.NAME == 'gpt' and not fatal:
                LOG.warning('Non-fatal %s', error)
                return virtual_size or None
            reasons = '; '.join('%s: %s' % (name, error.failures[name])
                                for name in sorted(error.failures))
            LOG.warning('Image %s %s', inspector, error)
            # Beyond upstream: which checks failed, and why.
            raise InvalidImageData('Image failed safety checks (%s)'
                                   % reasons)
        except format_inspector.ImageFormatError as error:
            # A mismatch, several formats at once, or an incomplete file.
            if CONF.image_format.require_image_format_match:
                raise InvalidImageData(str(error))
            LOG.warning('Image format %s did not match; unable to calculate '
                        'virtual size', self.disk_format)
            return None
        except Exception as error:
            LOG.error('Unable to determine stream format because: %s', error)
            if CONF.image_format.require_image_format_match:
                raise InvalidImageData(
                    'Image format inspection failed: %s' % error)
            return None
        return virtual_size or None

    def _matching_inspector(self):
        """(inspector, virtual size) of the detected format under the
        disk_format rules; ImageFormatError if it does not fit."""
        matches = {str(i): i for i in self.wrapper.formats}
        if matches.keys() == {'iso', 'gpt'}:
            # A bootable ISO has a GPT boot loader in front: an ISO.
            inspector = matches['iso']
        else:
            # Any other several formats at once raise here.
            inspector = self.wrapper.format
        detected = str(inspector)
        if detected == self.disk_format:
            if _sized_by_its_bytes(inspector):
                return inspector, self.size
            return inspector, inspector.virtual_size
        if detected == 'raw' \
                and self.disk_format not in format_inspector.ALL_FORMATS:
            # ami, aki, ari, ploop...: nothing to recognise them by.
            return inspector, None
        if self.disk_format == 'raw':
            # Taken as raw bytes (the detected format's checks still run).
            LOG.warning('Image claims %r disk_format but is actually %r',
                        self.disk_format, detected)
            return inspector, self.size
        raise format_inspector.ImageFormatError(
            'Image disk_format %s does not match stream data %s'
            % (self.disk_format, detected))
