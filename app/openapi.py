"""The OpenAPI 3.1 document, its schemas generated from the pydantic models in schemas.py."""
from __future__ import annotations

from functools import cache

from pydantic.json_schema import models_json_schema

from app import schemas

IMAGE_ENDPOINTS = {
    "/api/analyze": ("Every stage of the network for one digit, in one round trip", schemas.AnalyzeResponse),
    "/api/relu": ("Conv1's 256 ReLU feature maps", schemas.ReluResponse),
    "/api/primary-caps": ("The 1152 primary capsules and their lengths after squashing", schemas.PrimaryCapsResponse),
    "/api/routing": ("Coupling coefficients and digit-capsule lengths at every routing iteration", schemas.RoutingResponse),
    "/api/digit-caps": ("The ten 16-D digit capsules and their lengths", schemas.DigitCapsResponse),
    "/api/reconstruction": ("The decoder's reconstruction from the predicted capsule", schemas.ReconstructionResponse),
}
CAPSULE_ENDPOINTS = {
    "/api/reconstruct": ("Decode one digit capsule's 16-D vector (the sliders)", schemas.ReconstructResponse),
    "/api/sweep": ("The paper's Figure 4: each dimension perturbed by -0.25..+0.25 in steps of 0.05",
                   schemas.SweepResponse),
}
GET_ENDPOINTS = {
    "/api/model": ("Architecture, parameter count and checkpoint metadata", schemas.ModelResponse),
    "/api/conv1/kernels": ("The 256 trained 9x9 Conv1 kernels (cacheable: ETag)", schemas.KernelsResponse),
}
ERRORS = {"400": "Bad request: no file, malformed JSON, truncated image",
          "413": "Too large: body over the cap, or too many pixels",
          "415": "Unsupported media type: not an image, or not JSON/multipart",
          "422": "Invalid values: NaN, wrong shape, out of range"}


def _ref(model) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(model, errors: bool = True) -> dict:
    responses = {"200": {"description": "OK", **_json(_ref(model))}}
    if errors:
        responses |= {code: {"description": text, **_json(_ref(schemas.ErrorResponse))}
                      for code, text in ERRORS.items()}
    return responses


@cache
def openapi_document() -> dict:
    models = [schemas.ImageRequest, schemas.CapsuleRequest, schemas.ErrorResponse,
              *(model for _, model in (*IMAGE_ENDPOINTS.values(), *CAPSULE_ENDPOINTS.values(),
                                       *GET_ENDPOINTS.values()))]
    _, definitions = models_json_schema([(m, "validation" if m in (schemas.ImageRequest, schemas.CapsuleRequest)
                                          else "serialization") for m in models],
                                        ref_template="#/components/schemas/{model}")
    multipart = {"type": "object", "required": ["image"], "properties": {
        "image": {"type": "string", "format": "binary",
                  "description": "PNG, JPEG, GIF, BMP or WebP; any size, colour or polarity"},
        "routing_iterations": {"type": "integer", "minimum": 1, "maximum": 10}}}
    paths: dict = {}
    for path, (summary, model) in IMAGE_ENDPOINTS.items():
        paths[path] = {"post": {"summary": summary, "requestBody": {"required": True, "content": {
            "application/json": {"schema": _ref(schemas.ImageRequest)},
            "multipart/form-data": {"schema": multipart}}}, "responses": _responses(model)}}
    for path, (summary, model) in CAPSULE_ENDPOINTS.items():
        paths[path] = {"post": {"summary": summary, "requestBody": {"required": True, **_json(
            _ref(schemas.CapsuleRequest))}, "responses": _responses(model)}}
    for path, (summary, model) in GET_ENDPOINTS.items():
        paths[path] = {"get": {"summary": summary, "responses": _responses(model, errors=False)}}
    paths["/api/openapi.json"] = {"get": {"summary": "This document", "responses": {"200": {"description": "OK"}}}}
    paths["/healthz"] = {"get": {"summary": "The process answers", "responses": {"200": {"description": "OK"}}}}
    paths["/readyz"] = {"get": {"summary": "200 once this worker's model is loaded and traced",
                                "responses": {"200": {"description": "ready"}, "503": {"description": "not yet"}}}}
    paths["/"] = {"get": {"summary": "The visualisation page",
                          "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}}}}
    paths["/api/docs"] = {"get": {"summary": "This document, readable",
                                  "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "CapsNet Visualization API", "version": "1.0.0",
                 "description": "Every stage of a trained capsule network (Sabour, Frosst & Hinton, 2017). "
                                "Large arrays are QuantizedArray objects: value = min + (max - min) * byte / 255, "
                                "the bytes deflated (zlib) and base64-encoded."},
        "paths": paths,
        "components": {"schemas": definitions["$defs"]},
    }
