"""The request body plumbing of glance/common/wsgi.py."""
import io

import pytest

from glance.common import wsgi


def chunked_file(chunks):
    """A body file over chunks, as Request reads uwsgi's chunked input."""
    chunks = iter(chunks)
    return io.BufferedReader(wsgi.ChunkedInput(lambda: next(chunks, b'')))


def test_chunked_input_reads_whole_sizes_across_chunks():
    body = chunked_file([b'ab', b'c', b'defgh', b'ij'])
    assert body.read(4) == b'abcd'
    assert body.read(5) == b'efghi'
    assert body.read(5) == b'j'
    assert body.read(5) == b''


def test_chunked_input_reads_to_the_end():
    body = chunked_file([b'x' * 70000, b'y' * 5])
    assert body.read() == b'x' * 70000 + b'y' * 5


def test_chunked_input_passes_on_a_broken_body():
    def read_chunk():
        raise OSError('unable to receive chunked part')

    with pytest.raises(OSError, match='chunked part'):
        io.BufferedReader(wsgi.ChunkedInput(read_chunk)).read(10)
