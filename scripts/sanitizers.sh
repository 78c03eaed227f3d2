#!/usr/bin/env bash
# sanitizers.sh - the test suite under ThreadSanitizer and AddressSanitizer
# (LeakSanitizer included), each in its own scratch path, inside the DNS world.
#
# USAGE
#   scripts/sanitizers.sh [tsan|asan|all] [-- SWIFT-TEST-ARGS...]
#     tsan   swift build/test --sanitize=thread  --scratch-path .build-tsan
#     asan   swift build/test --sanitize=address --scratch-path .build-asan
#     all    both, one after the other (the default)
#   Anything after `--` goes to `swift test`, e.g. `-- --filter HubTests`
#   (`make ci` passes `-- --skip REGEX` to leave a few tests out).
#
# Environment:
#   SANITIZER_LOG_DIR   where the full test output goes (default: the scratch path)
#   EVG_TEST_SLOWDOWN   set here to how much slower the suite runs (TSan 5,
#                       ASan 2) unless already set: tests with timing upper
#                       bounds or tight timeouts may multiply them by it. It is
#                       not an EVERGREEN_* name on purpose: the configuration
#                       refuses unknown EVERGREEN_* variables, so such a name
#                       would fail every test that reads the environment.
#
# Prints the build and test wall times of each run, and exits non-zero if a
# build fails, a test fails, or a sanitizer reports anything (TSan and ASan
# exit with 66 / 1 at the end of a run that produced a report; the log is
# also scanned, because a report from a child process would not change the
# exit status of the test runner).
#
# LeakSanitizer: XCTest's own runner leaks ~144 bytes at exit. Those frames,
# and only those, are suppressed through scripts/lsan-suppressions.txt; a
# leak with any of Evergreen's modules on its stack is never suppressed.

set -uo pipefail

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
REPO=$(cd -- "$(dirname -- "$SELF")/.." && pwd -P)
cd -- "$REPO" || exit 2

SWIFT=${SWIFT:-swift}
which=all
if [ $# -gt 0 ] && [ "$1" != "--" ]; then which=$1; shift; fi
[ "${1:-}" = "--" ] && shift
TEST_ARGS=("$@")

case "$which" in
    tsan|asan|all) ;;
    *) echo "usage: scripts/sanitizers.sh [tsan|asan|all] [-- SWIFT-TEST-ARGS...]" >&2; exit 2 ;;
esac

now() { date +%s; }
fmt() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# Sanitizer reports must reach the log, not swift-backtrace (which also
# would keep the output pipe open after a crash).
export SWIFT_BACKTRACE=enable=no
# halt_on_error=0: report every race in one run, then exit 66 at the end.
export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 history_size=4 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="detect_leaks=1 detect_stack_use_after_return=1 ${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$REPO/scripts/lsan-suppressions.txt print_suppressions=1 ${LSAN_OPTIONS:-}"

SUMMARY=()
STATUS=0

run_one() { # run_one NAME SANITIZER SCRATCH SLOWDOWN
    local name=$1 sanitizer=$2 scratch=$3 slowdown=$4 log start built done rc=0 reports
    local logdir=${SANITIZER_LOG_DIR:-$scratch}
    mkdir -p -- "$logdir"
    log="$logdir/sanitizer-tests.log"
    echo "== $name: building (swift build --build-tests --sanitize=$sanitizer --scratch-path $scratch)"
    start=$(now)
    if ! "$SWIFT" build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"; then
        SUMMARY+=("$name: BUILD FAILED after $(fmt $(($(now) - start)))")
        STATUS=1
        return
    fi
    built=$(now)
    echo "== $name: testing inside the DNS world (log: $log)"
    EVG_TEST_SLOWDOWN=${EVG_TEST_SLOWDOWN:-$slowdown} "$REPO/scripts/dnsworld" run --blackhole-ipv6 2001:db8:dead::/48 -- \
        "$SWIFT" test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" "${TEST_ARGS[@]}" \
        >"$log" 2>&1 || rc=$?
    done=$(now)
    # The test runner's own summary lines, and every sanitizer report header.
    grep -E '^(✔|✘|􀟈|Test run|.*Executed [0-9]+ tests)|error:|Test .* failed|recorded an issue' "$log" \
        | grep -vE '^✔ (Test|Suite) ' | tail -n 40
    reports=$(grep -cE '^(WARNING: ThreadSanitizer|==[0-9]+==ERROR: (AddressSanitizer|LeakSanitizer))' "$log")
    if [ "$reports" -gt 0 ]; then
        echo "-- $name: $reports sanitizer report(s); first lines of each:"
        grep -A 12 -E '^(WARNING: ThreadSanitizer|==[0-9]+==ERROR: (AddressSanitizer|LeakSanitizer))' "$log" | head -n 200
    fi
    local verdict=clean
    if [ "$rc" -ne 0 ] || [ "$reports" -gt 0 ]; then verdict="NOT CLEAN (exit $rc, $reports report(s))"; STATUS=1; fi
    SUMMARY+=("$name: $verdict; build $(fmt $((built - start))), tests $(fmt $((done - built)))${TEST_ARGS[*]:+ (swift test ${TEST_ARGS[*]})}")
}

[ "$which" = tsan ] || [ "$which" = all ] && run_one TSan thread .build-tsan 5
[ "$which" = asan ] || [ "$which" = all ] && run_one ASan address .build-asan 2

echo
echo "== sanitizers summary (2 cores: $(nproc) here)"
printf '   %s\n' "${SUMMARY[@]}"
exit $STATUS
