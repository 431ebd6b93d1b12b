"""Probes for load balancers and containers."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    service = current_app.extensions.get("capsnet")
    if service is None or not service.ready:
        return jsonify(status="loading", error="The model is not loaded and traced yet."), 503
    return jsonify(status="ready")
