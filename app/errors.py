"""One JSON error shape, {"error": "..."}, for every failure the API can meet."""
from __future__ import annotations

from flask import Flask, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """A request the API refuses, with the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message, self.status, self.headers = message, status, headers or {}


class Busy(ApiError):
    """429 Too Many Requests, with Retry-After: a worker's own queue is full (app/http/admission.py,
    app/serving/batcher.py), so the request is refused at once instead of waiting behind work
    that cannot be finished in time."""

    RETRY_AFTER_S = 1

    def __init__(self, message: str):
        super().__init__(f"The server is busy: {message}. Try again in a moment.", 429,
                         headers={"Retry-After": str(self.RETRY_AFTER_S)})


def describe_validation_error(error: ValidationError) -> str:
    from datasets.transforms import TRANSFORMS

    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "body"
        message = f"{where}: {item['msg']}"
        field = str(item["loc"][-1]) if item["loc"] else ""
        in_transform = item["loc"][-2:-1] == ("transform",)  # not MultiMNIST's compose.0.dx
        if field in TRANSFORMS and in_transform:  # name the whole range, not just the bound that was crossed
            spec = TRANSFORMS[field]
            message += f" ({field} ranges over {spec.minimum}..{spec.maximum} {spec.unit})"
        parts.append(message)
    return "; ".join(parts[:5])


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        return jsonify(error=error.message), error.status, error.headers

    @app.errorhandler(ValidationError)
    def validation_error(error: ValidationError):
        return jsonify(error=describe_validation_error(error)), 422

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = error.description or error.name
        if error.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"Request body too large: the limit is {limit // (1024 * 1024)} MB." if limit else message
        response = jsonify(error=message)
        response.status_code = error.code or 500
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unhandled error")
        return jsonify(error="Internal error: the server could not process this request."), 500
