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
if [ $# -gt 0 ] && [ "$1" != "--timing" ]; then
    exec swift test --skip-build "$@"
fi

# Phases are chosen by Swift Testing tag (Sources/TestTags/TestTags.swift): `swift test --filter` only
# takes regular expressions over test IDs (Swift 6.3 has no `--filter tag:`), so the tags are
# read from the test listing and turned into exact patterns by scripts/test-selection.py, which
# also fails the run if a test has no phase tag, or more than one.
listing="$(mktemp)"
trap 'rm -f "$listing"' EXIT
SWT_EXPERIMENTAL_EVENT_STREAM_FIELDS_ENABLED=1 "$CELERIAC_BIN_DIR/CeleriacPackageTests.xctest" \
    --testing-library swift-testing --list-tests \
    --experimental-event-stream-output "$listing" --experimental-event-stream-version 0 >/dev/null
python3 scripts/test-selection.py "$listing" check
# Runs the tests carrying tag $1 (see scripts/test-selection.py), plus any extra arguments.
run_tagged() {
    local tag="$1" pattern
    shift
    local filters=()
    while IFS= read -r pattern; do filters+=(--filter "$pattern"); done < <(python3 scripts/test-selection.py "$listing" "$tag")
    [ ${#filters[@]} -gt 0 ] || { echo "test.sh: no test is tagged $tag" >&2; exit 1; }
    swift test --skip-build "${filters[@]}" "$@"
}

# `--timing` runs only the tests tagged `timing`: they assert on elapsed wall-clock time (a
# layout budget, a worker shown within 3 s, a prompt close), which a loaded machine can break,
# so the default run leaves them out. Run them on an otherwise idle machine.
if [ "${1:-}" = "--timing" ]; then
    shift
    echo "== timing checks (wall-clock thresholds; run on an idle machine)"
    run_tagged timing "$@"
    exit
fi
# Four phases, each alone: the pure codec suites include CPU-heavy cases (100 MB messages) that
# would hold one of the two cooperative threads for most of a minute and starve the integration
# suites if everything ran at once.
echo "== unit tests (codec, config, registry)"
run_tagged unit
# qmon's memory-bound tests push 500 MB of events through its model (about 30 s of both cores)
# and read malloc's bytes in use for the whole process: alone, they neither starve the
# integration suites nor see their allocations.
echo "== qmon memory bounds (5,000 tasks with 100 KB arguments, 25,000 worker names)"
run_tagged memoryBounds
echo "== integration tests (private redis-servers, workers, real Celery 5.7)"
run_tagged integration
# The fault suite loads both cores with worker processes and thousands of tasks for about a
# minute and a half; alone, it does not starve the integration suites.
echo "== fault suite (kill -9, Redis outages, poison messages, shutdowns under load)"
run_tagged fault
