#!/usr/bin/env bash
# soak.sh - `evergreen soak` inside the DNS world (scripts/dnsworld), so that
# its lookups reach only the test zone's dnsmasq on 127.0.0.1:53.
#
# USAGE
#   scripts/soak.sh [EVERGREEN-SOAK-ARGS...]
#     e.g. scripts/soak.sh --scale 0.1
#          scripts/soak.sh --phases lookups --backends ares --lookups 50000
#   `evergreen soak --help` lists every option.
#
# Environment:
#   SOAK_CONFIG   release (default; `make soak` builds it) or debug: which
#                 build of evergreen to run. It must be built already.
#
# Exits with evergreen's status: 0 when every phase passes.

set -uo pipefail

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
REPO=$(cd -- "$(dirname -- "$SELF")/.." && pwd -P)
cd -- "$REPO" || exit 2

config=${SOAK_CONFIG:-release}
bin="$REPO/.build/$config/evergreen"
[ -x "$bin" ] || { echo "soak: $bin is missing: run 'make release' (or swift build -c $config --product evergreen)" >&2; exit 2; }

start=$(date +%s)
"$REPO/scripts/dnsworld" run -- "$bin" soak "$@"
rc=$?
echo "soak: exit status $rc after $(( $(date +%s) - start )) s"
exit $rc
