"""The Celery app the canvas fixtures were captured with (Celery 5.7.0, kombu 5.7.0).

Started from the capture app the samples in Tests/Fixtures/celery-wire/samples were made with
(same settings, so the messages look like those samples), plus the canvas tasks of issue #14. The
Redis port comes from CAPTURE_REDIS_PORT, so the capture never touches a system Redis on 6379.
"""
import os
import time

import redis
from celery import Celery

PORT = int(os.environ.get('CAPTURE_REDIS_PORT', '6390'))
URL = 'redis://127.0.0.1:%d/0' % PORT

app = Celery('wireapp', broker=URL, backend=URL)
app.conf.update(
    task_send_sent_event=True,
    worker_send_task_events=True,
    task_track_started=True,
    result_extended=False,
    broker_connection_retry_on_startup=True,
)
if os.environ.get('CAPTURE_CHORD_UNORDERED'):
    # result_chord_ordered is read by the worker that returns the chord part (RPUSH/LLEN/LRANGE).
    app.conf.result_backend_transport_options = {'result_chord_ordered': False}

_kv = redis.Redis(host='127.0.0.1', port=PORT)


@app.task
def add(x, y):
    return x + y


@app.task
def mul(x, y):
    return x * y


@app.task
def tsum(nums):
    return sum(nums)


@app.task
def fail_with(msg):
    raise ValueError(msg)


@app.task
def log_err_old(task_id):
    # One parameter: Celery sends it as an old-style errback message with args [failed_id].
    _kv.set('capture:log_err_old:%s' % task_id, repr(task_id))
    return task_id


@app.task
def log_err_new(request, exc, traceback):
    # Three parameters: Celery calls it in-process in the failing task's worker (no message).
    _kv.set('capture:log_err_new:%s' % request.id,
            'request.id=%s exc=%r traceback_is_str=%s' % (request.id, exc, isinstance(traceback, str)))


@app.task(bind=True)
def replacer(self, x):
    raise self.replace(mul.s(x, 10))


@app.task
def count_body(results):
    return _kv.incr('capture:count_body')


@app.task(bind=True)
def retry_once(self, x):
    # Retries on its first run only, so a chord member ends twice (RETRY, then SUCCESS).
    if self.request.retries == 0:
        raise self.retry(exc=KeyError('once'), countdown=0.3)
    return x
