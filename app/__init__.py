"""The Flask application: `create_app()` (Flask's application-factory pattern).

app/http/ is the HTTP layer (the table of endpoints, the views, request and answer formats),
app/serving/ the loaded models behind it, app/uploads/ what turns an uploaded image into the
network's input. The page itself is web/, served at /static; the studies' tables are results/.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UPLOAD_LIMIT = 10 * 1024 * 1024


def create_app(config: dict | None = None) -> Flask:
    """Defaults, then CAPSNET_* environment variables, then `config`; the models load once here."""
    from app.serving.runtime import check_backend
    check_backend()  # before Keras loads: a clear message if KERAS_BACKEND names another backend
    from model.registry import card  # TensorFlow loads with the services, not at import time
    from model.spec import ROUTING_ITERATIONS
    from studies import RESULTS

    # web/ is the page: its templates (index.html, one per section) and scripts, served at /static.
    web = PROJECT_ROOT / "web"
    app = Flask(__name__, static_folder=web, static_url_path="/static", template_folder=web)
    from app.http.encoding import NumpyJSONProvider
    app.json = NumpyJSONProvider(app)
    app.config.from_mapping(
        CHECKPOINT=str(card("capsnet").checkpoint),
        CNN_CHECKPOINT=str(card("cnn").checkpoint),
        MULTIMNIST_CHECKPOINT=str(card("multimnist").checkpoint),
        RESULTS=str(RESULTS),  # the studies' tables (studies/__init__.py)
        ROUTING_ITERATIONS=ROUTING_ITERATIONS,
        MAX_BATCH=8,  # analyses of concurrent requests sharing one forward pass (1: none share)
        MAX_WAITING=64,  # calls queued for one forward pass before the next is answered 429
        COSTLY_SLOTS=2,  # costly requests (app/http/endpoints.py) running at once in a worker ...
        COSTLY_WAITING=2,  # ... and waiting for a slot; one more is answered 429 (app/http/admission.py)
        WARM_UP=True,
        MAX_CONTENT_LENGTH=UPLOAD_LIMIT,
    )
    app.config.from_prefixed_env("CAPSNET")
    app.config.update(config or {})

    from app.serving.multi_service import MultiMNISTService
    from app.serving.service import CapsNetService, CNNService

    # Every checkpoint is verified against its metadata's sha256 before anything is served.
    iterations = int(app.config["ROUTING_ITERATIONS"])
    batching = {"max_batch": int(app.config["MAX_BATCH"]), "max_waiting": int(app.config["MAX_WAITING"])}
    models = {"capsnet": CapsNetService(app.config["CHECKPOINT"], iterations, **batching),
              "cnn": CNNService(app.config["CNN_CHECKPOINT"]),
              "multimnist": MultiMNISTService(app.config["MULTIMNIST_CHECKPOINT"], iterations, **batching)}
    if app.config["WARM_UP"]:
        for service in models.values():
            service.warm_up()
    app.extensions["models"] = models
    from app.http.admission import Gate
    app.extensions["gate"] = Gate(int(app.config["COSTLY_SLOTS"]), int(app.config["COSTLY_WAITING"]))

    from app.errors import register_error_handlers
    from app.http import api, health, multi, pages
    from app.http.security import register_security_headers

    for blueprint in (pages.bp, api.bp, multi.bp, health.bp):
        app.register_blueprint(blueprint)
    # The mistakes' images, at results/mistakes/ as /api/mistakes names them.
    app.register_blueprint(Blueprint("results", __name__, static_folder=app.config["RESULTS"],
                                     static_url_path="/results"))
    register_error_handlers(app)
    register_security_headers(app)
    return app
