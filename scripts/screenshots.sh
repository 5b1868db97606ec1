#!/usr/bin/env bash
# Makes the PNGs in screenshots/ from a real run: a private cluster (scripts/cluster.sh) with a
# live load, qmon in a real xterm under Xvfb, driven into each screen with xdotool, captured with
# ImageMagick's import. Needs: xvfb xterm imagemagick x11-utils xdotool (installed if missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
need=()
for cmd in Xvfb:xvfb xterm:xterm import:imagemagick xwininfo:x11-utils xdotool:xdotool; do
    command -v "${cmd%%:*}" >/dev/null 2>&1 || need+=("${cmd#*:}")
done
# Debian ships a stand-in `convert` before imagemagick is installed; `import` tells them apart.
if [ ${#need[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
swift build -q
bin="$(swift build --show-bin-path)"
source scripts/cluster.sh
display=":$((90 + RANDOM % 9))"
xvfb_pid=""
xterm_pid=""
finish() {
    [ -n "$xterm_pid" ] && kill "$xterm_pid" 2>/dev/null || true
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
    cluster_stop
}
trap finish EXIT INT TERM

cluster_start "$bin"
cluster_load "$bin"
Xvfb "$display" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
sleep 1
DISPLAY="$display" LANG=C.UTF-8 xterm -T qmon-shot -geometry 120x35+0+0 -fa 'DejaVu Sans Mono' -fs 11 -u8 \
    -tn xterm-256color -e "$bin/qmon" --broker "$CLUSTER_URL" &
xterm_pid=$!
wid=""
for _ in $(seq 50); do
    wid="$(DISPLAY="$display" xwininfo -name qmon-shot 2>/dev/null | awk '/Window id:/{print $4}')" || true
    [ -n "$wid" ] && break
    sleep 0.2
done
[ -n "$wid" ] || { echo "screenshots: qmon window did not appear" >&2; exit 1; }
# Let workers report in and the load build up some history for the sparklines.
sleep 20

shot() {  # shot NAME KEYS...
    local name="$1"; shift
    for key in "$@"; do DISPLAY="$display" xdotool key --window "$wid" "$key"; sleep 0.4; done
    sleep 1.5
    DISPLAY="$display" timeout 20 import -window "$wid" "screenshots/$name.png"
    echo "screenshots/$name.png"
}
shot overview 1
shot workers 2
shot tasks 3
shot task-detail 3 Return
shot failures Escape 4
shot failure-detail Return
shot queues Escape 5
shot help question
DISPLAY="$display" xdotool key --window "$wid" Escape q
