"""Shared fixtures: the trained model loaded once per session, the Flask app, a live server."""
from __future__ import annotations

import os
import threading
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GALLERY = PROJECT_ROOT / "web" / "gallery"


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


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def browser_missing(reason: str, install: str):
    """Skip a browser test on a machine without the browser, but fail under CI (CI=true),
    where a silently skipped page test would pass a broken page."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; the browser tests must run under CI: {install}", pytrace=False)
    pytest.skip(f"{reason} ({install})")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (whose own browser download is never used)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_missing("the Python package playwright is not installed", "pip install -r requirements-dev.txt")
    if not os.path.exists(CHROMIUM):
        browser_missing(f"Chromium not found at {CHROMIUM}",
                        "apt-get install chromium (or set CHROMIUM_PATH to a Chromium binary)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def gallery_digit(label: int, index: int = 0) -> np.ndarray:
    """A real MNIST test digit shipped in web/gallery, as uint8 (28, 28)."""
    path = sorted(GALLERY.glob(f"{label}_*.png"))[index]
    return np.asarray(Image.open(path).convert("L"))
