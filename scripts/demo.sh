#!/usr/bin/env bash
# The main job, loopback only, inside the DNS test world (make demo runs it there).
set -euo pipefail
EVERGREEN=${EVERGREEN:-.build/release/evergreen}
echo "== evergreen: a wait ping-pong on one hub"
"$EVERGREEN" bench wait --rounds 50000
