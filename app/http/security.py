"""Headers on every response: the page runs only its own scripts and styles."""
from __future__ import annotations

from flask import Flask

# 'wasm-unsafe-eval' lets the page compile WebAssembly (its decoder's kernel, web/engines/decoder-wasm.js),
# and nothing else: JavaScript eval stays forbidden.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                           "script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        return response
