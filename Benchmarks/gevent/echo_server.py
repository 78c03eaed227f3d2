"""gevent reference TCP echo server for the Evergreen "echo" benchmark.

gevent.server.StreamServer, one greenlet per connection running a plain
recv/sendall loop (the idiomatic gevent server).

  python echo_server.py --port P [--host H] [--backlog N]

Prints "gevent echo_server listening on H:P" once ready; runs until killed.
"""
import argparse
import resource
import socket as _stdsocket
import sys

from gevent.server import StreamServer


def handle(sock, _address):
    sock.setsockopt(_stdsocket.IPPROTO_TCP, _stdsocket.TCP_NODELAY, 1)
    recv = sock.recv
    sendall = sock.sendall
    try:
        while True:
            data = recv(65536)
            if not data:
                break
            sendall(data)
    except OSError:
        pass
    finally:
        sock.close()


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1", help="numeric address (default 127.0.0.1)")
    ap.add_argument("--backlog", type=int, default=4096)
    args = ap.parse_args()
    raise_nofile()
    server = StreamServer((args.host, args.port), handle, backlog=args.backlog)
    server.start()
    print(f"gevent echo_server listening on {args.host}:{server.server_port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
