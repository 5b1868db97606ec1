"""A Python Celery client driven by the interop tests: one JSON object per line on stdout.

usage: pyclient.py SCENARIO   (broker from CELERY_BROKER_URL)
"""
import json
import sys

from celery.result import AsyncResult

from demoapp import app


def send_and_get(name, args=(), kwargs=None, timeout=20):
    r = app.send_task(name, args=list(args), kwargs=kwargs or {})
    try:
        value = r.get(timeout=timeout)
        return {"task": name, "id": r.id, "state": r.state, "result": value}
    except Exception as e:  # the failure path is what some scenarios check
        return {"task": name, "id": r.id, "state": r.state, "exc_type": type(e).__name__,
                "exc_args": [str(a) for a in e.args], "traceback": r.traceback}


def scenario_basic():
    nested = {"n": [1, 2.5, None, True, {"deep": ["é", "日本", "😀"]}], "big": 2**70 + 3, "neg": -(2**63) - 1,
              "f": 0.30000000000000004, "two": 2.0}
    yield send_and_get("demo.add", (2, 3))
    yield send_and_get("demo.mul", (6, 7))
    yield send_and_get("demo.echo", (nested,))
    yield send_and_get("demo.fail", ("boom: bad value",))
    yield send_and_get("demo.no_such_task", (1,))


def scenario_get():
    """Read results of ids given on argv (sent by a Swift client)."""
    for task_id in sys.argv[2:]:
        r = AsyncResult(task_id, app=app)
        try:
            yield {"id": task_id, "state": r.state, "result": r.get(timeout=20)}
        except Exception as e:
            yield {"id": task_id, "state": r.state, "exc_type": type(e).__name__, "exc_args": [str(a) for a in e.args]}


def scenario_delay_bulk():
    """Send many tasks from Python without waiting; print their ids."""
    count = int(sys.argv[2])
    ids = [app.send_task("demo.add", args=[i, i]).id for i in range(count)]
    yield {"ids": ids}


if __name__ == "__main__":
    for line in globals()["scenario_" + sys.argv[1]]():
        print(json.dumps(line), flush=True)
