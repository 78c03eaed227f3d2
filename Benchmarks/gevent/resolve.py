"""gevent reference for the Evergreen "resolve" benchmark.

  python resolve.py --resolver thread|ares --names FILE [--concurrency C]
                    [--nameserver 127.0.0.1:53] [--json]

Resolves every name in FILE once with gevent's resolver of that kind:
getaddrinfo(name, None, AF_INET, SOCK_STREAM), at most C lookups in flight
(gevent.pool.Pool). Prints
  resolve gevent-<kind>: <rate> lookups/s (N lookups, F failures, S s)
or with --json one line:
  {"bench":"resolve","impl":"gevent-<kind>","lookups":N,"failures":F,"seconds":S,"rate":R}
(rate counts successful lookups only).

ONLY run this inside the project's DNS test namespace (`scripts/dnsworld run -- ...`):
outside it the system resolver would send the names to real DNS servers. As a guard
it refuses to run unless DNSWORLD=1 is set (dnsworld sets it) and the network
namespace has no default route (nothing can leave the machine);
--i-am-in-dnsworld skips that check.

FILE: one name per line; blank lines and '#' comments are ignored; only the first
whitespace-separated field of a line is used.
"""
import argparse
import json
import os
import sys
import time


def load_names(path):
    names = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line.split()[0])
    return names


def has_default_route() -> bool:
    """True if this network namespace has an IPv4 or IPv6 default route over a non-loopback device."""
    try:
        with open("/proc/self/net/route") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) >= 8 and fields[1] == "00000000" and fields[7] == "00000000" and fields[0] != "lo":
                    return True
    except OSError:
        return True  # cannot tell: assume the worst
    try:
        with open("/proc/self/net/ipv6_route") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 10 and int(fields[0], 16) == 0 and fields[1] == "00" and fields[-1] != "lo":
                    return True
    except OSError:
        pass  # no IPv6 in this kernel/namespace
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resolver", choices=["thread", "ares"], required=True)
    ap.add_argument("--names", required=True)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--nameserver", default="127.0.0.1:53",
                    help="ares only: HOST:PORT of the DNS server (default 127.0.0.1:53)")
    ap.add_argument("--threads", type=int, default=0,
                    help="thread only: gevent threadpool size (default: gevent's own default)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--i-am-in-dnsworld", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.concurrency <= 0:
        ap.error("--concurrency must be > 0")
    if not args.i_am_in_dnsworld and (os.environ.get("DNSWORLD") != "1" or has_default_route()):
        print("resolve.py: refusing to run outside the DNS test namespace (DNSWORLD=1 not set or a default "
              "route exists); run it as: scripts/dnsworld run -- python resolve.py ...", file=sys.stderr)
        return 2

    names = load_names(args.names)
    if not names:
        print(f"resolve.py: no names in {args.names}", file=sys.stderr)
        return 2

    # gevent reads these when the hub's resolver is first created.
    os.environ["GEVENT_RESOLVER"] = args.resolver
    if args.resolver == "ares":
        host, _, port = args.nameserver.rpartition(":")
        if not host or not port.isdigit():
            ap.error("--nameserver must be HOST:PORT")
        # gevent's ares channel takes bare IP addresses; the port is a separate setting.
        os.environ["GEVENT_RESOLVER_NAMESERVERS"] = host.strip("[]")
        if port != "53":
            os.environ["GEVENTARES_UDP_PORT"] = port
            os.environ["GEVENTARES_TCP_PORT"] = port

    import gevent
    import gevent.pool
    import gevent.socket as gsocket
    from gevent import socket as _s

    hub = gevent.get_hub()
    if args.resolver == "thread" and args.threads > 0:
        hub.threadpool.maxsize = args.threads
    resolver = hub.resolver  # instantiate before timing
    getaddrinfo = gsocket.getaddrinfo
    ok = 0
    failed = 0
    errors = {}

    def one(name):
        nonlocal ok, failed
        try:
            if getaddrinfo(name, None, _s.AF_INET, _s.SOCK_STREAM):
                ok += 1
                return
            err = "empty result"
        except OSError as e:  # socket.gaierror is an OSError
            err = f"{type(e).__name__}: {e}"
        failed += 1
        errors[err] = errors.get(err, 0) + 1

    pool = gevent.pool.Pool(args.concurrency)
    t0 = time.perf_counter()
    for name in names:
        pool.spawn(one, name)
    pool.join()
    secs = time.perf_counter() - t0

    kind = type(resolver).__module__.rsplit(".", 1)[-1]
    rate = ok / secs if secs > 0 else 0.0
    impl = f"gevent-{args.resolver}"
    if args.json:
        print(json.dumps({"bench": "resolve", "impl": impl, "lookups": ok, "failures": failed,
                          "seconds": round(secs, 6), "rate": round(rate, 1), "resolver_module": kind, "errors": errors},
                         separators=(",", ":")))
    else:
        print(f"resolve {impl}: {rate:.0f} lookups/s ({ok} lookups, {failed} failures, {secs:.3f} s)")
        for err, n in sorted(errors.items(), key=lambda kv: -kv[1])[:5]:
            print(f"  {n} x {err}")
    return 0 if ok > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
