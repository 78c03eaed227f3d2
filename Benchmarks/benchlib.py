"""Shared helpers for the Evergreen benchmark driver and reference scripts.

Process bookkeeping (every child is started in its own session and killed, with its
whole process group, at exit), loopback port helpers, JSON-line parsing, /proc
readings, and the idle-connection memory measurement.

Only the standard library is used here so that any python3 can import it.
"""
from __future__ import annotations

import atexit
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
BIN_DIR = BENCH_DIR / "bin"
OUT_DIR = BENCH_DIR / "out"
LOG_DIR = OUT_DIR / "logs"
VENV_PY = BENCH_DIR / ".venv" / "bin" / "python"

LOOPBACK = "127.0.0.1"


class BenchError(Exception):
    """A benchmark step failed; str(e) is a short human-readable reason."""


# --------------------------------------------------------------------------- processes

_children: list[subprocess.Popen] = []


def _kill_group(p: subprocess.Popen, grace: float = 2.0) -> None:
    """SIGTERM the child's process group, then SIGKILL after `grace` seconds."""
    if p.poll() is not None:
        # The leader is gone; still sweep its group in case it left children.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass


def kill(p: subprocess.Popen | None) -> None:
    if p is None:
        return
    _kill_group(p)
    if p in _children:
        _children.remove(p)
    for stream in (p.stdin, p.stdout, p.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


def kill_all() -> None:
    while _children:
        kill(_children[-1])


def _on_signal(signum, _frame):
    kill_all()
    # Re-raise as the default action so the exit status says what happened.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def install_cleanup() -> None:
    """Kill every started child at exit and on SIGTERM/SIGINT/SIGHUP."""
    atexit.register(kill_all)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _on_signal)


