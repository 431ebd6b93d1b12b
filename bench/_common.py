"""What both benchmarks share: request bodies, statistics, tables, the gunicorn command, RSS."""
from __future__ import annotations

import json
import os
import platform
import shlex
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GALLERY = PROJECT_ROOT / "web" / "gallery"
RESULTS = PROJECT_ROOT / "bench" / "results"

if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# ---------------------------------------------------------------- request bodies

def gallery_pixels(label: int = 3) -> np.ndarray:
    """A real MNIST test digit from web/gallery as float32 (28, 28) in 0..1."""
    from PIL import Image

    path = sorted(GALLERY.glob(f"{label}_*.png"))[0]
    return np.asarray(Image.open(path).convert("L"), np.float32) / 255.0


def fresh_pixels(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The digit with one random pixel changed: a new input, so the service's cache misses."""
    pixels = base.copy()
    pixels[rng.integers(28), rng.integers(28)] = rng.random()
    return pixels


def analyze_body(base: np.ndarray, rng: np.random.Generator) -> dict:
    return {"pixels": np.round(fresh_pixels(base, rng), 6).tolist()}


def reconstruct_body(rng: np.random.Generator) -> dict:
    return {"digit": int(rng.integers(10)), "vector": np.round(rng.uniform(-0.5, 0.5, 16), 6).tolist()}


# ---------------------------------------------------------------- statistics and output

def summarize(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000.0
    return {"n": int(ms.size), "median_ms": float(np.median(ms)), "p99_ms": float(np.percentile(ms, 99)),
            "mean_ms": float(ms.mean()), "max_ms": float(ms.max())}


def markdown_table(headers: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def environment() -> dict:
    """Where the numbers come from: they mean little without it."""
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "load_average_at_start": load,
            "TF_NUM_INTRAOP_THREADS": os.environ.get("TF_NUM_INTRAOP_THREADS"),
            "TF_NUM_INTEROP_THREADS": os.environ.get("TF_NUM_INTEROP_THREADS"),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def write_results(name: str, results: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1))
    return path


# ---------------------------------------------------------------- HTTP

def post_json(url: str, body: dict | bytes, timeout: float = 60) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(base_url: str, timeout: float = 180, process=None) -> float:
    """Seconds until GET /readyz answers 200; raises if the server dies or takes too long."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{base_url}/readyz not 200 within {timeout} s")


# ---------------------------------------------------------------- the production command

def dockerfile_cmd(path: Path = PROJECT_ROOT / "Dockerfile") -> list[str]:
    """The Dockerfile's last CMD (exec or shell form), continuation lines joined."""
    text = path.read_text().replace("\\\n", " ")
    commands = [line.strip()[3:].strip() for line in text.splitlines() if line.strip().upper().startswith("CMD ")]
    if not commands:
        raise SystemExit("the Dockerfile has no CMD")
    command = commands[-1]
    return json.loads(command) if command.startswith("[") else shlex.split(command)


def resolve_program(argv: list[str]) -> list[str]:
    """argv with its program taken from beside this interpreter when it is there (a venv)."""
    import shutil

    beside = Path(sys.executable).parent / argv[0]
    program = str(beside) if beside.exists() else shutil.which(argv[0])
    if not program:
        raise SystemExit(f"{argv[0]} is not installed: pip install -r requirements.txt")
    return [program, *argv[1:]]


# ---------------------------------------------------------------- memory

def children_of(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc/*/stat (field 4 is the parent's pid)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return sorted(children)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process (all its threads) so far, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float | None:
    """Resident memory (VmRSS) of one process in MiB, or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None
