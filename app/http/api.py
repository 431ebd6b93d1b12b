"""The JSON API: one view per endpoint of app/http/endpoints.py's table, each delegating to the
loaded models (app/serving/service.py) and to the JSON shapes of app/http/payloads.py."""
from __future__ import annotations

import hashlib

import numpy as np
from flask import Blueprint, current_app, jsonify, request

from app.http import payloads
from app.http.encoding import quantize, rounded
from app.http.endpoints import register
from app.http.inputs import json_body, read_image, read_image_request
from app.http.openapi import openapi_document
from app.http.schemas import (
    CapsuleMathRequest,
    CapsuleRequest,
    CompareRequest,
    TransformSweepRequest,
    VotesRequest,
    transform_values,
)
from app.serving.service import CapsNetService, CNNService
from app.serving.tables import study_table
from datasets.transforms import TRANSFORMS, apply_transform
from model.losses import LAMBDA, M_MINUS, M_PLUS
from model.spec import PERTURBATION, ROUTING_ITERATIONS_RANGE, SWEEP_PERTURBATIONS

bp = Blueprint("api", __name__)


def capsnet() -> CapsNetService:
    return current_app.extensions["models"]["capsnet"]


def cnn() -> CNNService:
    return current_app.extensions["models"]["cnn"]


def analysis_of_request() -> dict:
    pixels, iterations = read_image()
    return capsnet().analyze(pixels, iterations)


def capsule_of_request() -> CapsuleRequest:
    return CapsuleRequest.model_validate(json_body())


def cacheable(body):
    """A JSON answer that changes only with the checkpoints, the code or a re-measured table."""
    return conditional(jsonify(body))


def conditional(response):
    """ETag = a hash of this answer's own bytes and path: it changes with the content whatever
    changed it, and no two resources share one; If-None-Match answers 304."""
    digest = hashlib.sha256(request.path.encode() + b"\0" + response.get_data())
    response.set_etag(digest.hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)


def model_info():
    service = capsnet()
    return cacheable({
        "name": "CapsNet (Sabour, Frosst & Hinton, 2017)",
        "parameters": int(service.model.count_params()),
        "routing_iterations": service.default_iterations,
        "routing_iterations_range": list(ROUTING_ITERATIONS_RANGE),
        "input_shape": list(service.image_shape[:2]),
        "sweep_perturbations": rounded(SWEEP_PERTURBATIONS),
        "slider_half_range": PERTURBATION,
        "transforms": {name: spec.as_json() for name, spec in TRANSFORMS.items()},
        "layers": service.layers(),
        "receptive_fields": service.receptive_fields(),
        "margin_loss": {"m_plus": M_PLUS, "m_minus": M_MINUS, "lambda": LAMBDA},
        "checkpoint": service.metadata,
    })


def models():
    services = current_app.extensions["models"].values()
    return cacheable([service.summary() for service in services])


def conv1_kernels():
    return cacheable({"kernels": quantize(capsnet().conv1_kernels())})


def analyze():
    return jsonify(payloads.full_analysis(analysis_of_request(), capsnet().primary_grid))


def relu():
    return jsonify(payloads.conv1_part(analysis_of_request()))


def primary_caps():
    return jsonify(payloads.primary_caps_part(analysis_of_request(), capsnet().primary_grid))


def routing():
    return jsonify(payloads.routing_part(analysis_of_request(), capsnet().primary_grid))


def digit_caps():
    return jsonify(payloads.digit_caps_part(analysis_of_request()))


def reconstruction():
    return jsonify(payloads.reconstruction_part(analysis_of_request()))


def reconstruct():
    capsule = capsule_of_request()
    image = capsnet().reconstruct(capsule.digit, np.asarray(capsule.vector, np.float32))
    return jsonify(reconstruction=rounded(image))


def decoder():
    """The decoder's weights in app/serving/decoder_weights.py's binary format, cached like the kernels."""
    return conditional(current_app.response_class(capsnet().decoder_weights(), mimetype="application/octet-stream"))


def sweep():
    capsule = capsule_of_request()
    images = capsnet().sweep(capsule.digit, np.asarray(capsule.vector, np.float32))
    return jsonify(perturbations=rounded(SWEEP_PERTURBATIONS), images=quantize(images))


def compare():
    pixels, body = read_image_request(CompareRequest)
    transformed = apply_transform(pixels, transform_values(body.transform))
    caps, conv = capsnet().classify(transformed[None]), cnn().classify(transformed[None])
    return jsonify(payloads.comparison(transformed, caps, conv))


def transform_sweep():
    pixels, body = read_image_request(TransformSweepRequest)
    held = transform_values(body.transform)
    held.pop(body.parameter, None)
    # one batched forward pass per model for the whole sweep (plus the untransformed input)
    images = np.stack([apply_transform(pixels, {**held, body.parameter: value}) for value in body.values]
                      + [pixels])
    caps, conv = capsnet().classify(images), cnn().classify(images)
    digit = int(caps["prediction"][-1]) if body.digit is None else body.digit
    return jsonify(payloads.transform_sweep(body.parameter, body.values, digit, images[:-1],
                                            {k: v[:-1] for k, v in caps.items()},
                                            {k: v[:-1] for k, v in conv.items()}))


def robustness():
    return cacheable(study_table("robustness"))


def routing_share():
    return cacheable(study_table("routing_share"))


def votes():
    pixels, body = read_image_request(VotesRequest)
    table = study_table("votes")
    service = capsnet()
    details = service.details(pixels, body.routing_iterations)
    saliency = service.saliency(pixels, body.digit, body.routing_iterations)
    projection = {**table["projections"][body.digit], "images": table["images"]}
    return jsonify(payloads.votes(details, body.digit, projection, service.receptive_field(), saliency))


def capsule_math():
    pixels, body = read_image_request(CapsuleMathRequest)
    details = capsnet().details(pixels, body.routing_iterations)
    return jsonify(payloads.capsule_math(details, capsnet().model.digit_caps.transform.numpy(),
                                         body.capsule, body.digit))


def dimensions():
    return cacheable(study_table("dimensions"))


def mistakes():
    table = study_table("mistakes")
    return cacheable([{key: entry[key] for key in ("index", "label", "prediction", "lengths")}
                      | {"image": f"results/mistakes/{entry['file']}"} for entry in table["mistakes"]])


def openapi():
    return jsonify(openapi_document())


register(bp, globals())
