#!/usr/bin/env python3
"""Idle-connection memory for one server: Evergreen (default) or the gevent reference.

  python Benchmarks/idle_memory.py [--impl evergreen|gevent] [--evergreen PATH]
                                   [--connections 10000] [--json]

Starts the server on a free loopback port (evergreen: `<evergreen> serve-echo --port P
--host 127.0.0.1`; gevent: `gevent/idle_memory.py serve`), reads its VmRSS from
/proc/<pid>/status, opens K idle connections with bin/idle_client (each pinged once,
so its handler has run and is blocked in recv again), reads VmRSS again and prints
  memory <impl>: <bytes> bytes/connection (K connections, RSS A kB -> B kB)
or with --json one line:
  {"bench":"memory","impl":"<impl>","connections":K,"rss_before_kb":A,"rss_after_kb":B,
   "bytes_per_conn":X,"connect_seconds":S}
bench.py's "memory" section does exactly this for both and compares them.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impl", choices=["evergreen", "gevent"], default="evergreen")
    ap.add_argument("--evergreen", default=str(bl.ROOT / ".build" / "release" / "evergreen"))
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.connections <= 0:
        ap.error("--connections must be > 0")
    bl.install_cleanup()
    port = bl.free_port()
    if args.impl == "evergreen":
        if not Path(args.evergreen).exists():
            print(f"idle_memory: {args.evergreen} not found (swift build -c release --product evergreen)",
                  file=sys.stderr)
            return 1
        cmd = [args.evergreen, "serve-echo", "--port", str(port), "--host", bl.LOOPBACK]
    else:
        py = str(bl.VENV_PY if bl.VENV_PY.exists() else Path(sys.executable))
        cmd = [py, str(bl.BENCH_DIR / "gevent" / "idle_memory.py"), "serve", "--port", str(port),
               "--host", bl.LOOPBACK]
    try:
        res = bl.measure_idle(cmd, port, args.connections, args.impl)
    except bl.BenchError as e:
        print(f"idle_memory: {args.impl}: {e}", file=sys.stderr)
        return 1
    finally:
        bl.kill_all()
    if args.json:
        print(json.dumps(res, separators=(",", ":")))
    else:
        print(f"memory {args.impl}: {res['bytes_per_conn']:.0f} bytes/connection ({res['connections']} "
              f"connections, RSS {res['rss_before_kb']} kB -> {res['rss_after_kb']} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
