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
swift test --skip-build "$@"
