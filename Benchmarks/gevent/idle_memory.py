"""Idle-connection memory: gevent reference for the Evergreen "memory" benchmark.

Two modes:

  python idle_memory.py serve --port P [--host H]
      The measured gevent server: StreamServer, one greenlet per connection
      blocked in sock.recv() (same recv/sendall echo handler as echo_server.py).
      Prints "gevent idle_memory server listening on H:P" once ready.

  python idle_memory.py [measure] [--connections 10000] [--json]
      Starts the server above as a child, reads its VmRSS from /proc, opens K idle
      connections with ../bin/idle_client (each pinged once so its greenlet has run
      and is blocked in recv again), reads VmRSS again and prints
        memory gevent: <bytes> bytes/connection (K connections, RSS A kB -> B kB)
      or with --json one line:
        {"bench":"memory","impl":"gevent","connections":K,"rss_before_kb":A,
         "rss_after_kb":B,"bytes_per_conn":X,"connect_seconds":S}

The Evergreen counterpart is `Benchmarks/idle_memory.py --impl evergreen`.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def serve(args) -> int:
    from gevent.server import StreamServer

    sys.path.insert(0, HERE)
    from echo_server import handle, raise_nofile

    raise_nofile()
    server = StreamServer((args.host, args.port), handle, backlog=args.backlog)
    server.start()
    print(f"gevent idle_memory server listening on {args.host}:{server.server_port}", flush=True)
    server.serve_forever()
    return 0


def measure(args) -> int:
    sys.path.insert(0, os.path.dirname(HERE))
    import benchlib

    benchlib.install_cleanup()
    port = benchlib.free_port(args.host)
    cmd = [sys.executable, os.path.abspath(__file__), "serve", "--port", str(port), "--host", args.host]
    try:
        res = benchlib.measure_idle(cmd, port, args.connections, "gevent", host=args.host)
    except benchlib.BenchError as e:
        print(f"idle_memory: {e}", file=sys.stderr)
        return 1
    finally:
        benchlib.kill_all()
    if args.json:
        print(json.dumps(res, separators=(",", ":")))
    else:
        print(f"memory gevent: {res['bytes_per_conn']:.0f} bytes/connection ({res['connections']} connections, "
              f"RSS {res['rss_before_kb']} kB -> {res['rss_after_kb']} kB)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode")
    sp = sub.add_parser("serve", help="run the gevent idle server")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--backlog", type=int, default=4096)
    mp = sub.add_parser("measure", help="measure RSS per idle connection (default)")
    for p in (ap, mp):
        p.add_argument("--connections", type=int, default=10000)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.mode == "serve":
        return serve(args)
    if args.connections <= 0:
        ap.error("--connections must be > 0")
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
