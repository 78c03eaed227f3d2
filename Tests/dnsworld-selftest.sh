#!/usr/bin/env bash
# Self-test for scripts/dnsworld and Fixtures/dns: every lookup below runs
# INSIDE the private namespace that dnsworld makes (never against the host's
# resolver). Must run as root. Last line of output: "N passed, M failed";
# exit status is non-zero if anything failed.
#
# Usage: Tests/dnsworld-selftest.sh
#
# Debian packages: bash coreutils util-linux mount iproute2 dnsmasq-base libc-bin dnsperf mawk diffutils sed

set -uo pipefail

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
REPO=$(cd -- "$(dirname -- "$SELF")/.." && pwd -P)
DW="$REPO/scripts/dnsworld"
FIX="$REPO/Fixtures/dns"

PASS=0 FAIL=0
pass() { PASS=$((PASS + 1)); printf 'ok   - %s\n' "$1"; }
fail() { FAIL=$((FAIL + 1)); printf 'FAIL - %s\n' "$1"; [ $# -lt 2 ] || printf '%s\n' "$2" | sed 's/^/         /'; }
# check DESC CMD...: pass if CMD succeeds
check() { local d=$1 out; shift; if out=$("$@" 2>&1); then pass "$d"; else fail "$d" "$out"; fi; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# addrs ARGS...: sorted unique addresses printed by getent ARGS (empty on failure)
addrs() { getent "$@" 2>/dev/null | awk '{print $1}' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# expect_addrs DESC "EXPECTED" getent-args...
expect_addrs() {
    local d=$1 want=$2 got; shift 2
    got=$(addrs "$@")
    if [ "$got" = "$want" ]; then pass "$d -> $got"; else fail "$d" "expected '$want', got '${got:-<nothing>}' (getent $*)"; fi
}
# expect_fail_fast DESC MAX_MS getent-args...: lookup must fail, within MAX_MS
expect_fail_fast() {
    local d=$1 max=$2 t0 rc el out; shift 2
    t0=$(now_ms); out=$(getent "$@" 2>&1); rc=$?; el=$(( $(now_ms) - t0 ))
    if [ "$rc" -ne 0 ] && [ "$el" -lt "$max" ]; then pass "$d (getent rc=$rc in ${el} ms)"
    else fail "$d" "getent $* -> rc=$rc in ${el} ms (want failure < ${max} ms): $out"; fi
}
# connect_outcome ADDR PORT SECS: "hang" if a TCP connect is still pending after SECS,
# else "fail <ms>" or "connected <ms>"
connect_outcome() {
    local t0 rc el
    t0=$(now_ms)
    timeout "$3" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; rc=$?
    el=$(( $(now_ms) - t0 ))
    case $rc in 124) echo hang ;; 0) echo "connected $el" ;; *) echo "fail $el" ;; esac
}

summary_to() { echo "$PASS $FAIL" > "$1"; }

# ===========================================================================
# Part 1: runs inside `scripts/dnsworld run --blackhole-ipv6 2001:db8:dead::/48`
# ===========================================================================
inside_main() {
    local hn got out qfile

    echo "# inside: netns $(readlink /proc/self/ns/net), DNSWORLD_SERVER=${DNSWORLD_SERVER:-unset}"
    check "DNSWORLD=1 and DNSWORLD_DIR exported" test "${DNSWORLD:-}" = 1 -a "${DNSWORLD_DIR:-}" = "$FIX"
    check "/etc/resolv.conf is the fixture" cmp /etc/resolv.conf "$FIX/resolv.conf"
    check "nsswitch hosts line is 'files dns'" grep -Eq '^hosts:[[:space:]]+files dns[[:space:]]*$' /etc/nsswitch.conf
    check "no default route (IPv4)" test -z "$(ip -4 route show default)"
    check "no default route (IPv6)" test -z "$(ip -6 route show default)"
    check "::1 on lo" bash -c 'ip -6 addr show dev lo | grep -q "inet6 ::1/128"'
    check "dummy0 has 192.0.2.1/24 and 2001:db8:1::1/64" bash -c \
        'ip addr show dev dummy0 | grep -q "inet 192.0.2.1/24" && ip addr show dev dummy0 | grep -q "inet6 2001:db8:1::1/64"'

    # --- forward lookups through getaddrinfo (files, then dnsmasq) ---------
    expect_addrs "one.evergreen.test (one A)" "192.0.2.10" ahosts one.evergreen.test
    expect_addrs "searchonly via 'search evergreen.test'" "192.0.2.40" ahosts searchonly
    got=$(getent ahosts searchonly | awk 'NR==1 {print $3}')
    check "searchonly canonical name is searchonly.evergreen.test" test "$got" = searchonly.evergreen.test
    hn=$(hostname 2>/dev/null || uname -n)
    expect_addrs "own hostname '$hn' from hosts" "127.0.1.1" hosts "$hn"
    expect_addrs "localhost" "127.0.0.1 ::1" ahosts localhost
    expect_addrs "many.evergreen.test (4 A)" "192.0.2.21 192.0.2.22 192.0.2.23 192.0.2.24" ahosts many.evergreen.test
    expect_addrs "many6.evergreen.test (4 AAAA)" "2001:db8::21 2001:db8::22 2001:db8::23 2001:db8::24" ahosts many6.evergreen.test
    expect_addrs "v6only.evergreen.test (AAAA only)" "2001:db8::10" ahosts v6only.evergreen.test
    expect_fail_fast "v6only.evergreen.test has no A (NODATA)" 1000 ahostsv4 v6only.evergreen.test
    expect_addrs "dual.evergreen.test A+AAAA (AI_ADDRCONFIG sees both families)" "192.0.2.30 2001:db8::30" ahosts dual.evergreen.test
    expect_addrs "alias.evergreen.test via CNAME chain" "192.0.2.30 2001:db8::30" ahosts alias.evergreen.test
    got=$(getent ahosts alias.evergreen.test | awk 'NR==1 {print $3}')
    check "alias -> alias-mid -> dual: canonical name is dual.evergreen.test (got '$got')" test "$got" = dual.evergreen.test
    expect_addrs "xn--bcher-kva.evergreen.test (punycode)" "192.0.2.50" ahosts xn--bcher-kva.evergreen.test
    expect_addrs "bücher.evergreen.test (getent AI_IDN -> punycode)" "192.0.2.50" ahosts "bücher.evergreen.test"
    expect_addrs "hostsonly.evergreen.test from hosts" "192.0.2.60 2001:db8::60" ahosts hostsonly.evergreen.test
    expect_fail_fast "hostsonly.evergreen.test not in DNS (getent -s hosts:dns)" 1000 -s hosts:dns ahosts hostsonly.evergreen.test
    expect_addrs "hostsfirst.evergreen.test: hosts file wins" "192.0.2.70" ahostsv4 hostsfirst.evergreen.test
    expect_addrs "hostsfirst.evergreen.test: DNS has 192.0.2.71" "192.0.2.71" -s hosts:dns ahostsv4 hostsfirst.evergreen.test
    expect_addrs "deadv6.evergreen.test (Happy Eyeballs pair)" "192.0.2.1 2001:db8:dead::1" ahosts deadv6.evergreen.test
    expect_addrs "here.evergreen.test (dummy0's addresses)" "192.0.2.1 2001:db8:1::1" ahosts here.evergreen.test
    got=$(getent ahostsv4 big.evergreen.test | awk '$2 == "STREAM"' | wc -l)
    check "big.evergreen.test: 64 A records (needs TCP fallback), got $got" test "$got" = 64
    expect_addrs "bench name b04242.bench.evergreen.test" "203.0.113.179" ahosts b04242.bench.evergreen.test

    # --- reverse lookups -------------------------------------------------
    got=$(getent hosts 192.0.2.10 | awk '{print $2}')
    check "reverse 192.0.2.10 -> one.evergreen.test (got '$got')" test "$got" = one.evergreen.test
    got=$(getent hosts 2001:db8::10 | awk '{print $2}')
    check "reverse 2001:db8::10 -> v6only.evergreen.test (got '$got')" test "$got" = v6only.evergreen.test
    got=$(getent hosts 198.51.100.99 | awk '{print $2}')
    check "reverse 198.51.100.99 -> ptronly.evergreen.test (got '$got')" test "$got" = ptronly.evergreen.test
    expect_fail_fast "reverse 192.0.2.200 (no PTR) fails" 1000 hosts 192.0.2.200

    # --- names that must not exist -----------------------------------------
    expect_fail_fast "nonexistent.evergreen.test fails (NXDOMAIN)" 1000 ahosts nonexistent.evergreen.test
    expect_fail_fast "unknown TLD www.nosuchtld fails fast" 1000 ahosts www.nosuchtld
    expect_fail_fast "unknown name in another TLD (other.test) fails fast" 1000 ahosts host.other.test

    # --- IPv6 blackhole (--blackhole-ipv6 2001:db8:dead::/48) ---------------
    got=$(connect_outcome 2001:db8:dead::1 80 2)
    check "TCP connect to [2001:db8:dead::1]:80 hangs (blackholed): $got" test "$got" = hang
    got=$(connect_outcome 2001:db8:beef::1 80 2)
    check "TCP connect to [2001:db8:beef::1]:80 fails fast (no route): $got" bash -c '[[ "$0" == fail* ]] && (( ${0#fail } < 500 ))' "$got"
    got=$(connect_outcome 192.0.2.1 9 2)
    check "TCP connect to 192.0.2.1:9 (dummy0, local) is refused fast: $got" bash -c '[[ "$0" == fail* ]] && (( ${0#fail } < 500 ))' "$got"
    got=$(connect_outcome 2001:db8:1::1 9 2)
    check "TCP connect to [2001:db8:1::1]:9 (dummy0, local) is refused fast: $got" bash -c '[[ "$0" == fail* ]] && (( ${0#fail } < 500 ))' "$got"

    # --- dnsperf: every bench name answers; throughput --------------------
    if ! command -v dnsperf >/dev/null; then
        fail "dnsperf installed" "dnsperf not found (Debian package dnsperf)"
    else
        qfile="$DNSWORLD_TMP/bench-queries.txt"
        sed 's/$/ A/' "$FIX/bench-names.txt" > "$qfile"
        out=$(dnsperf -s 127.0.0.1 -d "$qfile" -n 1 2>&1)
        if grep -Eq 'Queries completed:[[:space:]]+10000 ' <<<"$out" &&
           grep -Eq 'Response codes:[[:space:]]+NOERROR 10000 \(100\.00%\)' <<<"$out"; then
            pass "dnsperf: all 10000 bench names answer NOERROR (one pass)"
        else
            fail "dnsperf: all 10000 bench names answer NOERROR" "$out"
        fi
        out=$(dnsperf -s ::1 -d "$qfile" -n 1 2>&1)
        if grep -Eq 'Response codes:[[:space:]]+NOERROR 10000 \(100\.00%\)' <<<"$out"; then
            pass "dnsperf over [::1]:53: all 10000 answer NOERROR"
        else
            fail "dnsperf over [::1]:53" "$out"
        fi
        out=$(dnsperf -s 127.0.0.1 -d "$qfile" -l 2 2>&1)
        local qps completed
        qps=$(awk '/Queries per second:/ {printf "%d", $4}' <<<"$out")
        completed=$(awk '/Queries completed:/ {print $3}' <<<"$out")
        if [ "${completed:-0}" -gt 0 ] && grep -q 'NOERROR' <<<"$out"; then
            pass "dnsperf -s 127.0.0.1 -l 2: $completed answers, ${qps} qps"
        else
            fail "dnsperf -s 127.0.0.1 -l 2 gets answers" "$out"
        fi
    fi
}

# ===========================================================================
# Part 2: runs inside `DNSWORLD_LOG=1 scripts/dnsworld run` (query log on)
# ===========================================================================
inside_log() {
    local log=${DNSWORLD_LOGFILE:-}
    check "DNSWORLD_LOGFILE exported and exists" test -n "$log" -a -f "$log"
    getent ahosts www.nosuchtld >/dev/null 2>&1
    getent ahosts one.evergreen.test >/dev/null 2>&1
    getent ahosts nonexistent.evergreen.test >/dev/null 2>&1
    sleep 0.3   # --log-async
    check "log shows the unknown-TLD query answered locally (REFUSED)" \
        grep -Eq 'config error is REFUSED' "$log"
    check "log shows NXDOMAIN for nonexistent.evergreen.test" \
        grep -q 'config nonexistent.evergreen.test is NXDOMAIN' "$log"
    if grep -Eqi 'forwarded|reply .* from [0-9]' "$log"; then
        fail "nothing was forwarded upstream" "$(grep -Ei 'forwarded|reply' "$log" | head -5)"
    else
        pass "nothing was forwarded upstream (no 'forwarded' lines in the dnsmasq log)"
    fi
    check "dnsmasq has no upstream server configured" grep -q 'no upstream servers configured' "$log"
}

case ${1:-} in
    --inside-main) inside_main; summary_to "$2"; exit 0 ;;
    --inside-log) inside_log; summary_to "$2"; exit 0 ;;
