"""Enqueue rate of one Python Celery client: `demo.noop.delay()` in a loop.

Usage: py_enqueue.py COUNT RUNS   (CELERY_BROKER_URL, CELERY_RESULT_BACKEND set by qbench)
Prints {"rates": [tasks/s per run]}. Each run follows 100 unmeasured calls on the same app,
so connecting is not timed. Nothing consumes; qbench empties the queue afterwards.
"""
import sys
import time

from _common import emit
from demoapp import app, noop

count, runs = int(sys.argv[1]), int(sys.argv[2])
for _ in range(100):
    noop.delay()
rates = []
for _ in range(runs):
    start = time.perf_counter()
    for _ in range(count):
        noop.delay()
    rates.append(count / (time.perf_counter() - start))
emit(rates=rates)
