"""Fixtures for the whole suite: the trained models loaded once per session in the Flask app, its
test client, a live server, and Debian's Chromium. Plain helpers are in support/."""
from __future__ import annotations

import os
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from support.tools import tool_missing

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
