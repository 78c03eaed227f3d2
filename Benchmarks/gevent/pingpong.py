"""gevent reference for the Evergreen "wait" benchmark.

Two greenlets ping-pong one byte over two non-blocking pipes:
  side A: os.write(pipe1), wait_read(pipe2), os.read(pipe2), repeat
  side B: wait_read(pipe1), os.read(pipe1), os.write(pipe2)
using the idiomatic gevent.socket.wait_read(fd) (a fresh io watcher per wait).

  python pingpong.py [--rounds N] [--json]

Output: "wait ping-pong (gevent): <rate> round trips/s"
  or with --json one line:
  {"bench":"wait","impl":"gevent","rounds":N,"seconds":S,"rate":R}
"""
import argparse
import json
import os
import sys
import time

import gevent
from gevent.socket import wait_read


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=200000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.rounds <= 0:
        ap.error("--rounds must be > 0")
    rounds = args.rounds

    p1r, p1w = os.pipe()
    p2r, p2w = os.pipe()
    for fd in (p1r, p1w, p2r, p2w):
        os.set_blocking(fd, False)

    read = os.read
    write = os.write

    def side_a():
        for _ in range(rounds):
            write(p1w, b"x")
            wait_read(p2r)
            read(p2r, 1)

    def side_b():
        for _ in range(rounds):
            wait_read(p1r)
            read(p1r, 1)
            write(p2w, b"x")

    t0 = time.perf_counter()
    gb = gevent.spawn(side_b)
    ga = gevent.spawn(side_a)
    gevent.joinall([ga, gb], raise_error=True)
    secs = time.perf_counter() - t0

    rate = rounds / secs
    if args.json:
        print(json.dumps({"bench": "wait", "impl": "gevent", "rounds": rounds,
                          "seconds": round(secs, 6), "rate": round(rate, 1)}, separators=(",", ":")))
    else:
        print(f"wait ping-pong (gevent): {rate:.0f} round trips/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
