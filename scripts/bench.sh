#!/usr/bin/env bash
# The benchmark of issue #6: Celeriac side by side with Python Celery 5.7 on a private
# redis-server (a free loopback port, never 6379, stopped by pid). Builds in release mode, then
# runs qbench, which prints one Markdown table (median [min–max] of 3 runs, Swift vs Python, the
# issue's targets) and writes bench/results/latest.json. About 10–15 minutes on 2 cores.
#   scripts/bench.sh                    # the full run
#   scripts/bench.sh --quick            # a few minutes, fewer tasks: a smoke run
#   scripts/bench.sh --only drain,monitor --json /tmp/b.json   # some phases (qbench --help)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
echo "bench: building (swift build -c release)…" >&2
swift build -c release -q --product qworker
swift build -c release -q --product qbench
bin="$(swift build -c release --show-bin-path)"
exec "$bin/qbench" run --root "$root" --python "$root/.venv/bin/python" "$@"
