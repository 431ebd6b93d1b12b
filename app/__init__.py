"""The Flask application: `create_app()` (Flask's application-factory pattern)."""
from __future__ import annotations

import os

from flask import Flask

UPLOAD_LIMIT = 10 * 1024 * 1024


def create_app(config: dict | None = None) -> Flask:
    """Defaults, then CAPSNET_* environment variables, then `config`; the model loads once here."""
    from model.checkpoint import DEFAULT_CHECKPOINT  # TensorFlow loads here, not at import time

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(__name__, static_folder=os.path.join(root, "static"),
                template_folder=os.path.join(root, "templates"))
    app.config.from_mapping(
        CHECKPOINT=str(DEFAULT_CHECKPOINT),
        ROUTING_ITERATIONS=3,
        WARM_UP=True,
        MAX_CONTENT_LENGTH=UPLOAD_LIMIT,
        JSON_SORT_KEYS=False,
    )
    app.config.from_prefixed_env("CAPSNET")
    app.config.update(config or {})

    from app.service import CapsNetService

    service = CapsNetService(app.config["CHECKPOINT"], int(app.config["ROUTING_ITERATIONS"]))
    if app.config["WARM_UP"]:
        service.warm_up()
    app.extensions["capsnet"] = service

    from app import api, health, pages
    from app.errors import register_error_handlers
    from app.security import register_security_headers

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    register_error_handlers(app)
    register_security_headers(app)
    return app
