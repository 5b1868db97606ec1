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


def scenario_kwargs():
    """Typed Swift tasks called the ways Python calls a task: by keyword, mixed, and wrongly."""
    calls = [
        ("add_kwargs", "demo.add", (), {"y": 40, "x": 2}),
        ("add_mixed", "demo.add", (2,), {"y": 40}),
        ("flaky_kwargs", "demo.flaky", (), {"failures": 0, "key": "kw"}),
        ("tsum_list", "demo.tsum", ([1, 2, 3.5],), {}),
        ("tsum_kwargs", "demo.tsum", (), {"nums": [4, 5]}),
        ("too_many", "demo.add", (1, 2, 3), {}),
        ("missing", "demo.add", (), {"x": 1}),
        ("unexpected", "demo.add", (1, 2), {"z": 3}),
        ("twice", "demo.add", (1,), {"x": 2}),
    ]
    for label, name, args, kwargs in calls:
        yield {"label": label, **send_and_get(name, args, kwargs)}


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


def scenario_demo():
    """The demo's Python side of the load: a mix of tasks, printed as they finish."""
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    calls = []
    for i in range(rounds):
        calls.append((f"demo.add({i}, 2)", "demo.add", (i, 2)))
        calls.append((f"demo.echo(['py', {i}])", "demo.echo", (["py", i],)))
        if i % 3 == 1:
            calls.append((f"demo.fail('py round {i}')", "demo.fail", (f"py round {i}",)))
        if i % 4 == 1:
            calls.append(("demo.flaky('k', 0)", "demo.flaky", (f"py{i}", 0)))
    sent = [(label, app.send_task(name, args=list(args))) for label, name, args in calls]
    for label, r in sent:
        try:
            detail = repr(r.get(timeout=60))
        except Exception as e:
            detail = f"{type(e).__name__}({', '.join(repr(a) for a in e.args)})"
        print(f"python client {r.state:<8}  {label} -> {detail}", flush=True)
    return iter(())


if __name__ == "__main__":
    for line in globals()["scenario_" + sys.argv[1]]():
        print(json.dumps(line), flush=True)
