#!/usr/bin/env bash
# Shared by demo.sh and screenshots.sh: starts a private redis-server on a free loopback port,
# two Swift workers and a Python Celery worker (all with task events), and a varied background
# load from a Swift and a Python client. Source it; it defines CLUSTER_URL, CLUSTER_DIR,
# cluster_start, cluster_load and cluster_stop. Nothing touches port 6379 or a system service.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_DIR="$(mktemp -d -t celeriac-cluster-XXXXXX)"
cluster_pids=()

cluster_stop() {
    # Newest first: the load loops (and the clients they run), then the workers, then Redis, so
    # nothing is left waiting on a Redis that is already gone.
    local i pid
    for ((i = ${#cluster_pids[@]} - 1; i >= 0; i--)); do
        pid="${cluster_pids[$i]}"
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
    done
    sleep 1
    for pid in "${cluster_pids[@]}"; do
        pkill -KILL -P "$pid" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$CLUSTER_DIR"
}

cluster_start() {
    local bin="$1"
    local port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$CLUSTER_DIR" --daemonize no \
        >"$CLUSTER_DIR/redis.log" 2>&1 &
    cluster_pids+=($!)
    CLUSTER_URL="redis://127.0.0.1:$port/0"
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    export CELERY_BROKER_URL="$CLUSTER_URL" CELERY_RESULT_BACKEND="$CLUSTER_URL"
    "$bin/qworker" -E -n swift1@%h -c 4 >"$CLUSTER_DIR/swift1.log" 2>&1 & cluster_pids+=($!)
    "$bin/qworker" -E -n swift2@%h -c 2 >"$CLUSTER_DIR/swift2.log" 2>&1 & cluster_pids+=($!)
    (cd "$root/interop" && exec "$root/.venv/bin/python" -m celery -A demoapp worker -E -n py1@%h -c 2 \
        --loglevel INFO >"$CLUSTER_DIR/py1.log" 2>&1) & cluster_pids+=($!)
}

# A steady mix from both clients: successes, failures, flaky tasks, slow tasks, countdowns.
cluster_load() {
    local bin="$1"
    (while true; do "$bin/qload" --rounds 8 >/dev/null 2>&1 || sleep 1; done) & cluster_pids+=($!)
    (cd "$root/interop" && while true; do "$root/.venv/bin/python" pyclient.py demo 6 >/dev/null 2>&1 || sleep 1; done) & cluster_pids+=($!)
}
