#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets of Fuzz/ (with AddressSanitizer) and
# run each for a bounded time from its seed corpus.
#
# USAGE
#   scripts/fuzz.sh [FUZZER...]        default: every target of Fuzz/Package.swift
#
# Environment:
#   FUZZ_SECONDS   seconds per fuzzer (default 60)
#   FUZZ_ARGS      more libFuzzer flags, e.g. "-max_len=65536 -jobs=2"
#
# Seeds: Fuzz/Seeds/<Fuzzer>.txt, one input per line, read with bash's
# `printf '%b'` (so \xHH escapes work); FuzzConfigFile also gets every file
# of Fixtures/config and Fixtures/bad-input/config (its first byte picks the
# extension: 1 .json, 2 .yaml). The corpus grown by a run is kept under
# Fuzz/.build/fuzz/corpus/<Fuzzer> for the next run; crash artifacts go to
# Fuzz/.build/fuzz/artifacts/<Fuzzer>/. Keep what a fuzzer finds as a test
# case: add the input to the matching file of Fixtures/bad-input/ with an id
# starting `fuzz-` (see its README).
#
# A broken invariant is printed once per place as `FINDING [file:line] ...`
# (with the input) and the run goes on; a memory error (ASan) or a trap
# stops the fuzzer and leaves a crash artifact.
#
# Exits non-zero if the build fails or any fuzzer finds a crash or a finding.

set -uo pipefail

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
REPO=$(cd -- "$(dirname -- "$SELF")/.." && pwd -P)
FUZZ="$REPO/Fuzz"
WORK="$FUZZ/.build/fuzz"
SWIFT=${SWIFT:-swift}
SECONDS_EACH=${FUZZ_SECONDS:-60}
read -r -a EXTRA <<< "${FUZZ_ARGS:-}"

if [ $# -gt 0 ]; then
    FUZZERS=("$@")
else
    mapfile -t FUZZERS < <(grep -o 'fuzzer("[A-Za-z]*")' "$FUZZ/Package.swift" | sed 's/fuzzer("\(.*\)")/\1/')
fi

# libFuzzer handles crashes itself; Swift's backtracer would only delay it.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}"

echo "== building Fuzz/ (swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)"
start=$(date +%s)
( cd "$FUZZ" && "$SWIFT" build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 ) \
    | grep -v "Cannot export local symbol"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: the build failed" >&2; exit 2; }
echo "== built in $(( $(date +%s) - start )) s"
BIN="$FUZZ/.build/debug"

seed_corpus() { # seed_corpus FUZZER DIR
    local name=$1 dir=$2 n=0 line f
    rm -rf -- "$dir"; mkdir -p -- "$dir"
    if [ -f "$FUZZ/Seeds/$name.txt" ]; then
        while IFS= read -r line || [ -n "$line" ]; do
            n=$((n + 1)); printf '%b' "$line" > "$dir/seed-$n"
        done < "$FUZZ/Seeds/$name.txt"
    fi
    if [ "$name" = FuzzConfigFile ]; then
        for f in "$REPO"/Fixtures/config/* "$REPO"/Fixtures/bad-input/config/*; do
            case "$f" in
                *.json) n=$((n + 1)); { printf '\001'; cat -- "$f"; } > "$dir/seed-$n" ;;
                *.yaml|*.yml) n=$((n + 1)); { printf '\002'; cat -- "$f"; } > "$dir/seed-$n" ;;
            esac
        done
    fi
}

SUMMARY=()
STATUS=0
for name in "${FUZZERS[@]}"; do
    [ -x "$BIN/$name" ] || { echo "fuzz: no fuzzer $name in $BIN" >&2; STATUS=2; continue; }
    corpus="$WORK/corpus/$name" seeds="$WORK/seeds/$name" artifacts="$WORK/artifacts/$name"
    mkdir -p -- "$corpus" "$artifacts"
    seed_corpus "$name" "$seeds"
    log="$WORK/$name.log"
    echo "== $name for ${SECONDS_EACH} s (log: $log)"
    "$BIN/$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${EXTRA[@]}" "$corpus" "$seeds" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    units=$(find "$corpus" -type f | wc -l)
    crashes=$(grep -cE '^==[0-9]+== ?ERROR|^SUMMARY: (AddressSanitizer|libFuzzer)|deadly signal|Fatal error' "$log")
    findings=$(grep -c '^FINDING ' "$log")
    # Broken invariants are reported once per place and the run goes on.
    if [ "$findings" -gt 0 ]; then
        STATUS=1
        echo "-- $name: $findings finding(s):"
        grep '^FINDING ' "$log" | cut -c1-400
    fi
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        STATUS=1
        echo "-- $name CRASHED (exit $rc); the log's key lines:"
        grep -E 'Fatal error|ERROR:|SUMMARY:|Test unit written|deadly signal' "$log" | head -20
        SUMMARY+=("$(printf '%-18s %10s runs  %4s s  corpus %5s  findings %2s  CRASH: see %s' "$name" "${runs:-?}" "${secs:-?}" "$units" "$findings" "$artifacts")")
    else
        SUMMARY+=("$(printf '%-18s %10s runs  %4s s  corpus %5s  findings %2s  no crash' "$name" "${runs:-?}" "${secs:-?}" "$units" "$findings")")
    fi
done

echo
echo "== fuzz summary (${SECONDS_EACH} s each)"
printf '   %s\n' "${SUMMARY[@]}"
exit $STATUS
