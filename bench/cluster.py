"""Scale-out behind nginx: two servers, load through the balancer, one server killed mid-run.

    python bench/cluster.py                        # 20 s of load, one server crashes after 8 s
    python bench/cluster.py --signal TERM          # ... or is stopped as an orchestrator stops it
    python bench/cluster.py --duration 6 --kill-after 2.5 --clients 6   # what the test runs

1. starts two copies of the Dockerfile's CMD (gunicorn with gunicorn.conf.py, one worker each)
   on free loopback ports and waits until both answer /readyz;
2. starts nginx (Debian's package) with deploy/nginx.conf, only its upstream ports, its listen
   port and its file paths rewritten (bench.cluster.render_nginx_conf checks each rewrite hits);
3. --clients threads POST /api/analyze through nginx for --duration seconds, each body a new
   input (a gallery digit with one random pixel changed, so no cache answers); after
   --kill-after seconds one server (its gunicorn master and worker: the process group it was
   started in) gets --signal: KILL, a crash (default), or TERM, the graceful stop that
   Kubernetes, Docker and systemd send;
4. reports requests served and failed (anything but a complete 200), how many nginx retried on
   the other server (its access log lists every server tried), and which server answered.

nginx retries every request the dead server had not begun to answer. It cannot retry one whose
answer had begun (it has passed the status line to the client): after a crash such a request
fails with a cut answer. So with KILL the failures are at most the requests in flight at that
moment; with TERM, gunicorn finishes them first, and none fails.
It exits 1 if any request failed. Every process it starts is stopped before it returns.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench import _common as common

NGINX_CONF = common.PROJECT_ROOT / "deploy" / "nginx.conf"
UPSTREAM_SERVER = re.compile(r"^(\s*)server 127\.0\.0\.1:\d+( [^;]*)?;\n", re.MULTILINE)


def render_nginx_conf(listen_port: int, upstream_ports: list[int], workdir: Path,
                      source: Path = NGINX_CONF) -> str:
    """deploy/nginx.conf with the given ports and every file under `workdir`; nothing else changes."""
    text = source.read_text()

    def one(pattern: str, replacement: str, text: str) -> str:
        result, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        if count != 1:
            raise ValueError(f"deploy/nginx.conf: expected one match of {pattern!r}, found {count}")
        return result

    servers = UPSTREAM_SERVER.findall(text)
    if not servers:
        raise ValueError("deploy/nginx.conf: no 'server 127.0.0.1:PORT ...;' in its upstream")
    indent, parameters = servers[0]
    block = "".join(f"{indent}server 127.0.0.1:{port}{parameters};\n" for port in upstream_ports)
    text = UPSTREAM_SERVER.sub("", text, count=len(servers) - 1)
    text = UPSTREAM_SERVER.sub(block.replace("\\", "\\\\"), text, count=1)
    text = one(r"^pid [^;]+;", f"pid {workdir}/nginx.pid;", text)
    text = one(r"^error_log [^ ;]+", f"error_log {workdir}/error.log", text)
    text = one(r"access_log [^ ;]+", f"access_log {workdir}/access.log", text)
    text = one(r"listen 127\.0\.0\.1:\d+;", f"listen 127.0.0.1:{listen_port};", text)
    temp_paths = "".join(f"    {kind}_temp_path {workdir}/{kind};\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return one(r"^http \{\n", "http {\n" + temp_paths, text)


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    """The Dockerfile's CMD with one worker, in a process group of its own."""
    env = {**os.environ, "PORT": str(port), "GUNICORN_WORKERS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("BIND", None)
    env.setdefault("TF_NUM_INTRAOP_THREADS", "1")  # two servers share the machine
    with open(log_path, "wb") as log:
        return subprocess.Popen(common.resolve_program(common.dockerfile_cmd()), cwd=common.PROJECT_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def start_nginx(conf: Path, workdir: Path) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        raise SystemExit("nginx is not installed (Debian: apt-get install nginx; `make test` does it)")
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / kind).mkdir(exist_ok=True)
    workdir.chmod(0o755)
    for kind in ("client_body", "proxy"):
        (workdir / kind).chmod(0o777)  # nginx's workers run as nobody when it is started as root
    check = subprocess.run([nginx, "-t", "-q", "-c", str(conf), "-p", str(workdir), "-e", str(workdir / "error.log")],
                           capture_output=True, text=True, timeout=30)
    if check.returncode:
        raise RuntimeError(f"nginx -t refused the configuration:\n{check.stderr}")
    return subprocess.Popen([nginx, "-c", str(conf), "-p", str(workdir), "-e", str(workdir / "error.log"),
                             "-g", "daemon off;"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 40) -> None:
    """Stop a process started here and its group (gunicorn's workers, nginx's workers)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class Load:
    """Client threads, each with a keep-alive connection, POSTing new analyze bodies until stopped."""

    def __init__(self, port: int, clients: int, seed: int = 0):
        self.port, self.clients = port, clients
        self.base = common.gallery_pixels(3)
        self.rng = np.random.default_rng(seed)
        self.lock = threading.Lock()
        self.stop_at = 0.0
        self.results: list[tuple[float, int, float]] = []  # (start, status or 0 for an error, seconds)
        self.errors: list[tuple[float, float, str]] = []  # (start, end, what)

    def body(self) -> bytes:
        with self.lock:
            return json.dumps(common.analyze_body(self.base, self.rng)).encode()

    def client(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while time.monotonic() < self.stop_at:
            body, start = self.body(), time.monotonic()
            try:
                connection.request("POST", "/api/analyze", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                payload = response.read()
                status = response.status
                if status != 200:
                    self.errors.append((start, time.monotonic(), f"{status}: {payload[:200]!r}"))
            except (OSError, http.client.HTTPException) as error:
                status = 0
                self.errors.append((start, time.monotonic(), f"{type(error).__name__}: {error}"))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            with self.lock:
                self.results.append((start, status, time.monotonic() - start))
        connection.close()

    def run(self, duration: float, at: float | None = None, action=None) -> float | None:
        """Load for `duration` seconds; `action()` once, `at` seconds in. Returns when it ran."""
        started = time.monotonic()
        self.stop_at = started + duration
        threads = [threading.Thread(target=self.client, daemon=True) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        acted = None
        if action is not None and at is not None:
            time.sleep(max(0.0, at))
            action()
            acted = time.monotonic()
        for thread in threads:
            thread.join(timeout=duration + 120)
        return acted


def upstream_lines(access_log: Path) -> list[str]:
    return re.findall(r"upstream=([^ ]+(?:, [^ ]+)*) status=", access_log.read_text())


def run_cluster(duration: float = 20.0, kill_after: float = 8.0, clients: int = 8,
                kill_signal: int = signal.SIGKILL, workdir: Path | None = None) -> dict:
    """The whole scenario; every process it starts is stopped before it returns."""
    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="capsnet-cluster-")) if own else workdir
    ports, listen = [common.free_port(), common.free_port()], common.free_port()
    servers: list[subprocess.Popen] = []
    nginx = None
    try:
        servers = [start_server(port, workdir / f"gunicorn-{port}.log") for port in ports]
        ready = [common.wait_ready(f"http://127.0.0.1:{port}", timeout=300, process=server)
                 for port, server in zip(ports, servers)]
        conf = workdir / "nginx.conf"
        conf.write_text(render_nginx_conf(listen, ports, workdir))
        nginx = start_nginx(conf, workdir)
        wait_for_port(listen)
        load = Load(listen, clients)
        victim = servers[0]
        started = time.monotonic()
        kill = threading.Thread(target=stop, args=(victim, kill_signal))  # TERM: gunicorn drains first
        killed_at = load.run(duration, kill_after, kill.start)
        kill.join(timeout=60)
        statuses = [status for _, status, _ in load.results]
        seconds = [elapsed for _, _, elapsed in load.results]
        before = [status for start, status, _ in load.results if start < killed_at]
        in_flight = sum(start < killed_at < start + elapsed for start, _, elapsed in load.results)
        stop(nginx, signal.SIGQUIT)  # graceful: the access log is complete once it exits
        tried = upstream_lines(workdir / "access.log")
        answered = [line.split(", ")[-1] for line in tried]
        return {
            "duration_s": duration, "clients": clients, "kill_after_s": round(killed_at - started, 2),
            "servers_ready_s": [round(r, 1) for r in ready],
            "requests": len(statuses), "served": statuses.count(200),
            "failed": len(statuses) - statuses.count(200),
            "errors": [{"start_s": round(a - started, 3), "end_s": round(b - started, 3), "error": what}
                       for a, b, what in load.errors[:20]],
            "served_before_kill": before.count(200), "in_flight_at_kill": in_flight,
            "signal": signal.Signals(kill_signal).name,
            "requests_per_s": round(len(statuses) / duration, 1),
            "median_ms": round(float(np.median(seconds)) * 1000, 1) if seconds else None,
            "p99_ms": round(float(np.percentile(seconds, 99)) * 1000, 1) if seconds else None,
            "retried_by_nginx": sum(", " in line for line in tried),
            "answered_by": {f"127.0.0.1:{port}": answered.count(f"127.0.0.1:{port}") for port in ports},
            "killed": f"127.0.0.1:{ports[0]}", "victim_exit": victim.returncode,
            "process_groups": [server.pid for server in servers] + [nginx.pid],
            "workdir": str(workdir),
        }
    finally:
        if nginx is not None:
            stop(nginx, signal.SIGQUIT)
        for server in servers:
            stop(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--kill-after", type=float, default=8.0, help="seconds into the load")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--signal", choices=["KILL", "TERM"], default="KILL",
                        help="KILL: a crash; TERM: a graceful stop")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    result = run_cluster(args.duration, args.kill_after, args.clients, getattr(signal, f"SIG{args.signal}"))
    result["environment"] = common.environment()
    print(common.markdown_table(
        ["requests", "served", "failed", "retried by nginx", "requests/s", "median ms", "p99 ms", "answered by"],
        [[result["requests"], result["served"], result["failed"], result["retried_by_nginx"],
          result["requests_per_s"], result["median_ms"], result["p99_ms"],
          ", ".join(f"{k}: {v}" for k, v in result["answered_by"].items())]]))
    print(f"{result['signal']} to {result['killed']} {result['kill_after_s']} s into {args.duration} s of load; "
          f"{result['served_before_kill']} requests served before, {result['in_flight_at_kill']} in flight then")
    for error in result["errors"]:
        print(f"  failed: started {error['start_s']} s, ended {error['end_s']} s: {error['error']}")
    if not args.no_save:
        print("raw figures:", common.write_results("cluster", result))
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
