"""The OpenAPI 3.1 document, built from the endpoint table and the pydantic models."""
from __future__ import annotations

from functools import cache

from pydantic.json_schema import models_json_schema

from app.http import schemas
from app.http.endpoints import ENDPOINTS, Endpoint

ERRORS = {400: "Bad request: no file, malformed JSON, truncated image",
          413: "Too large: body over the cap, or too many pixels",
          415: "Unsupported media type: not an image, or not JSON/multipart",
          422: "Invalid values: NaN, wrong shape, out of range, no digit found",
          429: "Too many requests: this worker's queue is full, or a proxy's per-client rate limit "
               "was reached (Retry-After says when to try again)",
          503: "Not ready: the models are loading, or a stored table does not match them"}


def _ref(model) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _without_null_defaults(schema):
    """pydantic writes `"default": null` for optional fields that may not be null: drop it."""
    if isinstance(schema, dict):
        return {k: _without_null_defaults(v) for k, v in schema.items() if not (k == "default" and v is None)}
    if isinstance(schema, list):
        return [_without_null_defaults(v) for v in schema]
    return schema


def _multipart(model, definitions: dict) -> dict:
    """The upload form: the file, plus the request model's fields other than its inputs (the file
    is the input) as form values (a transform's parameters as fields of their own, `values` repeated)."""
    properties = {"image": {"type": "string", "format": "binary",
                            "description": "PNG, JPEG, GIF, BMP or WebP; any size, colour or polarity"}}
    own = definitions[model.__name__]["properties"]
    for name, schema in own.items():
        if name in model.inputs:
            continue
        if name == "transform":
            properties |= definitions["Transform"]["properties"]
        else:
            properties[name] = schema
    required = [name for name in definitions[model.__name__].get("required", []) if name not in model.inputs]
    return {"type": "object", "required": ["image", *required], "properties": properties,
            "additionalProperties": False, **model.form_constraints}


def _operation(endpoint: Endpoint, definitions: dict) -> dict:
    responses: dict = {"200": {"description": "OK"}}
    if endpoint.response is not None:
        responses["200"] |= _json(_ref(endpoint.response))
    elif endpoint.media_type != "application/json":
        responses["200"]["content"] = {endpoint.media_type: {}}
    for status in endpoint.errors:
        responses[str(status)] = {"description": ERRORS[status], **_json(_ref(schemas.ErrorResponse))}
    operation = {"summary": endpoint.summary, "operationId": endpoint.view, "responses": responses}
    if endpoint.request is not None:
        content = {"application/json": {"schema": _ref(endpoint.request)}}
        if endpoint.upload:
            content["multipart/form-data"] = {"schema": _multipart(endpoint.request, definitions)}
        operation["requestBody"] = {"required": True, "content": content}
    return operation


@cache
def openapi_document() -> dict:
    requests = {e.request for e in ENDPOINTS if e.request is not None}
    responses = {e.response for e in ENDPOINTS if e.response is not None} | {schemas.ErrorResponse}
    models = [(m, "validation") for m in sorted(requests, key=lambda m: m.__name__)]
    models += [(m, "serialization") for m in sorted(responses, key=lambda m: m.__name__)]
    _, top = models_json_schema(models, ref_template="#/components/schemas/{model}")
    definitions = _without_null_defaults(top["$defs"])
    paths: dict = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint, definitions)
    return {
        "openapi": "3.1.0",
        "info": {"title": "CapsNet Visualization API", "version": "2.0.0",
                 "description": "Every stage of a trained capsule network (Sabour, Frosst & Hinton, 2017), "
                                "and a CNN beside it as the control. Large arrays are QuantizedArray objects: "
                                "value = min + (max - min) * byte / 255, the bytes deflated (zlib) and "
                                "base64-encoded."},
        "paths": paths,
        "components": {"schemas": definitions},
    }
