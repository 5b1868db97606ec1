"""Round-trip latency of `demo.noop.delay().get()` through a Python Celery worker.

Usage: py_roundtrip.py COUNT RUNS   (a worker consumes the same broker)
Prints {"p50_ms": [...], "p99_ms": [...]} with one value per run of COUNT calls, after 50
unmeasured calls (they also wait out the worker's start-up).
"""
import math
import sys
import time

from _common import emit
from demoapp import noop

count, runs = int(sys.argv[1]), int(sys.argv[2])
noop.delay().get(timeout=120)
for _ in range(49):
    noop.delay().get(timeout=30)


def percentile(values, q):
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


p50, p99 = [], []
for _ in range(runs):
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        noop.delay().get(timeout=30)
        latencies.append(time.perf_counter() - start)
    p50.append(percentile(latencies, 0.50) * 1000)
    p99.append(percentile(latencies, 0.99) * 1000)
emit(p50_ms=p50, p99_ms=p99)
