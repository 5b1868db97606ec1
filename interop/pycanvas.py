"""Celery 5.7 workflows built by a Python client, for interop tests: whichever workers consume
(Swift, Python or both) must give Celery's own results.

Usage: pycanvas.py <scenario> [args]; prints one JSON line per case.
"""
import json
import sys

import redis
from celery import chain, chord, group
from celery.exceptions import ChordError

from demoapp import add, app, fail, log_error, mul, on_error, replaced_by_mul, tsum

TIMEOUT = 30


def outcome(result):
    """The result's value, or its exception as type and args."""
    try:
        return {"value": result.get(timeout=TIMEOUT, propagate=True, disable_sync_subtasks=False)}
    except Exception as exc:  # noqa: BLE001 - any exception is the outcome
        return {"exc_type": type(exc).__name__, "exc_args": [str(a) for a in exc.args]}


def stored_results_equal(value):
    """Task ids whose stored SUCCESS result equals `value` (an errback's result, which no
    AsyncResult of the client names)."""
    r = redis.Redis.from_url(app.conf.result_backend)
    found = []
    for key in r.scan_iter("celery-task-meta-*"):
        meta = json.loads(r.get(key))
        if meta.get("status") == "SUCCESS" and meta.get("result") == value:
            found.append(meta["task_id"])
    return found


def scenario_chains():
    res = chain(add.s(2, 2), mul.s(10)).delay()
    out = outcome(res)
    parent = res.parent
    yield {"case": "chain", **out, "parent": parent.get(timeout=TIMEOUT),
           "parent_children": [c.id for c in (parent.children or [])], "id": res.id,
           "collect": [v for _, v in parent.collect(timeout=TIMEOUT)]}

    yield {"case": "chain3", **outcome(chain(add.s(1, 1), mul.s(3), add.s(4)).delay())}
    yield {"case": "chain_si", **outcome(chain(add.s(1, 1), add.si(5, 5), mul.s(2)).delay())}
    yield {"case": "chain_of_chains", **outcome(chain(chain(add.s(1, 2), mul.s(2)), chain(add.s(1), mul.s(10))).delay())}

    res = add.apply_async((2, 3), link=mul.s(10))
    value = res.get(timeout=TIMEOUT)
    child = res.children[0] if res.children else None
    yield {"case": "link", "value": value, "child": child.get(timeout=TIMEOUT) if child else None}

    res = add.apply_async((1, 1), link=[mul.s(10), mul.s(100)])
    res.get(timeout=TIMEOUT)
    children = res.children or []
    values = []
    for c in children:
        values.append(c.get(timeout=TIMEOUT))
    yield {"case": "link_two", "children": values}

    res = chain(add.s(1, 1), group(mul.s(2), mul.s(3))).delay()
    yield {"case": "chain_to_group", **outcome(res)}

    res = chain(add.s(1, 1), chord([mul.s(2), mul.s(3)], tsum.s())).delay()
    yield {"case": "chain_to_chord", **outcome(res)}

    res = replaced_by_mul.delay(6, 7)
    yield {"case": "replaced", **outcome(res), "id": res.id}
    yield {"case": "replaced_in_chain", **outcome(chain(replaced_by_mul.s(2, 3), add.s(4)).delay())}


def scenario_failures():
    res = chain(add.s(1, 1), fail.si("bad step"), mul.s(2)).apply_async(link_error=log_error.s())
    out = outcome(res)
    failed = res.parent
    yield {"case": "chain_fail", **out, "last_state": res.state, "failed_state": failed.state,
           "errback": stored_results_equal(f"errback for {failed.id}")}

    res = fail.apply_async(("boom old",), link_error=log_error.s())
    out = outcome(res)
    yield {"case": "errback_old", **out, "errback": stored_results_equal(f"errback for {res.id}"), "id": res.id}

    res = fail.apply_async(("boom new",), link_error=on_error.s())
    yield {"case": "errback_new", **outcome(res), "id": res.id}


def scenario_chords():
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    yield {"case": "chord", **outcome(chord([add.s(i, i) for i in range(n)], tsum.s()).delay())}

    res = chord([add.s(1, 1), fail.si("boom chord"), add.s(2, 2), fail.si("second")], tsum.s()).delay()
    first = outcome(res)
    # The body's own result, once it is stored: ChordError naming the first failing member in
    # header order (get() with propagate raises the member's error as soon as it fails).
    body = res.get(timeout=TIMEOUT, propagate=False)
    failing = res.parent.results[1].id
    yield {"case": "chord_fail", "first": first, "exc_type": type(body).__name__, "exc_args": [str(a) for a in body.args],
           "failing_id": failing, "state": res.state}

    yield {"case": "starmap", **outcome(add.starmap([(1, 2), (3, 4)]).delay())}
    yield {"case": "map", **outcome(tsum.map([[1, 2], [3, 4, 5]]).delay())}
    yield {"case": "chunks", **outcome(add.chunks(zip(range(10), range(10)), 5)())}


def scenario_many_chords():
    """`count` chords of `size` members; prints their results."""
    count, size = int(sys.argv[2]), int(sys.argv[3])
    results = [chord([add.s(i, j) for j in range(size)], tsum.s()).delay() for i in range(count)]
    yield {"case": "many_chords", "values": [r.get(timeout=120) for r in results],
           "expected": [sum(i + j for j in range(size)) for i in range(count)], "ids": [r.id for r in results]}


def scenario_restore_group():
    """A group saved by another client (Swift), restored as Celery's GroupResult."""
    from celery.result import GroupResult
    restored = GroupResult.restore(sys.argv[2], app=app)
    yield {"case": "restore_group", "ids": [r.id for r in restored.results], "values": restored.get(timeout=TIMEOUT)}


if __name__ == "__main__":
    for line in globals()["scenario_" + sys.argv[1]]():
        print(json.dumps(line), flush=True)
