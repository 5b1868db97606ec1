"""Cuts the canvas fixtures out of one capture (run.sh's work dir) into Tests/Fixtures/celery-wire/canvas/.

Input:  <work>/monitor.log (redis-cli MONITOR), <work>/steps.json (canvas_client.py's role -> id map).
Output, per step S (see the README written next to the fixtures for what each one shows):
  S_<role>.json          the envelope exactly as LPUSHed (bytes unchanged)   S_<role>.body.json  its body, base64-decoded
  S_<role>.key.txt       the list it was LPUSHed to
  S_<role>_2.json ...    a second LPUSH of the same task id (a retry or a replacement, sent by the worker)
  S_<role>.meta.json     the last value SET/SETEXed at celery-task-meta-<id> / celery-taskset-meta-<id> (exact bytes)
  S_<role>.meta.<STATE>.json  an earlier, non-STARTED value at that key (e.g. RETRY)
  S.commands.txt         the step's Redis commands in order, as MONITOR printed them (timestamp and client dropped,
                         Lua-internal commands prefixed `lua`); noise dropped, see NOISE below
  S.evalsha.json         every EVALSHA of the chord scripts (script, sha, keys, argv) in order, as JSON strings
                         (a NOSCRIPT reply makes redis-py SCRIPT LOAD and call it again: both calls are listed)
  S.events.txt           the Celery events PUBLISHed in the step: type, uuid, hostname
Roles come from steps.json; LPUSHed messages whose id has no role are named by what they are:
  header<i> (embed chord set, group_index i), errback<i> (a log_err_* task), else msg<n>_<task>.
"""
import base64
import hashlib
import json
import os
import re
import sys

# The three Lua scripts of Celery 5.7.0's Redis chord join (celery/backends/redis.py).
CHORD_SCRIPTS = {
    'b8fc152c83a7e634103ccebd49dcd3146a8f4366': 'part-return',
    'dc87180d6bcb7f73c7275eb0fe7a70baf0a8b7c7': 'claim-extend',
    '59d7aab41242d82196947ba8926cab712416da4f': 'cleanup',
}
LINE = re.compile(r'^(\d+\.\d+) \[(\d+) ([^\]]+)\] (.*)$')


def parse_args(s):
    """redis-cli MONITOR quoting (sdscatrepr) back to the exact bytes of each argument."""
    out, i, n = [], 0, len(s)
    while i < n:
        if s[i] != '"':
            i += 1
            continue
        i += 1
        buf = bytearray()
        while s[i] != '"':
            c = s[i]
            if c == '\\':
                nx = s[i + 1]
                if nx == 'x':
                    buf.append(int(s[i + 2:i + 4], 16))
                    i += 4
                    continue
                buf += {'n': b'\n', 'r': b'\r', 't': b'\t', 'a': b'\a', 'b': b'\b',
                        '"': b'"', '\\': b'\\'}.get(nx, nx.encode())
                i += 2
                continue
            buf += c.encode('utf-8')
            i += 1
        out.append(bytes(buf))
        i += 1
    return out


def read_monitor(path):
    rows = []
    with open(path, encoding='utf-8', errors='surrogateescape') as f:
        for line in f:
            m = LINE.match(line.rstrip('\n'))
            if not m:
                continue  # a continuation of a multi-line value cannot happen: sdscatrepr escapes \n
            rows.append({'client': m.group(3), 'raw': m.group(4), 'args': parse_args(m.group(4))})
    return rows


def window(rows, step):
    start, end = ('=== MARK: %s ===' % step).encode(), ('=== MARK: %s end ===' % step).encode()
    on, out = False, []
    for r in rows:
        a = r['args']
        if a and a[0].upper() == b'ECHO':
            if a[1] == start:
                on = True
                continue
            if a[1] == end and on:
                return out
        if on:
            out.append(r)
    raise SystemExit('extract.py: no complete window for step %s' % step)


def cmd(r):
    return r['args'][0].upper().decode() if r['args'] else ''


