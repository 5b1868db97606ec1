#!/usr/bin/env bash
# The demo: a private redis-server, two Swift workers (qworker) and a Python Celery 5.7 worker
# sharing the queue, a varied load from a Swift and a Python client (successes, failures, flaky
# and slow tasks, countdowns, priorities), and the live `qmon` dashboard over all of it.
# Quit qmon with q; everything the demo started is stopped. Without a terminal (CI, a pipe) it
# lets the load run for a few seconds and prints `qmon status` and a summary instead.
# It never touches port 6379 or a system service.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
echo "demo: building (swift build)…"
swift build -q
bin="$(swift build --show-bin-path)"
source scripts/cluster.sh
trap cluster_stop EXIT INT TERM
cluster_start "$bin"
echo "demo: private redis-server on $CLUSTER_URL; workers swift1, swift2 (qworker -E) and py1 (celery 5.7 -E)"
cluster_load "$bin"

if [ -t 0 ] && [ -t 1 ]; then
    "$bin/qmon" --broker "$CLUSTER_URL" || true
else
    sleep 8
    "$bin/qmon" status --broker "$CLUSTER_URL" || true
    "$bin/qmon" snapshot --json --listen 3 --broker "$CLUSTER_URL" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print("demo: summary:", json.dumps(s.get("summary", {})))
'
fi
