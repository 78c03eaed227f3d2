#!/usr/bin/env bash
# Prepares everything the Evergreen benchmarks need (idempotent, quick when done):
#   Benchmarks/.venv              python venv with gevent + matplotlib (from PyPI)
#   Benchmarks/bin/*              C reference programs (cc -O2)
#   Benchmarks/nio-echo/.build/   SwiftNIO reference echo server (swift build -c release --static-swift-stdlib)
# It does not build Evergreen itself (bench.py does that).
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$BENCH/.venv"
BIN="$BENCH/bin"
PYTHON="${PYTHON:-python3}"
GEVENT_SPEC="gevent==26.9.0"          # ships a manylinux wheel for CPython 3.11
MATPLOTLIB_SPEC="matplotlib==3.10.9"
CC="${CC:-cc}"

say() { printf 'setup: %s\n' "$*"; }

# ---------------------------------------------------------------- python venv
venv_ok() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$GEVENT_SPEC" "$MATPLOTLIB_SPEC" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    if version(name) != want:
        sys.exit(1)
import gevent, matplotlib  # noqa: F401  (importable, not just installed)
EOF
}

if venv_ok; then
    say "venv ok ($GEVENT_SPEC, $MATPLOTLIB_SPEC)"
else
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            if "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
                say "python3 -m venv failed"; exit 1
            fi
            # Debian's python3 without ensurepip: try python3-venv, else virtualenv from PyPI.
            if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
                say "installing python3-venv"
                apt-get install -y -q python3-venv >/dev/null || true
            fi
            if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
                rm -rf "$VENV"
                say "falling back to virtualenv"
                "$PYTHON" -m pip install -q --user virtualenv
                "$PYTHON" -m virtualenv -q "$VENV"
            fi
        fi
    fi
    say "installing $GEVENT_SPEC $MATPLOTLIB_SPEC into the venv"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        --only-binary=gevent "$GEVENT_SPEC" "$MATPLOTLIB_SPEC"
    venv_ok || { say "venv check failed after install"; exit 1; }
fi

# ---------------------------------------------------------------- C programs
mkdir -p "$BIN"
build_c() { # name [libs...]
    local name="$1"; shift
    local src="$BENCH/c/$name.c" out="$BIN/$name"
    if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
        say "cc -O2 $name"
        "$CC" -O2 -Wall -o "$out.tmp" "$src" "$@"
        mv -f "$out.tmp" "$out"
    fi
}
build_c pingpong_libev -lev
build_c echo_server_epoll
build_c echo_client
build_c idle_client
say "C programs ok ($BIN)"

# ---------------------------------------------------------------- SwiftNIO echo
NIO_DIR="$BENCH/nio-echo"
NIO_BIN="$NIO_DIR/.build/release/nio-echo"
newest_src="$(find "$NIO_DIR/Package.swift" "$NIO_DIR/Sources" -type f -newer "$NIO_BIN" 2>/dev/null | head -1 || true)"
# Linked like evergreen (`make release`): the Swift runtime statically.
if [ ! -x "$NIO_BIN" ] || [ -n "$newest_src" ] || ldd "$NIO_BIN" | grep -q libswiftCore; then
    say "swift build -c release --static-swift-stdlib (nio-echo; the first build takes a few minutes)"
    swift build -c release --static-swift-stdlib --package-path "$NIO_DIR" 2>&1 | grep -E 'error|warning: unre|Compiling nio|Build complete' || true
    [ -x "$NIO_BIN" ] || { say "nio-echo build failed"; exit 1; }
    touch "$NIO_BIN"
fi
say "nio-echo ok ($NIO_BIN)"
