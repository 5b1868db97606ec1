#!/usr/bin/env bash
# Runs every test: unit tests of the codec, Redis integration tests against private redis-servers,
# worker tests, and interop tests against real Python Celery 5.7 from PyPI.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
export CELERIAC_PYTHON="$root/.venv/bin/python"
swift build --build-tests
export CELERIAC_BIN_DIR="$(swift build --show-bin-path)"
if [ $# -gt 0 ]; then
    exec swift test --skip-build "$@"
fi
# Three phases: the pure codec suites include CPU-heavy cases (100 MB messages) that would hold
# one of the two cooperative threads for most of a minute and starve the timing-sensitive
# integration suites if everything ran at once.
echo "== unit tests (codec, config, registry)"
swift test --skip-build --filter 'CeleriacTests\.'
# qmon's memory-bound tests push 500 MB of events through its model (about 30 s of both cores)
# and read malloc's bytes in use for the whole process: alone, they neither starve the
# integration suites nor see their allocations.
echo "== qmon memory bounds (5,000 tasks with 100 KB arguments, 25,000 worker names)"
swift test --skip-build --filter 'CeleriacMonitorTests\.MemoryBoundsTests'
echo "== integration tests (private redis-servers, workers, real Celery 5.7)"
swift test --skip-build --skip 'CeleriacTests\.' --skip 'CeleriacFaultTests\.' --skip 'CeleriacMonitorTests\.MemoryBoundsTests'
# The fault suite loads both cores with worker processes and thousands of tasks for about a
# minute and a half; alone, it does not starve the timing-sensitive integration suites.
echo "== fault suite (kill -9, Redis outages, poison messages, shutdowns under load)"
swift test --skip-build --filter 'CeleriacFaultTests\.'

