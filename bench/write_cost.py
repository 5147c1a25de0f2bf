"""What it costs to get an image's bytes onto the disk, pattern by pattern.

    python bench/write_cost.py [--dir DIR] [--size-mib 512] [--rounds 5]
                               [--keep]

Writes --size-mib in 4 MiB chunks (as an upload does) once per pattern
and round, the patterns in a new random order each round, and prints
one JSON document: per pattern, the median and range of the writing
process's CPU (user + system) per GB, of the kernel threads' CPU
(writeback workers, the journal) per GB, and of wall time per GB.

Patterns: the store's own writer (today's choice), one fsync at the
end, fdatasync, sync_file_range every 8/32/256 MiB then fsync, O_DIRECT
(filesystem_store_direct_io), and no sync at all (not durable: the
floor). Each file is deleted right after its write, so the next one
reuses the page cache just freed; --keep keeps a round's files until the
round ends, so that each write fills fresh memory, as the uploads of
bench-compare.sh do (on virtual machines whose host takes free memory
back, that costs more than the writeback: see bench/README.md).

CPU seconds are the steadier figure on a shared machine; wall time
includes waiting for a core.
"""
import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
from glance.store.drivers import filesystem  # noqa: E402

MiB = 1024 * 1024
CHUNK = 4 * MiB
TICK = os.sysconf('SC_CLK_TCK')


def kernel_threads_cpu():
    """CPU seconds of all kernel threads (children of kthreadd)."""
    total = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if fields[1] == '2':
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def chunks(size):
    block = os.urandom(CHUNK)
    for _ in range(size // CHUNK):
        yield bytes(block)  # a new buffer per chunk, as read off a socket


def synced(sync, window=0):
    def write(path, size):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        written = started = 0
        for chunk in chunks(size):
            os.write(fd, chunk)
            written += len(chunk)
            if window and written - started >= window:
                filesystem._sync_file_range(
                    fd, started, written - started,
                    filesystem.SYNC_FILE_RANGE_WRITE)
                started = written
        if sync:
            sync(fd)
        os.close(fd)
    return write


def store_writer(direct_io):
    def write(path, size):
        writer = filesystem._open_writer(path, direct_io)
        for chunk in chunks(size):
            writer.write(chunk)
        writer.finish()
        os.fsync(writer.fd)
        writer.close()
    return write


PATTERNS = {
    'store_writer': store_writer(False),
    'fsync': synced(os.fsync),
    'fdatasync': synced(os.fdatasync),
    'sfr_8MiB_fsync': synced(os.fsync, 8 * MiB),
    'sfr_32MiB_fsync': synced(os.fsync, 32 * MiB),
    'sfr_256MiB_fsync': synced(os.fsync, 256 * MiB),
    'direct_io_fsync': store_writer(True),
    'no_sync': synced(None),
}


def measure(write, path, size):
    threads_before = kernel_threads_cpu()
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    write(path, size)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    threads = kernel_threads_cpu() - threads_before
    gigabytes = size / 1e9
    return {
        'cpu': (after.ru_utime - before.ru_utime
                + after.ru_stime - before.ru_stime) / gigabytes,
        'system': (after.ru_stime - before.ru_stime) / gigabytes,
        'kernel_threads': threads / gigabytes,
        'wall': wall / gigabytes,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dir', help='where to write (default: a '
                        'temporary directory under the current one)')
    parser.add_argument('--size-mib', type=int, default=512)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--keep', action='store_true',
                        help="keep a round's files until it ends")
    parser.add_argument('--patterns', default=','.join(PATTERNS))
    args = parser.parse_args()
    names = args.patterns.split(',')
    size = args.size_mib * MiB // CHUNK * CHUNK
    directory = tempfile.mkdtemp(prefix='write-cost-', dir=args.dir or '.')
    samples = {name: [] for name in names}
    try:
        for number in range(args.rounds):
            order = random.sample(names, len(names))
            paths = []
            for name in order:
                path = os.path.join(directory, '%s.%d' % (name, number))
                samples[name].append(measure(PATTERNS[name], path, size))
                if args.keep:
                    paths.append(path)
                else:
                    os.unlink(path)
            for path in paths:
                os.unlink(path)
    finally:
        for name in os.listdir(directory):
            os.unlink(os.path.join(directory, name))
        os.rmdir(directory)
    report = {'size_mib': args.size_mib, 'rounds': args.rounds,
              'keep': args.keep, 'load': os.getloadavg()[0],
              'seconds_per_GB': {}}
    for name in names:
        figures = {}
        for key in ('cpu', 'system', 'kernel_threads', 'wall'):
            values = [sample[key] for sample in samples[name]]
            figures[key] = [round(statistics.median(values), 2),
                            round(min(values), 2), round(max(values), 2)]
        report['seconds_per_GB'][name] = figures
    print(json.dumps(report, indent=1))


if __name__ == '__main__':
    main()
