"""Read the image of a request: multipart upload, data URL or ready 28x28 pixels."""
from __future__ import annotations

import base64
from collections.abc import Callable

import numpy as np
from flask import request
from werkzeug.exceptions import BadRequest

from app.errors import ApiError
from app.http.schemas import ImageRequest
from app.uploads.preprocess import image_bytes_to_mnist


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
    pixels, body = read_image_request(ImageRequest)
    return pixels, body.routing_iterations


def read_image_request(model: type[ImageRequest], prepare: Callable[[bytes], np.ndarray] = image_bytes_to_mnist
                       ) -> tuple[np.ndarray, ImageRequest]:
    """The request's digit and its other fields validated by `model`: a multipart upload (file
    field 'image', other fields as form values), or JSON with 'image' (a data URL) or pixels
    (`model.given_pixels`). `prepare` turns an image file into the model's input."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            raise ApiError("No file: send the image in the multipart field 'image'.", 400)
        body = model.model_validate(form_fields(model), context={"upload": True})
        return prepare(upload.read()), body
    if not request.is_json:
        raise ApiError("Send multipart/form-data with a file field 'image', or JSON with "
                       "'image' (a data URL) or the pixels the endpoint takes.", 415)
    body = model.model_validate(json_body())
    pixels = body.given_pixels()
    if pixels is not None:
        return pixels, body
    return prepare(decode_data_url(body.image)), body


def form_value(text: str):
    """A form field as the number it spells (ASCII only: int() takes '²' too), else the text,
    which the request model then refuses with a 422 where it wanted a number."""
    value = text.strip()
    if value.isascii() and len(value) <= 32:  # no number the API takes is longer
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                pass
    return text


def form_fields(model: type[ImageRequest]) -> dict:
    """Multipart fields (and the query string) as the JSON body `model` would take: transform
    parameters may come as fields of their own; `values` as repeated fields."""
    from datasets.transforms import TRANSFORMS

    merged = {**request.args.to_dict(flat=False), **request.form.to_dict(flat=False)}
    second = [name for name in model.inputs if name in merged]
    if second:
        raise ApiError(f"The uploaded file is the input: leave out {', '.join(map(repr, second))}.", 422)
    body: dict = {}
    for name, texts in merged.items():
        if name in TRANSFORMS and "transform" in model.model_fields:
            body.setdefault("transform", {})[name] = form_value(texts[-1])
        elif name == "values" and name in model.model_fields:
            body[name] = [form_value(text) for text in texts]
        else:
            body[name] = form_value(texts[-1])
    return body


def decode_data_url(url: str) -> bytes:
    """The bytes of a data URL that the request model has matched against DATA_URL_PATTERN."""
    return base64.b64decode(url[url.index(",") + 1:], validate=True)