def is_noise(r):
    """Traffic that is not the canvas: the consumer's polling and kombu's ack bookkeeping, the client's
    result subscriptions, heartbeats and events (events go to S.events.txt instead)."""
    c, a = cmd(r), r['args']
    key = a[1] if len(a) > 1 else b''
    if c in ('BRPOP', 'PING', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PSUBSCRIBE', 'ECHO', 'HELLO', 'CLIENT', 'MGET', 'TIME'):
        return c != 'ECHO' or not a[1].startswith(b'=== MARK')
    if c == 'LLEN' and r['client'] != 'lua':
        return True  # kombu's queue-size probe of the priority lists
    if c == 'SCRIPT' and key.upper() == b'EXISTS':
        return True
    if c == 'SCRIPT' and key.upper() == b'LOAD' and hashlib.sha1(a[2]).hexdigest() not in CHORD_SCRIPTS:
        return True  # kombu's binding-deadline script
    if c == 'EVALSHA' and len(a) > 3 and a[3].startswith(b'_kombu'):
        return True
    if key.startswith(b'unacked') or key.startswith(b'_kombu.binding'):
        return True
    if c == 'PUBLISH' and (key.startswith(b'/0.celeryev') or b'pidbox' in key):
        return True
    return False


def keep_rows(rows):
    """Drops the noise, empty MULTI/EXEC pairs left behind, and result GETs except the worker's
    read-before-store (a GET of the key the same connection SETs right after)."""
    kept, in_dropped_script = [], False
    for r in rows:
        if r['client'] == 'lua':
            if in_dropped_script or is_noise(r):
                continue
        else:
            in_dropped_script = (cmd(r) == 'EVALSHA' and r['args'][1].decode() not in CHORD_SCRIPTS)
            if in_dropped_script or is_noise(r):
                continue
        kept.append(r)
    rows = kept
    keep = [True] * len(rows)
    for i, r in enumerate(rows):
        if cmd(r) == 'GET' and r['args'][1].startswith(b'celery-task-meta-'):
            nxt = [x for x in rows[i + 1:] if x['client'] == r['client']][:2]
            keep[i] = (len(nxt) == 2 and cmd(nxt[0]) == 'MULTI' and cmd(nxt[1]) in ('SETEX', 'SET')
                       and nxt[1]['args'][1] == r['args'][1])
    rows = [r for r, k in zip(rows, keep) if k]
    out = []
    for r in rows:
        if cmd(r) == 'EXEC' and out and cmd(out[-1]) == 'MULTI' and out[-1]['client'] == r['client']:
            out.pop()
            continue
        out.append(r)
    # A MULTI whose EXEC came after other clients' commands: drop MULTI/EXEC with nothing of theirs between.
    final, open_multi = [], {}
    for r in out:
        c = r['client']
        if cmd(r) == 'MULTI':
            open_multi[c] = (len(final), False)
        elif cmd(r) == 'EXEC' and c in open_multi:
            at, used = open_multi.pop(c)
            if not used:
                final[at] = None
                continue
        elif c in open_multi:
            open_multi[c] = (open_multi[c][0], True)
        final.append(r)
    return [r for r in final if r is not None]


def command_line(r):
    if cmd(r) == 'SCRIPT' and len(r['args']) > 2 and r['args'][1].upper() == b'LOAD':
        sha = hashlib.sha1(r['args'][2]).hexdigest()
        return '"SCRIPT" "LOAD" <%s script text, sha1 %s>' % (CHORD_SCRIPTS.get(sha, '?'), sha)
    return ('lua ' if r['client'] == 'lua' else '') + r['raw']


def envelope(r):
    """(envelope dict, decoded body bytes) of an LPUSHed kombu message, or None."""
    if cmd(r) not in ('LPUSH', 'RPUSH') or len(r['args']) < 3:
        return None
    try:
        env = json.loads(r['args'][2])
    except ValueError:
        return None
    if not isinstance(env, dict) or 'headers' not in env or 'task' not in env.get('headers', {}):
        return None
    return env, base64.b64decode(env['body'])


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def main(work, dest):
    rows = read_monitor(os.path.join(work, 'monitor.log'))
    steps = json.load(open(os.path.join(work, 'steps.json')))
    os.makedirs(dest, exist_ok=True)
    index = {}
    for step, info in steps.items():
        win = window(rows, step)
        by_id = {v: k for k, v in info['roles'].items()}
        names, files = {}, []
        # Messages.
        n = 0
        for r in win:
            e = envelope(r)
            if not e or r['client'] == 'lua':
                continue
            env, body = e
            h = env['headers']
            tid = h['id']
            role = by_id.get(tid)
            if role is None:
                embed = json.loads(body)[2]
                if embed.get('chord') is not None and h.get('group_index') is not None:
                    role = 'header%d' % h['group_index']
                elif h['task'].startswith('wireapp.log_err'):
                    role = 'errback%s' % ('' if h.get('group_index') is None else h['group_index'])
                else:
                    n += 1
                    role = 'msg%d_%s' % (n, h['task'].rsplit('.', 1)[-1])
                by_id[tid] = role
            count = names.get(role, 0) + 1
            names[role] = count
            name = '%s_%s' % (step, role) + ('' if count == 1 else '_%d' % count)
            write(os.path.join(dest, name + '.json'), r['args'][2])
            write(os.path.join(dest, name + '.body.json'), body)
            write(os.path.join(dest, name + '.key.txt'), b'%s %s\n' % (r['args'][0], r['args'][1]))
            files += [name + '.json', name + '.body.json', name + '.key.txt']
        # Result metas (task and group keys), from the SET/SETEX commands outside Lua.
        metas = {}
        for r in win:
            if r['client'] == 'lua' or cmd(r) not in ('SET', 'SETEX'):
                continue
            key = r['args'][1].decode()
            m = re.match(r'^celery-task(set)?-meta-([0-9a-f-]{36})$', key)
            if not m:
                continue
            value = r['args'][3] if cmd(r) == 'SETEX' else r['args'][2]
            metas.setdefault(m.group(2), []).append((r, value))
        for tid, values in metas.items():
            role = by_id.get(tid) or 'id_%s' % tid[:8]
            base = '%s_%s' % (step, role)
            for i, (r, value) in enumerate(values):
                state = json.loads(value).get('status')
                last = i == len(values) - 1
                if not last and state in (None, 'STARTED'):
                    continue
                name = base + ('.meta.json' if last else '.meta.%s.json' % state)
                write(os.path.join(dest, name), value)
                key_line = b' '.join(r['args'][:2] + ([r['args'][2]] if cmd(r) == 'SETEX' else []))
                write(os.path.join(dest, name[:-len('.json')] + '.key.txt'), key_line + b'\n')
                files += [name, name[:-len('.json')] + '.key.txt']
        # Commands, EVALSHA calls, events.
        kept = keep_rows(win)
        write(os.path.join(dest, step + '.commands.txt'),
              ('\n'.join(command_line(r) for r in kept) + '\n').encode('utf-8', 'surrogateescape'))
        calls = []
        for r in win:
            if cmd(r) == 'EVALSHA' and r['client'] != 'lua' and r['args'][1].decode() in CHORD_SCRIPTS:
                a = [x.decode() for x in r['args']]
                k = int(a[2])
                calls.append({'script': CHORD_SCRIPTS[a[1]], 'sha': a[1], 'keys': a[3:3 + k], 'argv': a[3 + k:]})
        files.append(step + '.commands.txt')
        if calls:
            write(os.path.join(dest, step + '.evalsha.json'), (json.dumps(calls, indent=1) + '\n').encode())
            files.append(step + '.evalsha.json')
        events = []
        for r in win:
            if cmd(r) == 'PUBLISH' and r['args'][1].startswith(b'/0.celeryev'):
                body = json.loads(base64.b64decode(json.loads(r['args'][2])['body']))
                for ev in body if isinstance(body, list) else [body]:
                    if ev['type'].startswith('task-'):
                        events.append('%s uuid=%s hostname=%s' % (ev['type'], ev.get('uuid'), ev.get('hostname')))
        write(os.path.join(dest, step + '.events.txt'), ('\n'.join(events) + '\n').encode())
        files.append(step + '.events.txt')
        roles = {v: k for k, v in by_id.items()}
        index[step] = {'source': info['source'], 'client_saw': info['notes'],
                       'roles': {k: roles[k] for k in sorted(roles)}, 'files': sorted(files)}
    write(os.path.join(dest, 'steps.json'), (json.dumps(index, indent=1, sort_keys=True) + '\n').encode())
    print('extract.py: %d steps written to %s' % (len(index), dest))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
