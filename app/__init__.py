"""The Flask application: `create_app()` (Flask's application-factory pattern)."""
from __future__ import annotations

import os

from flask import Flask

UPLOAD_LIMIT = 10 * 1024 * 1024


def create_app(config: dict | None = None) -> Flask:
    """Defaults, then CAPSNET_* environment variables, then `config`; the model loads once here."""
    from app.runtime import check_backend
    check_backend()  # before Keras loads: a clear message if KERAS_BACKEND names another backend
    from model.zoo import CHECKPOINTS, card  # TensorFlow loads with the services, not at import time

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # web/ is the page: its templates (index.html, one per section) and scripts, served at /static.
    app = Flask(__name__, static_folder=os.path.join(root, "web"), static_url_path="/static",
                template_folder=os.path.join(root, "web"))
    from app.encoding import NumpyJSONProvider
    app.json = NumpyJSONProvider(app)
    app.config.from_mapping(
        CHECKPOINT=str(card("capsnet").checkpoint),
        CNN_CHECKPOINT=str(card("cnn").checkpoint),
        MULTIMNIST_CHECKPOINT=str(card("multimnist").checkpoint),
        ROBUSTNESS=str(CHECKPOINTS / "robustness.json"),
        VOTES_PCA=str(CHECKPOINTS / "votes_pca.json"),
        DIMENSIONS=str(CHECKPOINTS / "dimensions.json"),
        ROUTING_ITERATIONS=3,
        MAX_BATCH=8,  # analyses of concurrent requests sharing one forward pass (1: none share)
        MAX_WAITING=64,  # calls queued for one forward pass before the next is answered 429
        COSTLY_SLOTS=2,  # costly requests (app/endpoints.py) running at once in a worker ...
        COSTLY_WAITING=2,  # ... and waiting for a slot; one more is answered 429 (app/busy.py)
        WARM_UP=True,
        MAX_CONTENT_LENGTH=UPLOAD_LIMIT,
    )
    app.config.from_prefixed_env("CAPSNET")
    app.config.update(config or {})

    from app.multi_service import MultiMNISTService
    from app.service import CapsNetService, CNNService

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
    app.extensions["capsnet"] = models["capsnet"]
    from app.busy import Gate
    app.extensions["gate"] = Gate(int(app.config["COSTLY_SLOTS"]), int(app.config["COSTLY_WAITING"]))

    from app import api, health, multi, pages
    from app.errors import register_error_handlers
    from app.security import register_security_headers

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(multi.bp)
    app.register_blueprint(health.bp)
    register_error_handlers(app)
    register_security_headers(app)
    return app
