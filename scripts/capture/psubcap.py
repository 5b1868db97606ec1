"""PSUBSCRIBE * on the capture Redis and append every message as one JSON line (pub/sub cross-check)."""
import json
import os
import sys
import time

import redis

r = redis.Redis(host='127.0.0.1', port=int(os.environ.get('CAPTURE_REDIS_PORT', '6390')))
p = r.pubsub()
p.psubscribe('*')
out = open(sys.argv[1], 'a')
for m in p.listen():
    if m['type'] != 'pmessage':
        continue
    data = m['data'].decode('utf-8', 'surrogateescape') if isinstance(m['data'], bytes) else m['data']
    out.write(json.dumps({'t': time.time(), 'channel': m['channel'].decode('latin1'), 'data': data}) + '\n')
    out.flush()
