"""Runs the canvas workflows of issue #14 against a live Celery 5.7.0 worker and records, per step,
which task/group id plays which role, so extract.py can cut fixtures out of the MONITOR log.

Every step is framed by ECHO '=== MARK: <step> ===' and ECHO '=== MARK: <step> end ===' on the
capture Redis, so the MONITOR log shows where it starts and ends. Usage:
    python canvas_client.py steps.json [step ...]      (no step names: all steps)
"""
import json
import os
import sys
import time

import redis
from celery import chain, chord, group
from celery.result import AsyncResult, GroupResult

from wireapp import (PORT, add, app, count_body, fail_with, log_err_new, log_err_old, mul,
                     replacer, retry_once, tsum)

r = redis.Redis(host='127.0.0.1', port=PORT)
out_path = sys.argv[1]
wanted = sys.argv[2:]
record = {}
SETTLE = 1.0  # lets the last metas, errbacks and cleanups land before the end mark


def step(name, only_when_named=False):
    def wrap(fn):
        if (wanted and name not in wanted) or (only_when_named and name not in wanted):
            return fn
        r.echo('=== MARK: %s ===' % name)
        print('=== %s' % name, flush=True)
        roles, notes = {}, {}
        fn(roles, notes)
        time.sleep(SETTLE)
        r.echo('=== MARK: %s end ===' % name)
        record[name] = {'roles': roles, 'notes': notes, 'source': fn.__doc__.strip()}
        print('    roles', roles, flush=True)
        print('    notes', notes, flush=True)
        return fn
    return wrap


def failed(res, timeout=10):
    try:
        res.get(timeout=timeout)
    except Exception as e:  # the exception the client sees
        return '%s: %s' % (type(e).__name__, e)
    return 'no exception'


