#!/usr/bin/env bash
# The main job, loopback only, inside the DNS test world (make demo runs it there):
# names resolved by every backend, Happy Eyeballs past a dead IPv6 route, then an
# echo server and a thousand concurrent client tasks on one hub.
set -euo pipefail
EVERGREEN=${EVERGREEN:-.build/release/evergreen}
if [ "${DNSWORLD:-}" != 1 ]; then
    echo "demo.sh resolves names: run it inside the test namespace (make demo, or scripts/dnsworld run -- bash scripts/demo.sh)" >&2
    exit 1
fi
scratch=$(mktemp -d "${DNSWORLD_TMP:-/tmp}/demo.XXXXXX")
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT

echo "== 1. resolve names with every backend, side by side"
if "$EVERGREEN" resolve --help 2>/dev/null | grep -q -- '--compare'; then
    # nonexistent.evergreen.test fails on purpose (exit status 1): errors are compared too.
    "$EVERGREEN" resolve --compare one.evergreen.test dual.evergreen.test alias.evergreen.test \
        v6only.evergreen.test hostsonly.evergreen.test nonexistent.evergreen.test || true
else
    echo "(this evergreen has no 'resolve --compare'; skipped)"
fi

echo
echo "== 2. Happy Eyeballs: deadv6.evergreen.test is 2001:db8:dead::1 (blackholed) and 192.0.2.1"
# Inside the namespace, dnsworld just adds the route to the current one.
scripts/dnsworld run --blackhole-ipv6 2001:db8:dead::/48 -- true
"$EVERGREEN" serve-echo --host 192.0.2.1 --port 0 > "$scratch/serve.out" &
server=$!
for _ in $(seq 50); do
    grep -q "^listening on" "$scratch/serve.out" 2>/dev/null && break
    sleep 0.1
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$scratch/serve.out")
if [ -z "$port" ]; then
    echo "serve-echo did not start" >&2
    exit 1
fi
"$EVERGREEN" connect deadv6.evergreen.test "$port" --timeout 5
kill "$server"
wait "$server" 2>/dev/null || true
server=""

echo
echo "== 3. an echo server and 1,000 concurrent client tasks on one hub"
"$EVERGREEN" demo echo --clients 1000 --messages 20

echo
echo "== 4. the hub alone: a wait ping-pong between two tasks"
"$EVERGREEN" bench wait --rounds 50000