def start(cmd: Sequence[str], log_name: str | None = None, stdin=subprocess.DEVNULL,
          stdout=None, cwd: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    """Start a child in a new session. Output goes to out/logs/<log_name>.log unless
    stdout is given (e.g. subprocess.PIPE)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    if stdout is None:
        log = open(LOG_DIR / f"{log_name or Path(cmd[0]).name}.log", "wb")
        out, err = log, subprocess.STDOUT
    else:
        log = None
        out, err = stdout, open(LOG_DIR / f"{log_name or Path(cmd[0]).name}.stderr.log", "wb")
    try:
        p = subprocess.Popen(list(cmd), stdin=stdin, stdout=out, stderr=err, cwd=cwd or ROOT,
                             env=env, start_new_session=True)
    except OSError as e:
        raise BenchError(f"cannot start {cmd[0]}: {e.strerror}") from e
    finally:
        if log is not None:
            log.close()
        if err is not subprocess.STDOUT:
            err.close()
    _children.append(p)
    return p


def log_tail(log_name: str, n: int = 400) -> str:
    for name in (f"{log_name}.log", f"{log_name}.stderr.log"):
        path = LOG_DIR / name
        if path.exists():
            text = path.read_text(errors="replace").strip()
            if text:
                return text[-n:]
    return ""


def run(cmd: Sequence[str], timeout: float, log_name: str, cwd: Path | None = None,
        env: dict | None = None) -> tuple[int, str, str]:
    """Run to completion with a hard timeout (kills the whole process group).
    Returns (returncode, stdout, stderr)."""
    try:
        p = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=cwd or ROOT, env=env,
                             start_new_session=True, text=True, errors="replace")
    except OSError as e:
        raise BenchError(f"cannot run {cmd[0]}: {e.strerror}") from e
    _children.append(p)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        raise BenchError(f"{Path(cmd[0]).name} timed out after {timeout:.0f}s")
    finally:
        if p in _children:
            _kill_group(p, grace=0.5)
            _children.remove(p)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    (LOG_DIR / f"{log_name}.log").write_text(
        f"$ {' '.join(map(str, cmd))}\n--- rc={p.returncode}\n--- stdout\n{out}\n--- stderr\n{err}\n")
    return p.returncode, out, err


def short(text: str, n: int = 160) -> str:
    text = " ".join(text.strip().split())
    return text if len(text) <= n else text[: n - 3] + "..."


def parse_json_line(stdout: str, bench: str | None = None) -> dict[str, Any]:
    """Last stdout line that is a JSON object (with "bench" == bench if given)."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and (bench is None or obj.get("bench") == bench):
            return obj
    raise BenchError(f"no JSON result line{' for ' + bench if bench else ''} in output: "
                     f"{short(stdout) or '(empty)'}")


def run_json(cmd: Sequence[str], timeout: float, log_name: str, bench: str,
             rate_key: str = "rate") -> dict[str, Any]:
    rc, out, err = run(cmd, timeout, log_name)
    if rc != 0:
        raise BenchError(f"exit {rc}: {short(err or out) or '(no output)'}")
    obj = parse_json_line(out, bench)
    try:
        rate = float(obj[rate_key])
    except (KeyError, TypeError, ValueError):
        raise BenchError(f"JSON result has no numeric {rate_key!r}: {short(json.dumps(obj))}")
    if not rate > 0:
        raise BenchError(f"non-positive {rate_key}: {rate}")
    obj[rate_key] = rate
    return obj


# --------------------------------------------------------------------------- system

def raise_nofile() -> int:
    """Raise our soft RLIMIT_NOFILE to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port(host: str = LOOPBACK) -> int:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(host: str, port: int, proc: subprocess.Popen, timeout: float, name: str) -> None:
    """Poll-connect until something listens on host:port; fail if proc dies first."""
    deadline = time.monotonic() + timeout
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_tail(name)
            raise BenchError(f"server exited with code {proc.returncode} before listening"
                             + (f": {short(tail)}" if tail else ""))
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            try:
                s.connect((host, port))
                return
            except OSError:
                pass
        time.sleep(0.05)
    raise BenchError(f"server not listening on {host}:{port} after {timeout:.0f}s")


def vmrss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


def count_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


# --------------------------------------------------------------------------- idle memory

def measure_idle(server_cmd: Sequence[str], port: int, connections: int, label: str,
                 host: str = LOOPBACK, ready_timeout: float = 20.0,
                 connect_timeout: float = 180.0) -> dict[str, Any]:
    """Start server_cmd (which must listen on host:port and echo), read its VmRSS,
    open `connections` idle connections with bin/idle_client (each pinged once, so
    its handler has run and is blocked in recv again), let RSS settle, read VmRSS again.
    Returns {"bench":"memory","impl":label,"connections":K,"rss_before_kb":..,
    "rss_after_kb":..,"bytes_per_conn":..}."""
    client_bin = BIN_DIR / "idle_client"
    if not client_bin.exists():
        raise BenchError(f"{client_bin} missing (run Benchmarks/setup.sh)")
    limit = raise_nofile()
    if limit < connections + 64:
        raise BenchError(f"RLIMIT_NOFILE {limit} too low for {connections} connections")
    server = client = None
    try:
        server = start(server_cmd, log_name=f"memory-{label}-server")
        wait_port(host, port, server, ready_timeout, f"memory-{label}-server")
        time.sleep(0.5)  # let the readiness probe connection be fully torn down
        pid = server.pid
        before = vmrss_kb(pid)
        fds_before = count_fds(pid)
        t0 = time.monotonic()
        client = start([str(client_bin), "--host", host, "--port", str(port),
                        "--connections", str(connections), "--timeout", str(connect_timeout)],
                       log_name=f"memory-{label}-client", stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE)
        line = _readline_timeout(client, connect_timeout + 10)
        if not line.startswith("idle_client connected"):
            client.wait(timeout=5)
            raise BenchError(f"idle_client failed: {short(log_tail(f'memory-{label}-client')) or 'no output'}")
        connect_secs = time.monotonic() - t0
        if server.poll() is not None:
            raise BenchError(f"server died with code {server.returncode} while connections were opened")
        # Let RSS settle: until two samples 0.3 s apart differ by < 0.5 % (max 5 s).
        after = vmrss_kb(pid)
        settle_deadline = time.monotonic() + 5
        while time.monotonic() < settle_deadline:
            time.sleep(0.3)
            now = vmrss_kb(pid)
            stable = abs(now - after) <= max(after * 0.005, 64)
            after = now
            if stable:
                break
        fds_after = count_fds(pid)
        if fds_after >= 0 and fds_before >= 0 and fds_after - fds_before < connections:
            raise BenchError(f"server holds only {fds_after - fds_before} new fds for {connections} connections")
        per_conn = (after - before) * 1024 / connections
        return {"bench": "memory", "impl": label, "connections": connections,
                "rss_before_kb": before, "rss_after_kb": after,
                "bytes_per_conn": round(per_conn, 1), "connect_seconds": round(connect_secs, 2)}
    finally:
        if client is not None:
            try:
                client.stdin.close()  # idle_client exits (and RSTs) on stdin EOF
                client.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
            kill(client)
        kill(server)


def _readline_timeout(p: subprocess.Popen, timeout: float) -> str:
    """Read one line from p.stdout, giving up after timeout or when p exits."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buf = b""
    fd = p.stdout.fileno()
    try:
        while time.monotonic() < deadline:
            if sel.select(timeout=min(1.0, max(0.0, deadline - time.monotonic()))):
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                if b"\n" in buf:
                    break
            elif p.poll() is not None:
                break
    finally:
        sel.close()
    return buf.decode(errors="replace").split("\n", 1)[0].strip()


def fmt_rate(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.0f}"


def eprint(*a) -> None:
    print(*a, file=sys.stderr, flush=True)


def load_names(path: Path) -> list[str]:
    """Names file: one name per line, '#' comments and blank lines ignored, first field only."""
    names = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line.split()[0])
    return names
