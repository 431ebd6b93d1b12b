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
GALLERY = PROJECT_ROOT / "static" / "gallery"


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


def gallery_digit(label: int, index: int = 0) -> np.ndarray:
    """A real MNIST test digit shipped in static/gallery, as uint8 (28, 28)."""
    path = sorted(GALLERY.glob(f"{label}_*.png"))[index]
    return np.asarray(Image.open(path).convert("L"))
