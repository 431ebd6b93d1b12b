"""HTML: the visualisation page and a readable API reference."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.http.endpoints import ENDPOINTS, register
from app.http.openapi import openapi_document
from app.uploads.rules import page_rules

bp = Blueprint("pages", __name__)


def page_config() -> dict:
    """What web/lib/page-config.js reads: the server answers, at these paths (relative to the page);
    the upload rules, for the page's own port of the preprocessing (the static edition's)."""
    return {"engine": "server", "endpoints": {e.view: e.path.lstrip("/") for e in ENDPOINTS if e.path.startswith("/api/")},
            "uploads": page_rules()}


def index():
    return render_template("index.html", page_config=page_config())


def api_docs():
    return render_template("api-docs.html", document=openapi_document())


register(bp, globals())
