"""Probes for load balancers and containers."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app.http.endpoints import register

bp = Blueprint("health", __name__)


def healthz():
    return jsonify(status="ok")


def readyz():
    """Ready once every model of this worker is loaded, verified and traced."""
    services = current_app.extensions.get("models", {})
    waiting = [name for name, service in services.items() if not service.ready]
    if not services or waiting:
        return jsonify(status="loading", error=f"Not loaded and traced yet: {', '.join(waiting) or 'models'}."), 503
    return jsonify(status="ready", models=sorted(services))


register(bp, globals())
