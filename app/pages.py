"""HTML: the visualisation page and a readable API reference."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.endpoints import register
from app.openapi import openapi_document

bp = Blueprint("pages", __name__)


def index():
    return render_template("index.html")


def api_docs():
    return render_template("api_docs.html", document=openapi_document())


register(bp, globals())
