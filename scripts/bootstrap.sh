#!/usr/bin/env bash
# Installs what Celeriac's build, tests and demo need, when it is missing:
#   Debian packages: redis-server (a private instance is started per test/demo, never the system service),
#   libhiredis-dev, libncurses-dev, tmux, python3-venv;
#   a Python venv in .venv with real celery/kombu/flower from PyPI (interop/requirements.txt).
# Safe to run again: it only acts on what is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -f /usr/include/hiredis/hiredis.h ] || need+=(libhiredis-dev)
[ -f /usr/include/ncursesw/curses.h ] || need+=(libncurses-dev)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
    echo "bootstrap: installing ${need[*]}"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian starts redis-server as a system service on install; we never use it (tests use private
# servers on free ports), so leave it alone rather than touching a system service.

if ! command -v swift >/dev/null 2>&1; then
    echo "bootstrap: swift is not on PATH; install Swift 6 (https://swift.org/install) and run again" >&2
    exit 1
fi

venv="$root/.venv"
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$root/interop/requirements.txt" "$stamp"; then
    echo "bootstrap: creating the Python venv .venv (interop/requirements.txt)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/interop/requirements.txt"
    cp "$root/interop/requirements.txt" "$stamp"
fi