esac

# ===========================================================================
# Part 3: outside: drive dnsworld, check lifecycle properties
# ===========================================================================
RES=$(mktemp -d "${TMPDIR:-/tmp}/dnsworld-selftest.XXXXXX")
trap 'rm -rf -- "$RES"' EXIT

add_counts() { # add_counts FILE DESC: fold an inner run's counts in
    local p f
    if [ -s "$1" ] && read -r p f < "$1"; then PASS=$((PASS + p)); FAIL=$((FAIL + f))
    else fail "$2" "inner run produced no result (dnsworld failed to start?)"; fi
}
# gone PID: the process no longer runs (a zombie awaiting reaping counts as gone)
gone() { [ ! -d "/proc/$1" ] || [ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" = Z ]; }

if out=$("$DW" check 2>&1); then pass "scripts/dnsworld check"; else fail "scripts/dnsworld check" "$out"; fi
sums=$(md5sum /etc/resolv.conf /etc/hosts /etc/nsswitch.conf 2>/dev/null)

echo "# part 1: lookups inside the namespace"
"$DW" run --blackhole-ipv6 2001:db8:dead::/48 -- bash "$SELF" --inside-main "$RES/main"
add_counts "$RES/main" "inside run (main)"

echo "# part 2: query log / no forwarding"
DNSWORLD_LOG=1 "$DW" run -- bash "$SELF" --inside-log "$RES/log"
add_counts "$RES/log" "inside run (log)"

echo "# part 3: lifecycle"
check "host /etc/resolv.conf, /etc/hosts, /etc/nsswitch.conf untouched" test "$sums" = "$(md5sum /etc/resolv.conf /etc/hosts /etc/nsswitch.conf 2>/dev/null)"

"$DW" run sh -c 'exit 7'; rc=$?
check "exit status of CMD is propagated (7, got $rc)" test "$rc" = 7

out=$(cd / && "$DW" run sh -c 'pwd')
check "working directory unchanged (/ -> '$out')" test "$out" = /

out=$(echo piped-stdin | "$DW" run cat)
check "stdin passed through to CMD" test "$out" = piped-stdin

out=$(FOO_SELFTEST=bar "$DW" run sh -c 'echo "$FOO_SELFTEST $DNSWORLD $DNSWORLD_SERVER"')
check "environment passed through + DNSWORLD vars ('$out')" test "$out" = "bar 1 127.0.0.1:53"

out=$("$DW" run bash -c 'o=$DNSWORLD_TMP; "$0" run --blackhole-ipv6 2001:db8:beef::/48 bash -c "
        [ \"\$DNSWORLD_TMP\" = \"$o\" ] && ip -6 route show 2001:db8:beef::/48 | grep -q dummy0 && echo nested-ok"' "$DW" 2>&1)
check "nested run execs CMD in the same world (and adds blackholes)" test "$out" = nested-ok

out=$(DNSWORLD=1 DNSWORLD_NETNS=bogus "$DW" run sh -c 'test "$DNSWORLD_NETNS" = "$(readlink /proc/self/ns/net)" && grep -c "^nameserver 127.0.0.1" /etc/resolv.conf' 2>/dev/null)
check "stale DNSWORLD=1 from outside is not trusted (fresh world made)" test "$out" = 1

# two concurrent worlds
"$DW" run bash -c 'getent ahosts one.evergreen.test >/dev/null && sleep 1 && getent ahosts dual.evergreen.test >/dev/null' & p1=$!
"$DW" run bash -c 'getent ahosts many.evergreen.test >/dev/null && sleep 1 && getent ahosts alias.evergreen.test >/dev/null' & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
check "two concurrent runs both succeed ($r1, $r2)" test "$r1$r2" = 00

# cleanup when CMD fails
"$DW" run sh -c 'echo "$DNSWORLD_TMP $(cat "$DNSWORLD_TMP/dnsmasq.pid")" > "$0"; exit 3' "$RES/st1"; rc=$?
read -r tdir dpid < "$RES/st1"
sleep 0.2
check "CMD failure: status 3 ($rc), temp dir removed, dnsmasq stopped" \
    bash -c '[ "$0" = 3 ] && [ ! -e "$1" ] && { [ ! -d "/proc/$2" ] || grep -q "^State:.*Z" "/proc/$2/status"; }' "$rc" "$tdir" "$dpid"

# cleanup when dnsworld gets SIGTERM (forwarded to CMD)
"$DW" run sh -c 'echo "$DNSWORLD_TMP $(cat "$DNSWORLD_TMP/dnsmasq.pid")" > "$0"; exec sleep 30' "$RES/st2" & p=$!
for _ in $(seq 50); do [ -s "$RES/st2" ] && break; sleep 0.1; done
kill -TERM "$p"; wait "$p"; rc=$?
read -r tdir dpid < "$RES/st2"
sleep 0.2
check "SIGTERM: exit 143 ($rc), temp dir removed, dnsmasq stopped" \
    bash -c '[ "$0" = 143 ] && [ ! -e "$1" ] && { [ ! -d "/proc/$2" ] || grep -q "^State:.*Z" "/proc/$2/status"; }' "$rc" "$tdir" "$dpid"

# SIGKILL of dnsworld itself: dnsmasq must still die (parent-death signal)
"$DW" run sh -c 'echo "$DNSWORLD_TMP $(cat "$DNSWORLD_TMP/dnsmasq.pid") $$" > "$0"; exec sleep 30' "$RES/st3" & p=$!
for _ in $(seq 50); do [ -s "$RES/st3" ] && break; sleep 0.1; done
kill -KILL "$p"; wait "$p" 2>/dev/null
read -r tdir dpid cpid < "$RES/st3"
sleep 0.3
if gone "$dpid"; then pass "SIGKILL of dnsworld: dnsmasq dies too (pdeathsig)"; else fail "SIGKILL of dnsworld: dnsmasq dies too" "dnsmasq $dpid still running"; kill "$dpid"; fi
kill "$cpid" 2>/dev/null   # the orphaned CMD (sleep) we started
rm -rf -- "$tdir"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
