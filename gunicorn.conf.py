"""Gunicorn settings for `gunicorn "app:create_app()"` (the Dockerfile's CMD).

Every value can be changed from the environment without editing this file:

    PORT / BIND             where to listen: BIND wins ("0.0.0.0:8080", "unix:/run/capsnet.sock"),
                            else 0.0.0.0:$PORT, else 0.0.0.0:5000
    GUNICORN_WORKERS        processes, each with its own copy of the model (default: cores // 2, >= 1)
    GUNICORN_THREADS        request threads per process (default 4)
    GUNICORN_TIMEOUT        seconds a worker may stay silent, model loading included (default 120)
    GUNICORN_MAX_REQUESTS   recycle a worker after this many requests (default 0: never)
    GUNICORN_LOG_LEVEL      debug, info, warning, error (default info)
    GUNICORN_ACCESS_LOG     where each request is logged: "-" stdout (default), a file, or empty
                            for none (e.g. when nginx in front logs them)
    TF_NUM_INTRAOP_THREADS  TensorFlow threads per operation in each worker (default cores // workers)
    TF_NUM_INTEROP_THREADS  TensorFlow operations run at once in each worker (default 1)

and CAPSNET_* for the app itself (e.g. CAPSNET_CHECKPOINT=/path/to/capsnet.weights.h5).

Sizing, measured on 2 cores: 1 worker x 4 threads served more than 2 sync workers, and letting
workers x TensorFlow threads exceed the cores cut throughput tenfold. So the default gives each
worker an equal share of the cores for TensorFlow's pools, and a few threads to overlap the
non-TensorFlow work of a request (JSON parsing, image decoding, encoding the answer).
"""
from __future__ import annotations

import os


def _cores() -> int:
    """The cores this process may use: CPU affinity, capped by a cgroup v2 CPU quota (containers)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as file:
            quota, period = file.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def _int_from_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


CORES = _cores()

# Where to listen. `--bind` on the command line still overrides this.
bind = [os.environ.get("BIND") or f"0.0.0.0:{os.environ.get('PORT') or 5000}"]

# Workers and threads.
workers = max(1, _int_from_env("GUNICORN_WORKERS", max(1, CORES // 2)))
worker_class = "gthread"
threads = max(1, _int_from_env("GUNICORN_THREADS", 4))

# TensorFlow reads these when it first starts its thread pools, i.e. in each worker when it
# imports the app, and workers inherit this process's environment. setdefault: the
# environment keeps the last word.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(max(1, CORES // workers)))
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", os.environ["TF_NUM_INTRAOP_THREADS"])
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# No preloading: TensorFlow hangs in a forked child once the parent has built the model
# (measured). Each worker therefore imports the app itself, and create_app() loads the
# checkpoint and traces the forward pass and the decoder (WARM_UP=True, the default) before
# the worker accepts its first request: a few seconds, after which /readyz answers 200.
preload_app = False

# Generous, because a worker is silent while it loads and traces the model; a request itself
# takes tens of milliseconds.
timeout = _int_from_env("GUNICORN_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5  # behind a load balancer, keep connections a little longer than the default 2 s

# Recycling a worker costs a model load, so it is off unless asked for.
max_requests = _int_from_env("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# Request limits. The API takes no long URLs and few headers; bodies are capped by the app
# (MAX_CONTENT_LENGTH, 10 MB: larger uploads get a JSON 413).
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# Logs to stdout/stderr, as containers expect; one access-log line per request, with its
# duration in microseconds (%(D)s).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'

# The heartbeat file on a RAM disk where there is one (Docker's /dev/shm): an overlay or
# slow disk can stall workers into timeouts.
if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    worker_tmp_dir = "/dev/shm"

# Gunicorn's runtime control socket (gunicornc) is not used; left on, every server started
# by the same user would share one default path (~/.gunicorn/gunicorn.ctl).
control_socket_disable = True

proc_name = "capsnet"


def post_worker_init(worker) -> None:
    """Logged once the worker has loaded and traced the model and is about to accept requests."""
    worker.log.info("worker %s ready (TensorFlow: %s intra-op, %s inter-op threads)", worker.pid,
                    os.environ.get("TF_NUM_INTRAOP_THREADS"), os.environ.get("TF_NUM_INTEROP_THREADS"))
