"""Fixtures for the whole suite: the trained models loaded once per session in the Flask app, its
test client, a live server, Debian's Chromium, nginx, and a tiny MNIST file. Plain helpers are in
support/."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from support.tools import program, tool_missing

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def app():
    from app import create_app

    return create_app({"TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app):
    """The app served from a thread (a forked server hangs once TensorFlow is loaded)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (whose own browser download is never used)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        tool_missing("the Python package playwright is not installed", "pip install -r requirements-dev.txt")
    if not os.path.exists(CHROMIUM):
        tool_missing(f"Chromium not found at {CHROMIUM}",
                     "apt-get install chromium (or set CHROMIUM_PATH to a Chromium binary)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def nginx() -> str:
    """Debian's nginx: skipped where it is missing, failed under CI (support/tools.py). Session-
    scoped so that it is looked for before the live server loads the models."""
    return program("nginx", "/usr/sbin/nginx", install="apt-get install nginx (`make test` does it)")


@pytest.fixture()
def tiny_mnist(tmp_path):
    """A small MNIST-format npz from the gallery digits: 60 training and 20 test images."""
    from support.digits import tiny_npz

    return tiny_npz(tmp_path / "tiny.npz")


@pytest.fixture(scope="session")
def static_site(app, tmp_path_factory):
    """The static edition (`make site`), built from the committed checkpoints (their networks
    exported first where exports/ is stale) and served by Python's plain static file server
    from a sub-path, as a project site is: http://127.0.0.1:PORT/capsnet/."""
    from static_site import build, export
    if not (build.RUNTIME / build.RUNTIME_FILES["module"]).exists():
        tool_missing("onnxruntime-web is not installed", "npm ci (make install-dev)")
    if export.stale():
        export.export(count=200)
    served = tmp_path_factory.mktemp("served")
    build.build(served / "capsnet", app=app)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(served)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the static file server did not start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/capsnet/"
    server.terminate()
    server.wait(10)
