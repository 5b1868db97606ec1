"""The Python twin of qworker's built-in demo tasks.

Interop tests and the demo run this app with a real Celery 5.7 worker (or use it as a client), so
a task sent by either side can run on either side. Configuration comes from the environment:
CELERY_BROKER_URL, CELERY_RESULT_BACKEND (defaults to the broker), CELERY_TASK_DEFAULT_QUEUE.
"""
import os
import time

from celery import Celery

broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
app = Celery("demoapp", broker=broker, backend=os.environ.get("CELERY_RESULT_BACKEND", broker))
app.conf.update(
    task_default_queue=os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery"),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)

_flaky_counts = {}


@app.task(name="demo.add")
def add(x, y):
    return x + y


@app.task(name="demo.mul")
def mul(x, y):
    return x * y


@app.task(name="demo.tsum")
def tsum(nums):
    """Celery's usual chord callback."""
    return sum(nums)


@app.task(name="demo.echo")
def echo(value):
    return value


@app.task(name="demo.noop")
def noop(*args, **kwargs):
    """Takes anything, returns None: the benchmark's task (qbench)."""
    return None


@app.task(name="demo.sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name="demo.fail")
def fail(message):
    raise ValueError(message)


@app.task(name="demo.flaky")
def flaky(key, failures):
    n = _flaky_counts.get(key, 0)
    _flaky_counts[key] = n + 1
    if n < failures:
        raise RuntimeError(f"flaky {key}: failure {n + 1} of {failures}")
    return n + 1


@app.task(name="demo.spin")
def spin(seconds):
    """CPU-bound, never yields: only a hard time limit or a terminate stops it early."""
    end = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < end:
        rounds += 1
    return rounds


@app.task(name="demo.crash")
def crash():
    """Kills the pool process running it (SIGABRT): the worker records WorkerLostError."""
    os.abort()


@app.task(name="demo.log_error")
def log_error(task_id):
    """An old-style errback: gets the failed task's id."""
    return f"errback for {task_id}"


@app.task(name="demo.on_error")
def on_error(request, exc, traceback):
    """A new-style errback: called in-process by the worker whose task failed."""
    print(f"demo.on_error: task {request.id} raised {exc!r}", flush=True)


@app.task(name="demo.replaced_by_mul", bind=True)
def replaced_by_mul(self, x, y):
    """Replaces itself with demo.mul(x, y) (Celery's self.replace)."""
    raise self.replace(mul.s(x, y))
