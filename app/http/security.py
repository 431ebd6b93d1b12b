"""Headers on every response: the page runs only its own scripts and styles."""
from __future__ import annotations

from flask import Flask

# The page runs its own scripts and nothing else: no inline script, no eval. The static edition
# (static_site/build.py) says the same in a <meta> tag, with 'wasm-unsafe-eval' added: it compiles
# ONNX Runtime's WebAssembly, which the Flask page, whose server answers, never needs.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'")
CONTENT_SECURITY_POLICY = PAGE_POLICY + "; frame-ancestors 'none'"  # a header only: <meta> cannot say it


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        return response
