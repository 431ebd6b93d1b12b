"""Read the image of a request: multipart upload, data URL or ready 28x28 pixels."""
from __future__ import annotations

import base64
import binascii
import re

import numpy as np
from flask import request
from werkzeug.exceptions import BadRequest

from app.errors import ApiError
from app.preprocess import image_bytes_to_mnist
from app.schemas import ImageRequest

DATA_URL = re.compile(r"^data:(?:image/[\w.+-]+)?(?:;[\w=.+-]+)*;base64,", re.IGNORECASE)


def json_body() -> dict:
    if not request.is_json:
        raise ApiError("Send JSON with Content-Type: application/json.", 415)
    try:
        body = request.get_json()
    except BadRequest as error:
        raise ApiError("Malformed JSON in the request body.", 400) from error
    except RecursionError as error:  # json.loads past ~1000 nested arrays or objects
        raise ApiError("The JSON in the request body is nested too deeply.", 400) from error
    if not isinstance(body, dict):
        raise ApiError("The JSON body must be an object.", 422)
    return body


def read_image() -> tuple[np.ndarray, int | None]:
    """The request's digit as MNIST-like float32 (28, 28), and its routing_iterations if any."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            raise ApiError("No file: send the image in the multipart field 'image'.", 400)
        return image_bytes_to_mnist(upload.read()), form_iterations()
    if not request.is_json:
        raise ApiError("Send multipart/form-data with a file field 'image', or JSON with "
                       "'image' (a data URL) or 'pixels' (28x28 floats).", 415)
    body = ImageRequest.model_validate(json_body())
    if body.pixels is not None:
        return np.asarray(body.pixels, dtype=np.float32), body.routing_iterations
    return image_bytes_to_mnist(decode_data_url(body.image)), body.routing_iterations


def decode_data_url(url: str) -> bytes:
    match = DATA_URL.match(url)
    if not match:
        raise ApiError("'image' must be a data URL: data:image/png;base64,...", 422)
    try:
        return base64.b64decode(url[match.end():], validate=True)
    except (binascii.Error, ValueError) as error:
        raise ApiError("'image' holds invalid base64.", 422) from error


def form_iterations() -> int | None:
    raw = request.form.get("routing_iterations") or request.args.get("routing_iterations")
    if raw is None:
        return None
    value = raw.strip()
    # ASCII digits only: str.isdigit() also accepts '²' or '①', which int() refuses.
    if not (value.isascii() and value.isdigit() and len(value) <= 2 and 1 <= int(value) <= 10):
        raise ApiError("routing_iterations must be an integer from 1 to 10.", 422)
    return int(value)
