#!/usr/bin/env python3
"""Evergreen benchmark driver: Evergreen vs C / gevent / SwiftNIO reference programs.

Run with the venv python (made by Benchmarks/setup.sh):

    Benchmarks/setup.sh && Benchmarks/.venv/bin/python Benchmarks/bench.py [options]

Sections (all by default, or --only wait,resolve,echo,memory):

  wait     one-byte ping-pong over two pipes, best of --runs interleaved runs:
           evergreen `bench wait` vs C libev (persistent watchers) vs gevent wait_read.
           evergreen's hub runs on the main thread of a one-thread process, as
           gevent's hub and the C loop do; "evergreen-hub-thread" is the same with
           the hub on a thread of its own beside the main thread, and
           "evergreen-raw" waitRead(fd), a fresh watcher per call as gevent's
           wait_read(fd) makes
  resolve  inside the DNS test namespace (scripts/dnsworld run -- ...): evergreen
           `bench resolve` thread / ares vs gevent's thread / ares resolvers, and ares
           vs dnsperf against the same dnsmasq
  echo     closed-loop TCP echo, 100 connections x 64 bytes (bin/echo_client):
           evergreen `serve-echo` vs C epoll vs gevent StreamServer vs SwiftNIO (1 loop)
  memory   RSS growth per idle connection (10,000 connections, each server-side
           handler blocked in recv): evergreen `serve-echo` vs gevent

Prints every measurement and ratio, then a table of every ratio against its goal;
writes Benchmarks/out/results.json and Benchmarks/out/bench.png. Anything Evergreen
cannot do yet is reported as "n/a (reason)". Exit status is 0 unless --strict, in
which case it is 1 if any ratio is not a PASS (missed goal or n/a).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
from benchlib import BenchError  # noqa: E402

SECTIONS = ["wait", "resolve", "echo", "memory"]

# (section, key, numerator, denominator, op, goal, label)
RATIOS = [
    ("wait", "wait_vs_gevent", "evergreen", "gevent", ">=", 2.5, "wait evergreen/gevent"),
    ("wait", "wait_vs_c", "evergreen", "c-libev", ">=", 0.7, "wait evergreen/C libev"),
    # the hub on a thread of its own (a second thread costs every system call a little)
    ("wait", "wait_hub_thread_vs_gevent", "evergreen-hub-thread", "gevent", ">=", 2.5,
     "wait hub-thread evergreen/gevent"),
    # waitRead(fd) with a fresh watcher per call, as gevent's wait_read(fd) does
    ("wait", "wait_raw_vs_gevent", "evergreen-raw", "gevent", ">=", 2.5, "wait raw-fd evergreen/gevent"),
    ("resolve", "resolve_thread_vs_gevent", "evergreen-thread", "gevent-thread", ">=", 3.0,
     "resolve thread evergreen/gevent"),
    ("resolve", "resolve_ares_vs_gevent", "evergreen-ares", "gevent-ares", ">=", 4.0,
     "resolve ares evergreen/gevent"),
    ("resolve", "resolve_ares_vs_dnsperf", "evergreen-ares", "dnsperf", ">=", 0.5,
     "resolve ares evergreen/dnsperf"),
    ("echo", "echo_vs_c", "evergreen", "c-epoll", ">=", 0.85, "echo evergreen/C epoll"),
    ("echo", "echo_vs_nio", "evergreen", "nio", ">=", 1.0, "echo evergreen/NIO"),
    ("echo", "echo_vs_gevent", "evergreen", "gevent", ">=", 1.8, "echo evergreen/gevent"),
    ("memory", "memory_vs_gevent", "evergreen", "gevent", "<=", 0.25,
     "memory/conn evergreen/gevent"),
]

UNITS = {"wait": "round trips/s", "resolve": "lookups/s", "echo": "round trips/s",
         "memory": "bytes/connection"}


def log(msg: str = "") -> None:
    print(msg, flush=True)


class Section:
    """Measurements of one section: best value per implementation, or why there is none."""

    def __init__(self, name: str, title: str):
        self.name = name
        self.title = title
        self.values: dict[str, float] = {}
        self.runs: dict[str, list[float]] = {}
        self.reasons: dict[str, str] = {}
        self.details: dict[str, Any] = {}
        self.skipped: str | None = None  # whole section n/a

    def record(self, impl: str, value: float, detail: dict | None = None, lower_is_better=False) -> None:
        self.runs.setdefault(impl, []).append(value)
        best = self.values.get(impl)
        if best is None or (value < best if lower_is_better else value > best):
            self.values[impl] = value
            if detail is not None:
                self.details[impl] = detail

    def fail(self, impl: str, reason: str) -> None:
        self.reasons.setdefault(impl, reason)

    def reason(self, impl: str) -> str:
        return self.skipped or self.reasons.get(impl) or "not measured"

    def to_json(self) -> dict:
        return {"title": self.title, "unit": UNITS[self.name], "skipped": self.skipped,
                "values": self.values, "runs": self.runs, "reasons": self.reasons,
                "details": self.details}


# --------------------------------------------------------------------------- driver


class Driver:
    def __init__(self, args: argparse.Namespace):
        self.a = args
        self.sections: dict[str, Section] = {}
        self.evergreen: Path | None = None
        self.evergreen_reason = ""
        self.meta: dict[str, Any] = {}

    # ---------------------------------------------------------------- evergreen binary

    def prepare_evergreen(self) -> None:
        a = self.a
        if a.evergreen:
            path = Path(a.evergreen).resolve()
        else:
            path = bl.ROOT / ".build" / "release" / "evergreen"
            if not a.no_build:
                log("== building evergreen (swift build -c release --static-swift-stdlib --product evergreen)")
                t0 = time.monotonic()
                try:
                    rc, out, err = bl.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "evergreen"],
                                          timeout=a.build_timeout, log_name="build-evergreen")
                except BenchError as e:
                    rc, out, err = -1, "", str(e)
                if rc != 0:
                    errs = [l for l in (out + "\n" + err).splitlines() if "error:" in l]
                    self.evergreen_reason = ("evergreen build failed: "
                                             + bl.short(errs[0] if errs else (err or out), 120)
                                             + " (see Benchmarks/out/logs/build-evergreen.log)")
                    log(f"   {self.evergreen_reason}")
                    return
                log(f"   built in {time.monotonic() - t0:.0f}s")
        if not path.exists():
            self.evergreen_reason = f"evergreen binary not found at {path}"
            log(f"   {self.evergreen_reason}")
            return
        if not os.access(path, os.X_OK):
            self.evergreen_reason = f"{path} is not executable"
            return
        self.evergreen = path
        self.meta["evergreen"] = str(path)
        self.meta["evergreen_mtime"] = _dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(
            timespec="seconds")

    def eg(self, *args: str) -> list[str]:
        assert self.evergreen is not None
        return [str(self.evergreen), *args]

    @staticmethod
    def ref(name: str) -> Path:
        p = bl.BIN_DIR / name
        if not p.exists():
            raise BenchError(f"{p.relative_to(bl.ROOT)} missing (run Benchmarks/setup.sh)")
        return p

    # ---------------------------------------------------------------- wait

    def section_wait(self) -> Section:
        a = self.a
        sec = Section("wait", f"wait ping-pong, {a.rounds} rounds, best of {a.runs}")
        venv_py = str(bl.VENV_PY if bl.VENV_PY.exists() else Path(sys.executable))
        def eg_wait(api: str, hub: str) -> Any:
            return lambda: self.eg("bench", "wait", "--rounds", str(a.rounds), "--api", api, "--hub", hub, "--json")

        impls: list[tuple[str, Any]] = [
            ("evergreen", eg_wait("watcher", "main")),
            ("evergreen-hub-thread", eg_wait("watcher", "thread")),
            ("evergreen-raw", eg_wait("raw", "main")),
            ("c-libev", lambda: [str(self.ref("pingpong_libev")), "--rounds", str(a.rounds), "--json"]),
            ("gevent", lambda: [venv_py, str(bl.BENCH_DIR / "gevent" / "pingpong.py"),
                                "--rounds", str(a.rounds), "--json"]),
        ]
        if self.evergreen is None:
            for impl in ("evergreen", "evergreen-hub-thread", "evergreen-raw"):
                sec.fail(impl, self.evergreen_reason)
        timeout = max(60.0, a.rounds / 2000.0)  # even 2,000 round trips/s finishes in time
        for run_no in range(1, a.runs + 1):
            parts = []
            for impl, make_cmd in impls:
                if impl in sec.reasons:
                    parts.append(f"{impl} n/a")
                    continue
                try:
                    res = bl.run_json(make_cmd(), timeout, f"wait-{impl}-{run_no}", "wait")
                    sec.record(impl, res["rate"], res)
                    parts.append(f"{impl} {bl.fmt_rate(res['rate'])}/s")
                except BenchError as e:
                    sec.fail(impl, str(e))
                    parts.append(f"{impl} n/a")
            log(f"   run {run_no}: " + ", ".join(parts))
        return sec

    # ---------------------------------------------------------------- resolve

    def section_resolve(self) -> Section:
        a = self.a
        sec = Section("resolve", f"resolve, each name once, thread C={a.thread_concurrency}, "
                                 f"ares C={a.ares_concurrency}, best of {a.resolve_runs}")
        dnsworld = Path(a.dnsworld)
        if not dnsworld.is_absolute():
            dnsworld = bl.ROOT / dnsworld
        names_path = Path(a.names)
        if not names_path.is_absolute():
            names_path = bl.ROOT / names_path
        if not dnsworld.exists():
            sec.skipped = f"{dnsworld.relative_to(bl.ROOT) if dnsworld.is_relative_to(bl.ROOT) else dnsworld} not present"
            return sec
        if not os.access(dnsworld, os.X_OK):
            sec.skipped = f"{dnsworld} is not executable"
            return sec
        if not names_path.exists():
            sec.skipped = f"names file {names_path} not present"
            return sec
        try:
            names = bl.load_names(names_path)
        except OSError as e:
            sec.skipped = f"cannot read {names_path}: {e.strerror}"
            return sec
        if not names:
            sec.skipped = f"no names in {names_path}"
            return sec
        sec.details["names"] = len(names)
        inside = [str(dnsworld), "run", "--"]
        venv_py = str(bl.VENV_PY if bl.VENV_PY.exists() else Path(sys.executable))
        gev = str(bl.BENCH_DIR / "gevent" / "resolve.py")
        nameserver = a.nameserver
        names_arg = str(names_path)
        impls: list[tuple[str, Any]] = [
            ("evergreen-thread", lambda: self.eg("bench", "resolve", "--resolver", "thread", "--names", names_arg,
                                                 "--concurrency", str(a.thread_concurrency), "--json")),
            ("gevent-thread", lambda: [venv_py, gev, "--resolver", "thread", "--names", names_arg,
                                       "--concurrency", str(a.thread_concurrency), "--json"]),
            ("evergreen-ares", lambda: self.eg("bench", "resolve", "--resolver", "ares", "--nameserver", nameserver,
                                               "--names", names_arg, "--concurrency", str(a.ares_concurrency),
                                               "--json")),
            ("gevent-ares", lambda: [venv_py, gev, "--resolver", "ares", "--nameserver", nameserver,
                                     "--names", names_arg, "--concurrency", str(a.ares_concurrency), "--json"]),
        ]
        if self.evergreen is None:
            sec.fail("evergreen-thread", self.evergreen_reason)
            sec.fail("evergreen-ares", self.evergreen_reason)
        timeout = 120.0 + len(names) / 50.0
        for run_no in range(1, a.resolve_runs + 1):
            parts = []
            for impl, make_cmd in impls:
                if impl in sec.reasons:
                    parts.append(f"{impl} n/a")
                    continue
                try:
                    res = bl.run_json(inside + make_cmd(), timeout, f"resolve-{impl}-{run_no}", "resolve")
                    if int(res.get("failures", 0) or 0) > 0:
                        res["warning"] = f"{res['failures']} failed lookups"
                    sec.record(impl, res["rate"], res)
                    extra = f" ({res['failures']} failures)" if res.get("failures") else ""
                    parts.append(f"{impl} {bl.fmt_rate(res['rate'])}/s{extra}")
                except BenchError as e:
                    sec.fail(impl, str(e))
                    parts.append(f"{impl} n/a")
            log(f"   run {run_no}: " + ", ".join(parts))

        # dnsperf: the ceiling of the dnsmasq in the namespace.
        if not shutil.which(a.dnsperf):
            sec.fail("dnsperf", f"{a.dnsperf} not installed (apt-get install dnsperf)")
        else:
            bl.OUT_DIR.mkdir(parents=True, exist_ok=True)
            qfile = bl.OUT_DIR / "dnsperf-queries.txt"
            qfile.write_text("".join(f"{n} A\n" for n in names))
            host, _, port = nameserver.rpartition(":")
            cmd = inside + [a.dnsperf, "-s", host.strip("[]") or "127.0.0.1", "-p", port or "53",
                            "-d", str(qfile), "-c", str(a.dnsperf_clients), "-q", str(a.ares_concurrency),
                            "-l", str(a.dnsperf_seconds)]
            try:
                rc, out, err = bl.run(cmd, a.dnsperf_seconds + 90, "resolve-dnsperf")
                m = re.search(r"Queries per second:\s+([0-9.]+)", out)
                if rc != 0 or not m:
                    raise BenchError(f"dnsperf exit {rc}: {bl.short(err or out) or '(no output)'}")
                qps = float(m.group(1))
                done = re.search(r"Queries completed:\s+(\d+)", out)
                lost = re.search(r"Queries lost:\s+(\d+)", out)
                sec.record("dnsperf", qps, {"qps": qps, "completed": int(done.group(1)) if done else None,
                                            "lost": int(lost.group(1)) if lost else None,
                                            "clients": a.dnsperf_clients, "outstanding": a.ares_concurrency,
                                            "seconds": a.dnsperf_seconds})
                log(f"   dnsperf: {bl.fmt_rate(qps)} queries/s"
                    + (f" ({lost.group(1)} lost)" if lost and int(lost.group(1)) else ""))
            except BenchError as e:
                sec.fail("dnsperf", str(e))
                log(f"   dnsperf: n/a ({e})")
        return sec

    # ---------------------------------------------------------------- echo

    def section_echo(self) -> Section:
        a = self.a
        sec = Section("echo", f"echo, {a.echo_connections} connections x {a.echo_size} B, "
                              f"{a.echo_seconds:g} s after {a.echo_warmup:g} s warm-up, best of {a.echo_runs}")
        venv_py = str(bl.VENV_PY if bl.VENV_PY.exists() else Path(sys.executable))
        nio = bl.BENCH_DIR / "nio-echo" / ".build" / "release" / "nio-echo"

        def nio_cmd(port: int) -> list[str]:
            if not nio.exists():
                raise BenchError(f"{nio.relative_to(bl.ROOT)} missing (run Benchmarks/setup.sh)")
            return [str(nio), "--port", str(port), "--host", bl.LOOPBACK]

        servers: list[tuple[str, Any]] = [
            ("evergreen", lambda port: self.eg("serve-echo", "--port", str(port), "--host", bl.LOOPBACK)),
            ("c-epoll", lambda port: [str(self.ref("echo_server_epoll")), "--port", str(port),
                                      "--host", bl.LOOPBACK]),
            ("gevent", lambda port: [venv_py, str(bl.BENCH_DIR / "gevent" / "echo_server.py"),
                                     "--port", str(port), "--host", bl.LOOPBACK]),
            ("nio", nio_cmd),
        ]
        if self.evergreen is None:
            sec.fail("evergreen", self.evergreen_reason)
        try:
            client = self.ref("echo_client")
        except BenchError as e:
            sec.skipped = str(e)
            return sec
        for run_no in range(1, a.echo_runs + 1):
            for impl, make_cmd in servers:
                if impl in sec.reasons:
                    log(f"   {impl}: n/a ({sec.reasons[impl]})")
                    continue
                server = None
                name = f"echo-{impl}-server-{run_no}"
                try:
                    port = bl.free_port()
                    server = bl.start(make_cmd(port), log_name=name)
                    bl.wait_port(bl.LOOPBACK, port, server, a.ready_timeout, name)
                    time.sleep(0.2)
                    res = bl.run_json([str(client), "--host", bl.LOOPBACK, "--port", str(port),
                                       "--connections", str(a.echo_connections), "--size", str(a.echo_size),
                                       "--seconds", str(a.echo_seconds), "--warmup", str(a.echo_warmup),
                                       "--label", impl, "--json"],
                                      a.echo_seconds + a.echo_warmup + 60, f"echo-{impl}-client-{run_no}",
                                      "echo")
                    if server.poll() is not None:
                        raise BenchError(f"server exited with code {server.returncode} during the run")
                    sec.record(impl, res["rate"], res)
                    log(f"   run {run_no}: {impl}: {bl.fmt_rate(res['rate'])} round trips/s")
                except BenchError as e:
                    sec.fail(impl, str(e))
                    log(f"   {impl}: n/a ({e})")
                finally:
                    bl.kill(server)
        return sec

    # ---------------------------------------------------------------- memory

    def section_memory(self) -> Section:
        a = self.a
        sec = Section("memory", f"idle memory, {a.idle_connections} connections, RSS growth per connection")
        venv_py = str(bl.VENV_PY if bl.VENV_PY.exists() else Path(sys.executable))
        servers: list[tuple[str, Any]] = [
            ("evergreen", lambda port: self.eg("serve-echo", "--port", str(port), "--host", bl.LOOPBACK)),
            ("gevent", lambda port: [venv_py, str(bl.BENCH_DIR / "gevent" / "idle_memory.py"), "serve",
                                     "--port", str(port), "--host", bl.LOOPBACK]),
        ]
        if self.evergreen is None:
            sec.fail("evergreen", self.evergreen_reason)
        for impl, make_cmd in servers:
            if impl in sec.reasons:
                log(f"   {impl}: n/a ({sec.reasons[impl]})")
                continue
            try:
                port = bl.free_port()
                res = bl.measure_idle(make_cmd(port), port, a.idle_connections, impl,
                                      ready_timeout=a.ready_timeout)
                sec.record(impl, res["bytes_per_conn"], res, lower_is_better=True)
                log(f"   {impl}: {res['bytes_per_conn']:,.0f} bytes/connection "
                    f"(RSS {res['rss_before_kb']:,} kB -> {res['rss_after_kb']:,} kB)")
            except BenchError as e:
                sec.fail(impl, str(e))
                log(f"   {impl}: n/a ({e})")
        return sec

    # ---------------------------------------------------------------- ratios / report

    def ratios(self) -> list[dict[str, Any]]:
        rows = []
        for section, key, num, den, op, goal, label in RATIOS:
            row: dict[str, Any] = {"key": key, "label": label, "section": section, "numerator": num,
                                   "denominator": den, "op": op, "goal": goal, "value": None}
            sec = self.sections.get(section)
            if sec is None:
                row.update(status="n/a", reason="section not run")
            elif num not in sec.values or den not in sec.values:
                missing = [i for i in (num, den) if i not in sec.values]
                row.update(status="n/a", reason="; ".join(f"{i}: {sec.reason(i)}" for i in missing))
            else:
                value = sec.values[num] / sec.values[den]
                ok = value >= goal if op == ">=" else value <= goal
                row.update(value=value, status="PASS" if ok else "FAIL", reason="")
            rows.append(row)
        return rows

    def print_section(self, sec: Section, rows: list[dict]) -> None:
        unit = UNITS[sec.name]
        if sec.skipped:
            log(f"   n/a ({sec.skipped})")
        impls = list(dict.fromkeys([*sec.values, *sec.reasons]))
        for impl in impls:
            if impl in sec.values:
                v = sec.values[impl]
                log(f"   {impl:<18} {v:>14,.0f} {unit}")
            else:
                log(f"   {impl:<18} {'n/a':>14} ({sec.reason(impl)})")
        for r in rows:
            if r["section"] == sec.name:
                log(f"   {r['label']:<34} {fmt_ratio(r)}  (goal {r['op']} {r['goal']:g})")

    def run(self) -> int:
        a = self.a
        started = time.time()
        self.meta.update({
            "started": _dt.datetime.now().isoformat(timespec="seconds"),
            "host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "quick": a.quick, "args": vars(a),
        })
        try:
            import gevent  # noqa: F401
            self.meta["gevent"] = gevent.__version__
        except ImportError:
            pass
        bl.raise_nofile()
        needs_eg = set(a.only) & set(SECTIONS)
        if needs_eg:
            self.prepare_evergreen()
        for name in SECTIONS:
            if name not in a.only:
                continue
            fn = getattr(self, f"section_{name}")
            log(f"\n== {name}")
            t0 = time.monotonic()
            try:
                sec = fn()
            except BenchError as e:
                sec = Section(name, name)
                sec.skipped = str(e)
            except Exception as e:  # a driver bug must not lose the other sections
                sec = Section(name, name)
                sec.skipped = f"driver error: {type(e).__name__}: {e}"
            finally:
                bl.kill_all()
            self.sections[name] = sec
            log(f"-- {sec.title} ({time.monotonic() - t0:.0f}s)")
            self.print_section(sec, self.ratios())

        rows = self.ratios()
        self.meta["seconds"] = round(time.time() - started, 1)
        log("\n== summary: ratio vs goal")
        log(f"   {'ratio':<34} {'value':>8}  {'goal':<8} result")
        for r in rows:
            if r["section"] not in a.only:
                continue
            val = fmt_value(r["value"])
            res = r["status"] if r["status"] != "n/a" else f"n/a ({bl.short(r['reason'], 100)})"
            log(f"   {r['label']:<34} {val:>8}  {r['op']} {r['goal']:<5g} {res}")
        self.write_results(rows)
        considered = [r for r in rows if r["section"] in a.only]
        if a.strict and any(r["status"] != "PASS" for r in considered):
            log("\n--strict: not every goal was met")
            return 1
        return 0

    def write_results(self, rows: list[dict]) -> None:
        bl.OUT_DIR.mkdir(parents=True, exist_ok=True)
        out = {"meta": self.meta, "sections": {k: v.to_json() for k, v in self.sections.items()},
               "ratios": rows}
        path = bl.OUT_DIR / "results.json"
        path.write_text(json.dumps(out, indent=2, default=str) + "\n")
        log(f"\nwrote {path.relative_to(bl.ROOT)}")
        try:
            plot(self.sections, rows, bl.OUT_DIR / "bench.png", self.meta)
            log(f"wrote {(bl.OUT_DIR / 'bench.png').relative_to(bl.ROOT)}")
        except ImportError:
            log("matplotlib not available: no chart (run Benchmarks/setup.sh, use Benchmarks/.venv/bin/python)")
        except Exception as e:  # the numbers matter more than the picture
            log(f"chart failed: {type(e).__name__}: {e}")


def fmt_value(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.2f}" if v >= 0.1 else f"{v:.3f}"


def fmt_ratio(r: dict) -> str:
    if r["value"] is None:
        return f"n/a ({bl.short(r['reason'], 120)})"
    return f"{fmt_value(r['value'])}  {r['status']}"


# --------------------------------------------------------------------------- chart


def plot(sections: dict[str, Section], rows: list[dict], path: Path, meta: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = {
        "wait": ["evergreen", "evergreen-hub-thread", "evergreen-raw", "c-libev", "gevent"],
        "resolve": ["evergreen-thread", "gevent-thread", "evergreen-ares", "gevent-ares", "dnsperf"],
        "echo": ["evergreen", "c-epoll", "nio", "gevent"],
        "memory": ["evergreen", "gevent"],
    }
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    panels = [("wait", axes[0][0]), ("resolve", axes[0][1]), ("echo", axes[0][2]), ("memory", axes[1][0])]
    for name, ax in panels:
        sec = sections.get(name)
        impls = order[name]
        vals = [sec.values.get(i) if sec else None for i in impls]
        colors = ["#2e8b57" if i.startswith("evergreen") else "#8899aa" for i in impls]
        heights = [v or 0 for v in vals]
        bars = ax.bar(range(len(impls)), heights, color=colors)
        ax.set_xticks(range(len(impls)))
        ax.set_xticklabels(impls, rotation=20, ha="right", fontsize=8)
        title = sec.title if sec else f"{name} (not run)"
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(UNITS[name], fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        top = max(heights) if any(heights) else 1
        ax.set_ylim(0, top * 1.18)
        for b, v in zip(bars, vals):
            txt = f"{v:,.0f}" if v is not None else "n/a"
            ax.text(b.get_x() + b.get_width() / 2, (v or 0) + top * 0.02, txt, ha="center", va="bottom",
                    fontsize=7, color="black" if v is not None else "#b22222")

    # Ratios as "fraction of goal": value/goal for >= goals, goal/value for <= goals.
    ax = fig.add_subplot(2, 3, (5, 6))
    axes[1][1].remove()
    axes[1][2].remove()
    labels, scores, texts, colors = [], [], [], []
    for r in rows:
        labels.append(f"{r['label']} ({r['op']} {r['goal']:g})")
        v = r["value"]
        if v is None:
            scores.append(0)
            texts.append("n/a")
            colors.append("#cccccc")
            continue
        score = v / r["goal"] if r["op"] == ">=" else (r["goal"] / v if v > 0 else float("inf"))
        scores.append(min(score, 5.0))
        texts.append(f"{fmt_value(v)}  {r['status']}")
        colors.append("#2e8b57" if r["status"] == "PASS" else "#b22222")
    y = list(range(len(labels)))[::-1]
    ax.barh(y, scores, color=colors)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("fraction of goal (>= 1 meets the goal)", fontsize=8)
    ax.set_title("Evergreen ratios vs goals", fontsize=9)
    right = max([1.2] + [s * 1.25 for s in scores])
    ax.set_xlim(0, right)
    for yy, s, t in zip(y, scores, texts):
        ax.text(s + right * 0.01, yy, t, va="center", fontsize=7)
    fig.suptitle(f"Evergreen benchmarks - {meta.get('started', '')} - {meta.get('host', '')}"
                 + (" (quick)" if meta.get("quick") else ""), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma list of " + ",".join(SECTIONS))
    ap.add_argument("--quick", action="store_true", help="smoke run: small N, short durations, 1 run each")
    ap.add_argument("--no-build", action="store_true", help="do not run swift build first")
    ap.add_argument("--strict", action="store_true", help="exit 1 unless every ratio meets its goal")
    ap.add_argument("--evergreen", help="path of the evergreen binary (implies --no-build)")
    ap.add_argument("--build-timeout", type=float, default=3600)
    ap.add_argument("--ready-timeout", type=float, default=20, help="seconds for a server to start listening")
    g = ap.add_argument_group("wait")
    g.add_argument("--rounds", type=int, help="ping-pong round trips per run (default 200000, quick 20000)")
    g.add_argument("--runs", type=int, help="interleaved runs, best counts (default 3, quick 1)")
    g = ap.add_argument_group("resolve")
    g.add_argument("--dnsworld", default="scripts/dnsworld")
    g.add_argument("--names", default="Fixtures/dns/bench-names.txt")
    g.add_argument("--nameserver", default="127.0.0.1:53")
    g.add_argument("--thread-concurrency", type=int, default=50)
    g.add_argument("--ares-concurrency", type=int, default=200)
    g.add_argument("--resolve-runs", type=int, help="interleaved runs, best counts (default 3, quick 1)")
    g.add_argument("--dnsperf", default="dnsperf")
    g.add_argument("--dnsperf-clients", type=int, default=1)
    g.add_argument("--dnsperf-seconds", type=int, help="dnsperf -l (default 5, quick 1)")
    g = ap.add_argument_group("echo")
    g.add_argument("--echo-connections", type=int, default=100)
    g.add_argument("--echo-size", type=int, default=64)
    g.add_argument("--echo-seconds", type=float, help="measured seconds (default 5, quick 1)")
    g.add_argument("--echo-warmup", type=float, help="warm-up seconds (default 1, quick 0.3)")
    g.add_argument("--echo-runs", type=int, help="rounds over all servers, best counts (default 2, quick 1)")
    g = ap.add_argument_group("memory")
    g.add_argument("--idle-connections", type=int, help="idle connections (default 10000, quick 1000)")
    a = ap.parse_args(argv)

    a.only = [s.strip() for s in a.only.split(",") if s.strip()]
    bad = [s for s in a.only if s not in SECTIONS]
    if bad:
        ap.error(f"unknown section(s) {','.join(bad)}; choose from {','.join(SECTIONS)}")
    q = a.quick
    defaults = {"rounds": (200000, 20000), "runs": (3, 1), "resolve_runs": (3, 1), "dnsperf_seconds": (5, 1),
                "echo_seconds": (5.0, 1.0), "echo_runs": (2, 1), "echo_warmup": (1.0, 0.3), "idle_connections": (10000, 1000)}
    for k, (full, quick) in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, quick if q else full)
    for k in ("rounds", "runs", "resolve_runs", "dnsperf_seconds", "echo_connections", "echo_size",
              "echo_runs", "idle_connections", "thread_concurrency", "ares_concurrency", "dnsperf_clients"):
        if getattr(a, k) <= 0:
            ap.error(f"--{k.replace('_', '-')} must be > 0")
    if a.echo_seconds <= 0 or a.echo_warmup < 0:
        ap.error("--echo-seconds must be > 0 and --echo-warmup >= 0")
    if a.evergreen:
        a.no_build = True
    return a


def main() -> int:
    args = parse_args()
    bl.install_cleanup()
    try:
        return Driver(args).run()
    finally:
        bl.kill_all()


if __name__ == "__main__":
    sys.exit(main())
