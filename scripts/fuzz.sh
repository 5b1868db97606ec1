#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of every decoder that reads bytes from Redis or a file:
# kombu envelopes, task messages (fast and general decoders), events (single and task.multi),
# control commands and replies, result meta, unacked entries and dead letters, config files,
# Redis URLs, and the JSON parser beneath them.
#
#   scripts/fuzz.sh [seconds-per-target] [target ...]     (default 60 s, every target)
#
# Builds the fuzzers in Fuzz/ (a package of its own, so `swift build`/`swift test` of the root
# package never see it) with -sanitize=fuzzer,address, then runs each for the given time,
# seeded with the committed corpus Fuzz/corpus/<target>/ (captured Celery 5.7 wire samples).
# New interesting inputs go to a scratch copy, never into the repository. An input that
# crashes a fuzzer is saved under Fuzz/findings/ and fails the script: turn it into a
# regression unit test in Tests/CeleriacTests, fix the decoder, run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"   # libhiredis-dev and the rest the Celeriac package needs
cd "$root/Fuzz"

seconds="${1:-60}"
shift || true
all=(FuzzJSON FuzzKombuEnvelope FuzzTaskMessage FuzzEvent FuzzControl FuzzResultMeta FuzzStoredRecords FuzzConfig FuzzRedisURL FuzzCanvas)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

echo "== building fuzzers (release, -sanitize=fuzzer,address)"
# -enable-testing: the task and event fuzzers compare the internal fast decoders with the
# general ones (@testable import). The linker's warnings about ASan's local symbols are noise.
swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing \
    2>&1 | grep -v "ld.gold: warning: Cannot export local symbol" || true
bin="$(swift build -c release --show-bin-path)"
for t in "${targets[@]}"; do
    [ -x "$bin/$t" ] || { echo "fuzz: $t was not built (see the build output above)" >&2; exit 1; }
done

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p findings
# Swift's crash reporter would symbolicate every crash interactively; libFuzzer reports it.
export SWIFT_BACKTRACE=enable=no
# LeakSanitizer counts the Swift runtime's lazily built caches (metadata, the config fuzzer's
# Foundation objects) as leaks of whichever input first needed them: not a decoder's fault.
export ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}"

failed=0
summary=()
for t in "${targets[@]}"; do
    echo "== $t: ${seconds} s"
    mkdir -p "$scratch/$t"
    log="$scratch/$t.log"
    dict=()
    case "$t" in FuzzConfig | FuzzRedisURL) ;; *) dict=(-dict=json.dict) ;; esac
    set +e
    "$bin/$t" "$scratch/$t" "corpus/$t" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=1536 -print_final_stats=1 -artifact_prefix="findings/$t-" >"$log" 2>&1
    status=$?
    set -e
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
    # One artifact per crashing input (libFuzzer stops at the first one).
    crashes="$(grep -c 'Test unit written to' "$log" || true)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')"
    if [ "$status" -ne 0 ]; then
        [ "$crashes" -gt 0 ] || crashes=1
        failed=1
        grep -E 'Fatal error|ERROR|SUMMARY|Test unit written|^artifact' "$log" | head -8 | sed "s/^/  $t: /"
    else
        crashes=0
    fi
    line="$(printf '%-18s executions %12s   crashes %s   coverage %s' "$t" "${execs:-?}" "$crashes" "${cov:-?}")"
    echo "$line"
    summary+=("$line")
done

echo "== summary ($seconds s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
