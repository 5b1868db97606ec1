#!/usr/bin/env bash
# Captures Celery 5.7.0 canvas traffic and regenerates Tests/Fixtures/celery-wire/canvas/.
# Starts its own redis-server on a free loopback port in a temp dir (never 6379), `redis-cli MONITOR`,
# a pub/sub capture, a Python worker, then canvas_client.py; stops each of them by pid at the end.
# Usage: scripts/capture/run.sh [workdir]     (needs scripts/bootstrap.sh's .venv)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="$root/.venv/bin/python"
celery="$root/.venv/bin/celery"
"$py" -c 'import celery, kombu, sys; sys.exit(0 if (celery.__version__, kombu.__version__) == ("5.7.0", "5.7.0") else 1)' \
    || { echo "run.sh: .venv must have celery 5.7.0 and kombu 5.7.0 (scripts/bootstrap.sh)" >&2; exit 1; }
work="${1:-$(mktemp -d /tmp/canvas-capture.XXXXXX)}"
mkdir -p "$work"
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export CAPTURE_REDIS_PORT="$port" PYTHONPATH="$here" PYTHONHASHSEED=0
echo "run.sh: work dir $work, redis port $port"

pids=()
stop() { for p in "${pids[@]}" ${worker:-} ${mon:-} ${psub:-}; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT

redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no \
    --logfile "$work/redis.log" --daemonize no &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
stdbuf -oL redis-cli -p "$port" MONITOR > "$work/monitor.log" &
mon=$!
"$py" "$here/psubcap.py" "$work/pubsub.jsonl" &
psub=$!

start_worker() {
    (cd "$work" && exec "$celery" -A wireapp worker -E -c 2 -n w1@capture --without-mingle --without-gossip \
        -l info >> "$work/worker.log" 2>&1) &
    worker=$!
    for _ in $(seq 100); do grep -q 'ready\.' "$work/worker.log" 2>/dev/null && break; sleep 0.2; done
}
stop_worker() { kill -TERM "$worker"; wait "$worker" || true; }

start_worker
"$py" "$here/canvas_client.py" "$work/steps.json"
stop_worker
export CAPTURE_CHORD_UNORDERED=1
start_worker
"$py" "$here/canvas_client.py" "$work/steps.json" chord_unordered
stop_worker

sleep 0.5
kill "$psub" "$mon" 2>/dev/null || true
wait "$psub" "$mon" 2>/dev/null || true
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
pids=()
wait 2>/dev/null || true
"$py" "$here/extract.py" "$work" "$root/Tests/Fixtures/celery-wire/canvas"
