"""HTML: the visualisation page and a readable API reference."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.openapi import openapi_document

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/api/docs")
def api_docs():
    return render_template("api_docs.html", document=openapi_document())
