"""/api/multi/*: the MultiMNIST CapsNet (two overlapping digits), served like the MNIST one."""
from __future__ import annotations

import numpy as np
from flask import Blueprint, current_app, jsonify

from app.http import payloads
from app.http.encoding import rounded
from app.http.endpoints import register
from app.http.inputs import json_body, read_image_request
from app.http.schemas import CapsuleRequest, PairRequest
from app.serving.multi_service import MultiMNISTService
from app.uploads.preprocess import image_bytes_to_pair

bp = Blueprint("multi", __name__)


def multimnist() -> MultiMNISTService:
    return current_app.extensions["models"]["multimnist"]


def multi_analyze():
    pixels, body = read_image_request(PairRequest, image_bytes_to_pair)
    service = multimnist()
    analysis = service.analyze(pixels, body.routing_iterations)
    return jsonify(payloads.pair_analysis(analysis, service.primary_grid, service.receptive_field()))


def multi_reconstruct():
    capsule = CapsuleRequest.model_validate(json_body())
    image = multimnist().reconstruct(capsule.digit, np.asarray(capsule.vector, np.float32))
    return jsonify(reconstruction=rounded(image))


register(bp, globals())
