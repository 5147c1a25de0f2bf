"""CPU per GB of an upload's hashing, on one thread and on two.

    python bench/hash_cost.py [--size-mib 64] [--rounds 3]

md5 and sha512 of the same data in 4 MiB chunks: both on one thread
(as upstream Glance hashes), then each on a thread of its own at the
same time (as this service does), in alternating order. Prints one JSON
document: per way, the median and range of CPU seconds and wall seconds
per GB. Where two threads cost much more CPU per GB than one, the two
virtual CPUs share a physical core on the host (or are otherwise slowed
by running together), and spreading an upload's stages over both cores
buys throughput with CPU.
"""
import argparse
import hashlib
import json
import os
import resource
import statistics
import threading
import time

CHUNK = 4 * 1024 * 1024


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def hash_all(names, view):
    hashes = [hashlib.new(name) for name in names]
    for offset in range(0, len(view), CHUNK):
        for one in hashes:
            one.update(view[offset:offset + CHUNK])


def one_thread(view):
    hash_all(('md5', 'sha512'), view)


def two_threads(view):
    threads = [threading.Thread(target=hash_all, args=((name,), view))
               for name in ('md5', 'sha512')]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=64)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args()
    view = memoryview(os.urandom(args.size_mib * 1024 * 1024))
    gigabytes = len(view) / 1e9
    ways = {'one_thread': one_thread, 'two_threads': two_threads}
    samples = {name: [] for name in ways}
    for number in range(args.rounds):
        order = list(ways) if number % 2 == 0 else list(ways)[::-1]
        for name in order:
            cpu, started = cpu_seconds(), time.perf_counter()
            ways[name](view)
            samples[name].append(
                ((cpu_seconds() - cpu) / gigabytes,
                 (time.perf_counter() - started) / gigabytes))
    report = {'size_mib': args.size_mib, 'load': os.getloadavg()[0]}
    for name, values in samples.items():
        report[name] = {}
        for index, key in enumerate(('cpu_s_per_GB', 'wall_s_per_GB')):
            figures = [value[index] for value in values]
            report[name][key] = [round(statistics.median(figures), 2),
                                 round(min(figures), 2),
                                 round(max(figures), 2)]
    print(json.dumps(report, indent=1))


if __name__ == '__main__':
    main()