def wait_state(task_id, states=('SUCCESS', 'FAILURE'), timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        s = AsyncResult(task_id, app=app).state
        if s in states:
            return s
        time.sleep(0.05)
    return AsyncResult(task_id, app=app).state


@step('chain3')
def _(roles, notes):
    """res = chain(add.s(1, 2), mul.s(10), add.s(5)).apply_async(); res.get(timeout=10)"""
    res = chain(add.s(1, 2), mul.s(10), add.s(5)).apply_async()
    notes['get'] = res.get(timeout=10)
    roles.update(step1=res.parent.parent.id, step2=res.parent.id, step3=res.id)


@step('chain_si')
def _(roles, notes):
    """res = chain(add.s(1, 2), mul.si(3, 4), add.s(1)).apply_async(); res.get(timeout=10)"""
    res = chain(add.s(1, 2), mul.si(3, 4), add.s(1)).apply_async()
    notes['get'] = res.get(timeout=10)
    roles.update(step1=res.parent.parent.id, step2_si=res.parent.id, step3=res.id)


@step('link_one')
def _(roles, notes):
    """res = add.apply_async((2, 2), link=mul.s(10)); res.get(timeout=10)"""
    res = add.apply_async((2, 2), link=mul.s(10))
    notes['get'] = res.get(timeout=10)
    time.sleep(0.5)
    cb = res.children[0]
    notes['callback get'] = cb.get(timeout=10)
    roles.update(parent=res.id, callback=cb.id)


@step('link_two')
def _(roles, notes):
    """res = add.apply_async((2, 2), link=[mul.s(10), mul.s(100)]); res.get(timeout=10)"""
    res = add.apply_async((2, 2), link=[mul.s(10), mul.s(100)])
    notes['get'] = res.get(timeout=10)
    time.sleep(0.5)
    kids = res.children
    notes['children'] = repr(kids)
    roles['parent'] = res.id
    if len(kids) == 1 and isinstance(kids[0], GroupResult):
        roles['callback_group'] = kids[0].id
        for i, cb in enumerate(kids[0].results):
            notes['callback%d get' % i] = cb.get(timeout=10)
            roles['callback%d' % i] = cb.id
    else:
        for i, cb in enumerate(kids):
            notes['callback%d get' % i] = cb.get(timeout=10)
            roles['callback%d' % i] = cb.id


@step('errback_old')
def _(roles, notes):
    """res = fail_with.apply_async(('boom old',), link_error=log_err_old.s()); res.get(timeout=10)"""
    res = fail_with.apply_async(('boom old',), link_error=log_err_old.s())
    notes['get'] = failed(res)
    time.sleep(0.5)
    roles['failed'] = res.id
    notes['errback key'] = repr(r.get('capture:log_err_old:%s' % res.id))


@step('errback_new')
def _(roles, notes):
    """res = fail_with.apply_async(('boom new',), link_error=log_err_new.s()); res.get(timeout=10)"""
    res = fail_with.apply_async(('boom new',), link_error=log_err_new.s())
    notes['get'] = failed(res)
    time.sleep(0.5)
    roles['failed'] = res.id
    notes['errback key'] = repr(r.get('capture:log_err_new:%s' % res.id))


@step('chord3')
def _(roles, notes):
    """res = chord([add.s(i, i) for i in range(3)], tsum.s())(); res.get(timeout=10)"""
    res = chord([add.s(i, i) for i in range(3)], tsum.s())()
    notes['get'] = res.get(timeout=10)
    roles['body'] = res.id
    roles['header_group'] = res.parent.id
    notes['parent'] = repr(res.parent)


@step('chord_fail')
def _(roles, notes):
    """res = chord([add.s(1, 1), fail_with.s('boom chord'), add.s(2, 2)], tsum.s())(); res.get(timeout=10)"""
    res = chord([add.s(1, 1), fail_with.s('boom chord'), add.s(2, 2)], tsum.s())()
    notes['get'] = failed(res)
    roles['body'] = res.id
    roles['header_group'] = res.parent.id


@step('chain_fail')
def _(roles, notes):
    """res = chain(add.s(1, 1), fail_with.si('boom chain'), mul.s(2), add.s(3)).apply_async(link_error=log_err_old.s()); res.get(timeout=10)"""
    res = chain(add.s(1, 1), fail_with.si('boom chain'), mul.s(2), add.s(3)).apply_async(
        link_error=log_err_old.s())
    notes['get'] = failed(res)
    time.sleep(0.5)
    roles.update(step1=res.parent.parent.parent.id, step2_fails=res.parent.parent.id,
                 step3=res.parent.id, step4=res.id)
    notes['states'] = [AsyncResult(i, app=app).state for i in
                       (roles['step1'], roles['step2_fails'], roles['step3'], roles['step4'])]


@step('starmap')
def _(roles, notes):
    """res = add.starmap([(1, 2), (3, 4)]).apply_async(); res.get(timeout=10)"""
    res = add.starmap([(1, 2), (3, 4)]).apply_async()
    notes['get'] = res.get(timeout=10)
    roles['starmap'] = res.id


@step('map')
def _(roles, notes):
    """res = tsum.map([[1, 2], [3, 4]]).apply_async(); res.get(timeout=10)"""
    res = tsum.map([[1, 2], [3, 4]]).apply_async()
    notes['get'] = res.get(timeout=10)
    roles['map'] = res.id


@step('chunks')
def _(roles, notes):
    """res = add.chunks(zip(range(4), range(4)), 2)(); res.get(timeout=10)"""
    res = add.chunks(zip(range(4), range(4)), 2)()
    notes['get'] = res.get(timeout=10)
    notes['result type'] = type(res).__name__
    roles['group'] = res.id
    for i, m in enumerate(res.results):
        roles['chunk%d' % i] = m.id


@step('chain_then_group')
def _(roles, notes):
    """res = chain(add.s(1, 1), group(mul.s(10), mul.s(100))).apply_async(); res.get(timeout=10)"""
    res = chain(add.s(1, 1), group(mul.s(10), mul.s(100))).apply_async()
    notes['result type'] = type(res).__name__
    notes['get'] = res.get(timeout=10)
    roles['group'] = res.id
    for i, m in enumerate(res.results):
        roles['member%d' % i] = m.id
    roles['first'] = res.parent.id if res.parent is not None else None
    if roles['first'] is None:
        del roles['first']


@step('chain_then_chord')
def _(roles, notes):
    """res = chain(add.s(1, 1), chord([mul.s(10), mul.s(100)], tsum.s())).apply_async(); res.get(timeout=10)"""
    res = chain(add.s(1, 1), chord([mul.s(10), mul.s(100)], tsum.s())).apply_async()
    notes['get'] = res.get(timeout=10)
    roles['body'] = res.id
    notes['parent'] = repr(res.parent)
    roles['header_group'] = res.parent.id
    # The first step's id is the header members' parent_id (their metas carry it).
    roles['first'] = app.backend.get_task_meta(res.parent.results[0].id)['parent_id']


@step('groupresult_save')
def _(roles, notes):
    """g = group(add.s(1, 1), add.s(2, 2)).apply_async(); g.get(timeout=10); g.save(); GroupResult.restore(g.id)"""
    g = group(add.s(1, 1), add.s(2, 2)).apply_async()
    notes['get'] = g.get(timeout=10)
    r.echo('=== MARK: groupresult_save save() ===')
    g.save()
    r.echo('=== MARK: groupresult_save restore() ===')
    back = GroupResult.restore(g.id, app=app)
    notes['restored'] = repr(back)
    notes['restored ids equal'] = [x.id for x in back.results] == [x.id for x in g.results]
    roles['group'] = g.id
    roles['member0'], roles['member1'] = g.results[0].id, g.results[1].id


@step('chord_retry')
def _(roles, notes):
    """res = chord([add.s(1, 1), retry_once.s(5), add.s(2, 2)], tsum.s())(); res.get(timeout=15)"""
    res = chord([add.s(1, 1), retry_once.s(5), add.s(2, 2)], tsum.s())()
    notes['get'] = res.get(timeout=15)
    roles['body'] = res.id
    roles['header_group'] = res.parent.id


@step('replace')
def _(roles, notes):
    """res = replacer.delay(3); res.get(timeout=10)"""
    res = replacer.delay(3)
    notes['get'] = res.get(timeout=10)
    roles['replaced'] = res.id


@step('replace_in_chain')
def _(roles, notes):
    """res = chain(replacer.s(3), add.s(1)).apply_async(); res.get(timeout=10)"""
    res = chain(replacer.s(3), add.s(1)).apply_async()
    notes['get'] = res.get(timeout=10)
    roles['replaced'] = res.parent.id
    roles['step2'] = res.id


@step('chord_chain_body')
def _(roles, notes):
    """res = chord([add.s(1, 1), add.s(2, 2)], chain(tsum.s(), mul.s(10)))(); res.get(timeout=10)"""
    res = chord([add.s(1, 1), add.s(2, 2)], chain(tsum.s(), mul.s(10)))()
    notes['get'] = res.get(timeout=10)
    roles['body_last'] = res.id
    notes['parent'] = repr(res.parent)
    roles['header_group'] = res.parent.id
    # The body chain's first step is the last step's parent (its meta carries parent_id).
    roles['body_first'] = app.backend.get_task_meta(res.id)['parent_id']


@step('chord_unordered', only_when_named=True)
def _(roles, notes):
    """(worker started with CAPTURE_CHORD_UNORDERED=1) res = chord([add.s(i, i) for i in range(3)], count_body.s())(); res.get(timeout=10)"""
    r.delete('capture:count_body')
    res = chord([add.s(i, i) for i in range(3)], count_body.s())()
    notes['get'] = res.get(timeout=10)
    roles['body'] = res.id
    roles['header_group'] = res.parent.id
    notes['count_body key'] = int(r.get('capture:count_body'))


prev = {}
if os.path.exists(out_path):
    prev = json.load(open(out_path))
prev.update(record)
json.dump(prev, open(out_path, 'w'), indent=1)
