"""Events per second that Celery's own monitor model ingests: celery.events.state.State fed
through EventReceiver's message handling, from a file of recorded pub/sub payloads.

Usage: py_monitor_ingest.py FILE RUNS
FILE holds one kombu envelope (the bytes PUBLISHed on /0.celeryev/...) per line, written by
qbench; the Swift side reads the same file. Each run starts a fresh State(max_tasks_in_memory=
100000, as qmon's default store) and times, for every message, what a receiver does: parse the
envelope, base64-decode and parse the body (one event or a task.multi list), then
EventReceiver._receive (clock, timestamp and local_received adjustment) -> State.event.
Prints {"events": N, "rates": [events/s per run]}.
"""
import base64
import json
import sys
import time

from _common import emit
from celery import Celery
from celery.events.receiver import EventReceiver
from celery.events.state import State

path, runs = sys.argv[1], int(sys.argv[2])
with open(path, "rb") as f:
    lines = [line for line in f.read().split(b"\n") if line]

app = Celery("bench", broker="redis://127.0.0.1:1/0")  # never connected: the receiver is fed by hand
rates = []
events = 0
for _ in range(runs):
    state = State(max_tasks_in_memory=100_000)
    receiver = EventReceiver(None, handlers={"*": state.event}, app=app)
    count = 0
    start = time.perf_counter()
    for line in lines:
        envelope = json.loads(line)
        body = json.loads(base64.b64decode(envelope["body"]))
        count += len(body) if isinstance(body, list) else 1
        receiver._receive(body, None)
    rates.append(count / (time.perf_counter() - start))
    events = count
emit(events=events, rates=rates, tasks=len(state.tasks))
