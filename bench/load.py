"""Load test of the production server: the Dockerfile's gunicorn command under concurrent clients.

    python bench/load.py                          # defaults: about 2-3 minutes
    python bench/load.py --duration 5 --total 500 # a quick check that it works
    python bench/load.py --workers 2 --threads 2  # another sizing (else gunicorn.conf.py decides)
    python bench/load.py --url http://host:5000   # an already running server (no memory figures)

What it does:
  1. starts the Dockerfile's CMD (gunicorn "app:create_app()" with gunicorn.conf.py) on a free
     localhost port and waits until /readyz is 200 and every worker has loaded the model;
  2. sends --warmup analyze requests, then records each worker's resident memory (VmRSS);
  3. for /api/analyze and /api/reconstruct, at 8 and 32 concurrent connections, runs a
     --duration seconds load with wrk (Debian: apt-get install wrk; POST bodies from a Lua
     script), or with a thread-pool client in Python when wrk is missing: throughput, median
     and p99 latency, errors (non-200 answers, timeouts, broken connections);
  4. tops up to --total requests in all (default 5,000) and records memory again.
It fails (exit status 1) on any error or if a worker's memory grew by 10% or more after the
warm-up. Every analyze body is new (a gallery digit with one random pixel changed), so the
service's cache never answers. Results: a markdown table, and bench/results/load-*.json.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench import _common as common

ENDPOINTS = {"analyze": "/api/analyze", "reconstruct": "/api/reconstruct"}
MAX_RSS_GROWTH = 0.10

# wrk: one Lua state per thread; a new body for every request.
WRK_SCRIPT = r"""
local kind, path = "%(kind)s", "%(path)s"
local prefix = [==[%(prefix)s]==]
local suffix = [==[%(suffix)s]==]
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + (id or 0) * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  local body
  if kind == "analyze" then
    body = prefix .. string.format("%%.6f", math.random()) .. suffix
  else
    local vector = {}
    for i = 1, 16 do vector[i] = string.format("%%.6f", math.random() - 0.5) end
    body = '{"digit": ' .. math.random(0, 9) .. ', "vector": [' .. table.concat(vector, ", ") .. ']}'
  end
  return wrk.format(nil, path, nil, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests": %%.0f, "duration_us": %%.0f, "bytes": %%.0f, ' ..
    '"errors_connect": %%.0f, "errors_read": %%.0f, "errors_write": %%.0f, "errors_status": %%.0f, ' ..
    '"errors_timeout": %%.0f, "p50_us": %%.0f, "p90_us": %%.0f, "p99_us": %%.0f, "max_us": %%.0f, ' ..
    '"mean_us": %%.1f}\n', summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


# ---------------------------------------------------------------- load generators

def run_wrk(base_url: str, kind: str, connections: int, duration: float, base_pixels) -> dict:
    """One wrk run; the analyze body is the digit with pixel (0, 0) set to a random value."""
    pixels = np.round(base_pixels, 6).tolist()
    pixels[0][0] = "@@"
    prefix, suffix = json.dumps({"pixels": pixels}).split('"@@"')
    script = WRK_SCRIPT % {"kind": kind, "path": ENDPOINTS[kind], "prefix": prefix, "suffix": suffix}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        threads = max(1, min(2, connections))
        result = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s",
                                 "--timeout", "30s", "-s", file.name, base_url],
                                capture_output=True, text=True, timeout=duration + 120)
    finally:
        os.unlink(file.name)
    line = next((text for text in result.stdout.splitlines() if text.startswith("WRK_JSON ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stdout[-2000:]} {result.stderr[-2000:]}")
    raw = json.loads(line[len("WRK_JSON "):])
    errors = sum(raw[k] for k in raw if k.startswith("errors_"))
    seconds = raw["duration_us"] / 1e6
    return {"tool": "wrk", "requests": int(raw["requests"]), "errors": int(errors), "seconds": seconds,
            "throughput_rps": raw["requests"] / seconds, "median_ms": raw["p50_us"] / 1000,
            "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
            "error_detail": {k: int(v) for k, v in raw.items() if k.startswith("errors_")}}


def run_python(base_url: str, kind: str, connections: int, duration: float | None, base_pixels,
               max_requests: int | None = None, seed: int = 0) -> dict:
    """`connections` threads, each with one keep-alive connection, until the time or count is up."""
    parts = urlsplit(base_url)
    deadline = time.monotonic() + duration if duration else float("inf")
    budget = [max_requests if max_requests is not None else float("inf")]
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def worker(index: int):
        rng = np.random.default_rng([seed, index])
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            body = json.dumps(common.analyze_body(base_pixels, rng) if kind == "analyze"
                              else common.reconstruct_body(rng))
            start = time.perf_counter()
            try:
                connection.request("POST", ENDPOINTS[kind], body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if response.status != 200:
                        errors.append(f"HTTP {response.status}")
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    errors.append(type(error).__name__)
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.close()

    start = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    seconds = time.monotonic() - start
    summary = common.summarize(latencies) if latencies else {"median_ms": float("nan"), "p99_ms": float("nan"),
                                                               "max_ms": float("nan")}
    return {"tool": "python", "requests": len(latencies) + sum(not e.startswith("HTTP") for e in errors),
            "errors": len(errors), "seconds": seconds, "throughput_rps": len(latencies) / seconds,
            "median_ms": summary["median_ms"], "p99_ms": summary["p99_ms"], "max_ms": summary["max_ms"],
            "error_detail": {e: errors.count(e) for e in sorted(set(errors))}}


# ---------------------------------------------------------------- the server

class Gunicorn:
    """The Dockerfile's CMD in its own session, on a free localhost port."""

    def __init__(self, workers: int | None, threads: int | None, log_path: Path, max_batch: int | None = None):
        self.port = common.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**os.environ, "PORT": str(self.port)}
        env.pop("BIND", None)
        if workers:
            env["GUNICORN_WORKERS"] = str(workers)
        if threads:
            env["GUNICORN_THREADS"] = str(threads)
        if max_batch:
            env["CAPSNET_MAX_BATCH"] = str(max_batch)
        self.argv = common.resolve_program(common.dockerfile_cmd())
        self.log = open(log_path, "wb")  # noqa: SIM115 - the server's log, open as long as the server runs
        self.process = subprocess.Popen(self.argv, cwd=common.PROJECT_ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 240) -> float:
        """Seconds until /readyz is 200 and every booted worker has logged that it is ready."""
        start = time.monotonic()
        common.wait_ready(self.url, timeout=timeout, process=self.process)
        while time.monotonic() - start < timeout:
            text = self.log_path.read_text(errors="replace")
            booted = len(re.findall(r"Booting worker with pid", text))
            ready = len(re.findall(r"worker \d+ ready", text))
            if booted and ready >= booted and len(self.workers()) == booted:
                return time.monotonic() - start
            time.sleep(0.5)
        raise TimeoutError("not every gunicorn worker became ready")

    def workers(self) -> list[int]:
        return common.children_of(self.process.pid)

    def memory(self) -> dict[str, float]:
        return {str(pid): common.rss_mib(pid) for pid in self.workers()}

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()
        return self.process.returncode


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20, help="seconds per scenario (default 20)")
    parser.add_argument("--connections", default="8,32", help="concurrent connections, comma-separated")
    parser.add_argument("--endpoints", default="analyze,reconstruct", help="analyze and/or reconstruct")
    parser.add_argument("--total", type=int, default=5000, help="requests in all before the last memory reading")
    parser.add_argument("--warmup", type=int, default=200, help="analyze requests before the baseline memory")
    parser.add_argument("--workers", type=int, help="GUNICORN_WORKERS (default: gunicorn.conf.py's sizing)")
    parser.add_argument("--threads", type=int, help="GUNICORN_THREADS (default: gunicorn.conf.py's)")
    parser.add_argument("--max-batch", type=int, help="CAPSNET_MAX_BATCH: analyses sharing a pass (1: none; default 8)")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--url", help="load this running server instead of starting gunicorn")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/load-*.json")
    args = parser.parse_args(argv)

    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")
    if tool == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    connections = [int(c) for c in args.connections.split(",")]
    kinds = [k.strip() for k in args.endpoints.split(",")]
    base_pixels = common.gallery_pixels(3)
    results: dict = {"benchmark": "load", "environment": common.environment(), "tool": tool,
                     "duration_per_scenario_s": args.duration, "scenarios": [], "memory_mib": {}}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    server = None
    if args.url:
        base_url = args.url.rstrip("/")
        common.wait_ready(base_url)
    else:
        common.RESULTS.mkdir(parents=True, exist_ok=True)
        server = Gunicorn(args.workers, args.threads, common.RESULTS / f"load-{stamp}.gunicorn.log", args.max_batch)
        base_url = server.url
        results["command"] = server.argv
    total_requests = 0
    failed: list[str] = []
    try:
        if server:
            results["startup_s"] = server.wait_ready()
            results["workers"] = len(server.workers())
            results["memory_mib"]["ready"] = server.memory()
            print(f"gunicorn ready in {results['startup_s']:.1f} s with {results['workers']} worker(s) "
                  f"on {base_url}; log: {server.log_path}", flush=True)
        warm = run_python(base_url, "analyze", 4, None, base_pixels, max_requests=args.warmup, seed=1)
        total_requests += warm["requests"]
        if warm["errors"]:
            failed.append(f"warm-up: {warm['error_detail']}")
        if server:
            results["memory_mib"]["after_warmup"] = server.memory()

        for kind in kinds:
            for count in connections:
                print(f"{kind} x {count} connections for {args.duration:g} s ({tool}) ...", flush=True)
                # The workers' CPU time per request: what a busy machine disturbs least.
                cpu_before = sum(common.cpu_seconds(pid) or 0 for pid in server.workers()) if server else None
                if tool == "wrk":
                    outcome = run_wrk(base_url, kind, count, args.duration, base_pixels)
                else:
                    outcome = run_python(base_url, kind, count, args.duration, base_pixels, seed=count)
                outcome.update(endpoint=ENDPOINTS[kind], connections=count)
                if server and outcome["requests"]:
                    used = sum(common.cpu_seconds(pid) or 0 for pid in server.workers()) - cpu_before
                    outcome["worker_cpu_ms_per_request"] = 1000 * used / outcome["requests"]
                results["scenarios"].append(outcome)
                total_requests += outcome["requests"]
                if outcome["errors"]:
                    failed.append(f"{kind} x {count}: {outcome['errors']} errors {outcome['error_detail']}")

        if total_requests < args.total:  # top up, both endpoints, to reach the total for the memory check
            missing = args.total - total_requests
            print(f"topping up with {missing} requests ...", flush=True)
            for kind, share in (("analyze", missing // 2), ("reconstruct", missing - missing // 2)):
                extra = run_python(base_url, kind, 8, None, base_pixels, max_requests=share, seed=99)
                total_requests += extra["requests"]
                if extra["errors"]:
                    failed.append(f"top-up {kind}: {extra['error_detail']}")
        results["total_requests"] = total_requests

        if server:
            final = server.memory()
            results["memory_mib"]["final"] = final
            baseline = results["memory_mib"]["after_warmup"]
            growth = {pid: (final[pid] - baseline[pid]) / baseline[pid]
                      for pid in final if final[pid] and baseline.get(pid)}
            results["memory_growth_after_warmup"] = growth
            if set(final) != set(baseline):
                failed.append(f"workers changed during the run (restarts?): {sorted(baseline)} -> {sorted(final)}")
            if any(g >= MAX_RSS_GROWTH for g in growth.values()):
                failed.append(f"memory grew by {max(growth.values()):.1%} (limit {MAX_RSS_GROWTH:.0%})")
    finally:
        if server:
            results["exit_status"] = server.stop()

    rows = [[s["endpoint"], s["connections"], s["requests"], s["throughput_rps"], s["median_ms"], s["p99_ms"],
             s.get("worker_cpu_ms_per_request", float("nan")), s["errors"]] for s in results["scenarios"]]
    print(f"\nLoad on {results.get('workers', '?')} gunicorn worker(s), {tool}, "
          f"{args.duration:g} s per row, {results['environment']['cpus']} CPUs\n")
    print(common.markdown_table(["endpoint", "connections", "requests", "req/s", "median ms", "p99 ms",
                                 "worker CPU ms/request", "errors"], rows))
    if server:
        memory = results["memory_mib"]
        print("\n" + common.markdown_table(
            ["worker", "RSS ready MiB", "after warm-up MiB", f"after {total_requests:,} requests MiB", "growth"],
            [[pid, memory["ready"].get(pid), memory["after_warmup"].get(pid), memory["final"].get(pid),
              f"{results['memory_growth_after_warmup'].get(pid, float('nan')):+.1%}"] for pid in memory["final"]]))
    results["failures"] = failed
    if not args.no_save:
        path = common.write_results("load", results)
        print(f"\nresults: {path}")
    if failed:
        print("\nFAILED:\n  " + "\n  ".join(failed))
        return 1
    print("\nOK: no errors; memory growth under 10%" if server else "\nOK: no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
