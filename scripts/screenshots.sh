#!/usr/bin/env bash
# Makes the PNGs in screenshots/ from a real run: a private cluster (scripts/cluster.sh) with a
# live load, qmon in tmux in a real xterm under Xvfb, captured with ImageMagick's import.
# Keys go through `tmux send-keys`: xterm ignores the synthetic events `xdotool key --window`
# sends, which once left every PNG showing the Overview. Each screenshot is checked: tmux's text
# capture of the screen, taken before and after the PNG, must show that screen's title or column
# headers and live data; otherwise the script fails and prints what the screen showed.
# Needs: xvfb xterm imagemagick x11-utils tmux and the DejaVu fonts (installed if missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
need=()
for cmd in Xvfb:xvfb xterm:xterm import:imagemagick xwininfo:x11-utils tmux:tmux; do
    command -v "${cmd%%:*}" >/dev/null 2>&1 || need+=("${cmd#*:}")
done
# Debian ships a stand-in `convert` before imagemagick is installed; `import` tells them apart.
fc-list 2>/dev/null | grep -q 'DejaVu Sans Mono' || need+=(fonts-dejavu-core)
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
# A private tmux server (its own socket, no user config): nothing else's sessions are touched.
tmux_socket="$CLUSTER_DIR/tmux.sock"
tmx() { tmux -S "$tmux_socket" "$@"; }
finish() {
    tmx kill-server 2>/dev/null || true
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
# No status bar (the PNG shows qmon alone), Esc delivered at once (not read as Meta+next key).
cat >"$CLUSTER_DIR/tmux.conf" <<'EOF'
set -g status off
set -g escape-time 0
set -g default-terminal tmux-256color
EOF
tmx -f "$CLUSTER_DIR/tmux.conf" new-session -d -s qmon -x 120 -y 35 "$bin/qmon --broker $CLUSTER_URL"
DISPLAY="$display" LANG=C.UTF-8 xterm -T qmon-shot -geometry 120x35+0+0 -fa 'DejaVu Sans Mono' -fs 11 -u8 \
    -tn xterm-256color -e tmux -S "$tmux_socket" attach -t qmon &
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

screen_text() { tmx capture-pane -p -t qmon; }

# shows TEXT WANTED...: every wanted string is on the screen (fixed strings, not patterns).
shows() {
    local text="$1" want; shift
    for want in "$@"; do grep -qF -- "$want" <<<"$text" || return 1; done
}

# shot NAME "KEY…" WANTED...: sends the keys (tmux key names), waits until the screen shows every
# wanted string (up to 30 s: stats, queue depths and failures may still be on their way), takes
# the PNG, and checks the screen again after it, so the PNG was taken while the screen was right.
shot() {
    local name="$1" keys="$2"; shift 2
    local key text="" ok="" list
    read -ra list <<<"$keys"  # split on spaces without globbing (`?` is a key)
    for key in "${list[@]}"; do tmx send-keys -t qmon "$key"; sleep 0.4; done
    for _ in $(seq 60); do
        text="$(screen_text)"
        shows "$text" "$@" && { ok=1; break; }
        sleep 0.5
    done
    if [ -z "$ok" ]; then
        printf 'screenshots: %s: the screen does not show' "$name" >&2
        printf " '%s'" "$@" >&2
        printf '; it shows:\n%s\n' "$text" >&2
        exit 1
    fi
    sleep 1
    DISPLAY="$display" timeout 20 import -window "$wid" "screenshots/$name.png"
    text="$(screen_text)"
    shows "$text" "$@" || { printf 'screenshots: %s: the screen changed while the PNG was taken:\n%s\n' "$name" "$text" >&2; exit 1; }
    printf 'screenshots/%s.png: verified' "$name"
    printf " '%s'" "$@"
    printf '\n'
}

# What each screen prints (Sources/Monitor/Layout): its column headers or section titles, plus
# live data: the three workers, tasks, failures.
shot overview "1" "TASK NAME" "RATE/S" "LAST ERROR" "Workers 3 online" "succeeded" "demo."
shot workers "2" "WORKER" "STATUS" "POOL" "CONC" "PROCESSED" "swift1@" "swift2@" "py1@" "online" "async" "prefork"
shot tasks "3" "STATE" "ARGS" "INFO" "RUNTIME" "SUCCESS" " tasks"
# A finished task: f cycles the state filter all → FAILURE → STARTED → RECEIVED → SUCCESS
# (TaskQuery.stateCycle); the newest success opens with its result and timeline.
shot task-detail "f f f f Enter" "› task " "Task " "SUCCESS" "Result" "Timeline (events, oldest first)" "task-succeeded"
shot failures "Escape 4" "COUNT" "EXCEPTION" "LAST SEEN" "LATEST" "latest: task " "(Enter opens, R retries)"
shot failure-detail "Enter" "› task " "State " "FAILURE" "Exception" "Traceback" "Timeline (events, oldest first)"
shot queues "Escape 5" "QUEUE" "TOTAL" "OLDEST WAIT" "sampled " "celery"
# A workflow from a Python client, run by the cluster's Swift and Python workers together: a
# chain whose last step is a chord. The workflow view, opened from the chord body, shows the
# chain as a path, the header members as siblings under the step that started them and the body
# under the member that completed the header, each with the worker that ran it.
flow_body="$(cd interop && CELERY_BROKER_URL="$CLUSTER_URL" "$root/.venv/bin/python" - 2>"$CLUSTER_DIR/flow-client.log" <<'PY'
from celery import chain, chord
from demoapp import add, mul, echo
wf = chain(add.s(2, 2), mul.s(10), chord([mul.s(2), mul.s(3), add.s(1)], echo.s()))
r = wf()
assert r.get(timeout=60) == [80, 120, 41]
print(r.id)
PY
)"
shot workflow "Escape 3 c / ${flow_body:0:13} Enter W" "› workflow of $flow_body" "6 tasks, 6 finished" \
    "demo.add (2, 2)" "└─ demo.mul (4, 10)" "demo.mul (40, 3)" "└─ demo.echo ([80, 120, 41],)" "chord body → [80" "group "
shot workflow-detail "Enter" "› task $flow_body" "Workflow (j/k select, Enter opens, W shows the tree)" "Parent" \
    "Root" "Chord header" "demo.echo" "SUCCESS"
shot help "?" "this help (everywhere)" "next screen (everywhere)" "Actions ask for confirmation"
tmx send-keys -t qmon Escape q
