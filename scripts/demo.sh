#!/usr/bin/env bash
# The demo: a private redis-server, two Swift workers and a Python Celery worker sharing its
# queue, and a load from a Swift client and a Python client at once; prints what ran where.
# Everything it starts is stopped on exit; it never touches port 6379 or a system service.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
echo "demo: building (swift build)…"
swift build -q
bin="$(swift build --show-bin-path)"

work="$(mktemp -d -t celeriac-demo-XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
url="redis://127.0.0.1:$port/0"
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "demo: private redis-server on $url (logs in $work)"

export CELERY_BROKER_URL="$url" CELERY_RESULT_BACKEND="$url"
"$bin/qworker" -n swift1@%h -c 4 >"$work/swift1.log" 2>&1 & pids+=($!)
"$bin/qworker" -n swift2@%h -c 4 >"$work/swift2.log" 2>&1 & pids+=($!)
(cd interop && exec "$root/.venv/bin/python" -m celery -A demoapp worker -n py1@%h -c 2 --loglevel INFO >"$work/py1.log" 2>&1) & pids+=($!)
echo "demo: workers swift1, swift2 (qworker) and py1 (celery 5.7) consuming queue 'celery'"

(cd interop && "$root/.venv/bin/python" pyclient.py demo 6) &
py_client=$!
"$bin/qload" --rounds 6
wait "$py_client"

echo
echo "demo: tasks run per worker:"
for w in swift1 swift2 py1; do
    n=$(grep -c "succeeded in" "$work/$w.log" || true)
    f=$(grep -cE "raised unexpected|NotRegistered" "$work/$w.log" || true)
    printf "  %-7s %3s succeeded, %3s failed\n" "$w" "$n" "$f"
done
