"""The JSON API: one endpoint per stage of the network, plus the decoder for the sliders."""
from __future__ import annotations

import numpy as np
from flask import Blueprint, current_app, jsonify, request

from app import payloads
from app.encoding import as_list, quantize
from app.inputs import json_body, read_image
from app.openapi import openapi_document
from app.schemas import CapsuleRequest
from app.service import SWEEP_STEPS, CapsNetService

bp = Blueprint("api", __name__, url_prefix="/api")


def service() -> CapsNetService:
    return current_app.extensions["capsnet"]


def analysis_of_request() -> dict:
    pixels, iterations = read_image()
    return service().analyze(pixels, iterations)


def capsule_of_request() -> CapsuleRequest:
    return CapsuleRequest.model_validate(json_body())


def cacheable(body: dict):
    """Answers that change only with the checkpoint: ETag = the weights' sha256."""
    response = jsonify(body)
    response.set_etag(service().metadata.get("sha256", "unknown"))
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)


@bp.get("/model")
def model_info():
    model = service().model
    layers = [
        {"name": "conv1", "output_shape": [20, 20, 256], "kernel": [9, 9], "stride": 1, "activation": "relu"},
        {"name": "primary_caps", "output_shape": [32, 6, 6, 8], "kernel": [9, 9], "stride": 2,
         "capsules": 1152, "activation": "squash"},
        {"name": "digit_caps", "output_shape": [10, 16], "routing": "dynamic routing by agreement"},
        {"name": "decoder", "output_shape": [28, 28], "units": [512, 1024, 784]},
    ]
    return cacheable({"name": "CapsNet (Sabour, Frosst & Hinton, 2017)",
                      "parameters": int(model.count_params()),
                      "routing_iterations": service().default_iterations,
                      "layers": layers, "checkpoint": service().metadata})


@bp.get("/conv1/kernels")
def conv1_kernels():
    return cacheable({"kernels": quantize(service().conv1_kernels())})


@bp.post("/analyze")
def analyze():
    return jsonify(payloads.full_analysis(analysis_of_request()))


@bp.post("/relu")
def relu():
    return jsonify(payloads.conv1_part(analysis_of_request()))


@bp.post("/primary-caps")
def primary_caps():
    return jsonify(payloads.primary_caps_part(analysis_of_request()))


@bp.post("/routing")
def routing():
    return jsonify(payloads.routing_part(analysis_of_request()))


@bp.post("/digit-caps")
def digit_caps():
    return jsonify(payloads.digit_caps_part(analysis_of_request()))


@bp.post("/reconstruction")
def reconstruction():
    return jsonify(payloads.reconstruction_part(analysis_of_request()))


@bp.post("/reconstruct")
def reconstruct():
    capsule = capsule_of_request()
    image = service().reconstruct(capsule.digit, np.asarray(capsule.vector, np.float32))
    return jsonify(reconstruction=as_list(image))


@bp.post("/sweep")
def sweep():
    capsule = capsule_of_request()
    images = service().sweep(capsule.digit, np.asarray(capsule.vector, np.float32))
    return jsonify(perturbations=as_list(SWEEP_STEPS), images=quantize(images))


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
