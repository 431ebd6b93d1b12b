"""The one table of endpoints: it registers the routes (each blueprint its own), builds the
OpenAPI document and drives the tests, so that no list of endpoints is written twice."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint
from pydantic import BaseModel

from app.http import schemas
from app.http.admission import gated


@dataclass(frozen=True)
class Endpoint:
    view: str  # the name of the view function in its blueprint's module
    method: str
    path: str
    summary: str
    response: type[BaseModel] | None = None  # None: not JSON (HTML) or free-form
    request: type[BaseModel] | None = None  # a JSON body validated by this model
    upload: bool = False  # also takes multipart/form-data with a file field `image`
    cacheable: bool = False  # ETag = a hash of the answer's body; If-None-Match answers 304
    errors: tuple[int, ...] = ()  # statuses besides 200 that the endpoint can answer
    media_type: str = "application/json"
    # Many times an analysis' work (a 41-value sweep, a gradient through routing): rate-limited per
    # client by deploy/ (nginx, the Kubernetes ingress) and admitted a few at a time by the server.
    costly: bool = False


BUSY = 429  # the server's own queue is full (app/http/admission.py), or a proxy's per-client rate limit
INPUT_ERRORS = (400, 413, 415, 422, BUSY)
CAPSULE_ERRORS = (400, 415, 422, BUSY)
DECODER_FORMAT = ("The decoder's weights, for a client that decodes by itself (docs/api.md), float16: "
                  "b'CAPSDEC1', a little-endian uint32 H, H bytes of JSON (dtype, capsules, capsule_dim, "
                  "image_shape, sha256, sweep_perturbations, and per layer: name, inputs, units, activation, kernel and bias "
                  "as [byte offset, count] into the data that follows; kernels inputs x units, row-major), "
                  "then the float16 data (about 2.8 MB). ETag: a hash of these bytes")
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("model_info", "GET", "/api/model", "Architecture read from the model object, the ranges the "
             "API accepts, and the checkpoint's metadata", schemas.ModelResponse, cacheable=True),
    Endpoint("models", "GET", "/api/models", "Every served model, with its test accuracy and verified sha256",
             schemas.ModelsResponse, cacheable=True),
    Endpoint("conv1_kernels", "GET", "/api/conv1/kernels", "The 256 trained 9x9 Conv1 kernels (cacheable: ETag)",
             schemas.KernelsResponse, cacheable=True),
    Endpoint("analyze", "POST", "/api/analyze", "Every stage of the network for one digit, in one round trip",
             schemas.AnalyzeResponse, schemas.ImageRequest, upload=True, errors=INPUT_ERRORS),
    Endpoint("relu", "POST", "/api/relu", "Conv1's 256 ReLU feature maps", schemas.ReluResponse,
             schemas.ImageRequest, upload=True, errors=INPUT_ERRORS),
    Endpoint("primary_caps", "POST", "/api/primary-caps", "The 1152 primary capsules and their lengths "
             "before and after squashing", schemas.PrimaryCapsResponse, schemas.ImageRequest, upload=True,
             errors=INPUT_ERRORS),
    Endpoint("routing", "POST", "/api/routing", "Coupling coefficients and digit-capsule lengths at every "
             "routing iteration", schemas.RoutingResponse, schemas.ImageRequest, upload=True, errors=INPUT_ERRORS),
    Endpoint("digit_caps", "POST", "/api/digit-caps", "The ten 16-D digit capsules and their lengths",
             schemas.DigitCapsResponse, schemas.ImageRequest, upload=True, errors=INPUT_ERRORS),
    Endpoint("reconstruction", "POST", "/api/reconstruction", "The decoder's reconstruction from the "
             "predicted capsule", schemas.ReconstructionResponse, schemas.ImageRequest, upload=True,
             errors=INPUT_ERRORS),
    Endpoint("reconstruct", "POST", "/api/reconstruct", "Decode one digit capsule's 16-D vector (the sliders)",
             schemas.ReconstructResponse, schemas.CapsuleRequest, errors=CAPSULE_ERRORS),
    Endpoint("decoder", "GET", "/api/decoder", DECODER_FORMAT, cacheable=True,
             media_type="application/octet-stream"),
    Endpoint("sweep", "POST", "/api/sweep", "The paper's Figure 4: each dimension perturbed by -0.25..+0.25 "
             "in steps of 0.05", schemas.SweepResponse, schemas.CapsuleRequest, errors=CAPSULE_ERRORS),
    Endpoint("compare", "POST", "/api/compare", "The CapsNet and the CNN on the same (optionally transformed) "
             "input", schemas.CompareResponse, schemas.CompareRequest, upload=True, errors=INPUT_ERRORS),
    Endpoint("transform_sweep", "POST", "/api/transform-sweep", "One transform parameter swept over up to 41 "
             "values: both models in one batched pass each", schemas.TransformSweepResponse,
             schemas.TransformSweepRequest, upload=True, errors=INPUT_ERRORS, costly=True),
    Endpoint("robustness", "GET", "/api/robustness", "Both models' test accuracy under each transform, "
             "measured by `python -m studies.robustness` on the served checkpoints",
             schemas.RobustnessResponse, cacheable=True, errors=(503,)),
    Endpoint("routing_share", "GET", "/api/routing-share", "How far routing moves the votes towards the true "
             "digits over the whole test set, per iteration, and the accuracy after each (`python -m "
             "studies.routing_share`)", schemas.RoutingShareResponse, cacheable=True, errors=(503,)),
    Endpoint("votes", "POST", "/api/votes", "The votes u_hat_{j|i} for one digit capsule in 2-D at every routing "
             "iteration, the agreement per digit, the evidence and saliency maps", schemas.VotesResponse,
             schemas.VotesRequest, upload=True, errors=(*INPUT_ERRORS, 503), costly=True),
    Endpoint("capsule_math", "POST", "/api/capsule-math", "The numbers behind one primary capsule i and one digit "
             "capsule j: squash, u_hat = W u, every routing iteration, the margin loss",
             schemas.CapsuleMathResponse, schemas.CapsuleMathRequest, upload=True, errors=INPUT_ERRORS),
    Endpoint("dimensions", "GET", "/api/dimensions", "What each of the 16 dimensions does to the reconstruction "
             "and how it correlates with the input, per digit class (`python -m studies.dimensions`)",
             schemas.DimensionsResponse, cacheable=True, errors=(503,)),
    Endpoint("mistakes", "GET", "/api/mistakes", "Every MNIST test digit the CapsNet gets wrong "
             "(`python -m studies.mistakes`)", schemas.MistakesResponse, cacheable=True, errors=(503,)),
    Endpoint("multi_analyze", "POST", "/api/multi/analyze", "MultiMNIST: two overlapping digits on 36x36; "
             "the ten capsules, the two longest, and each of the two redrawn from its own capsule",
             schemas.PairAnalyzeResponse, schemas.PairRequest, upload=True, errors=INPUT_ERRORS),
    Endpoint("multi_reconstruct", "POST", "/api/multi/reconstruct", "MultiMNIST: decode one digit capsule's "
             "16-D vector to 36x36 (the sliders; any digit, present or not)", schemas.PairReconstructResponse,
             schemas.CapsuleRequest, errors=CAPSULE_ERRORS),
    Endpoint("openapi", "GET", "/api/openapi.json", "This document"),
    Endpoint("healthz", "GET", "/healthz", "The process answers"),
    Endpoint("readyz", "GET", "/readyz", "200 once this worker's models are loaded, verified and traced",
             errors=(503,)),
    Endpoint("index", "GET", "/", "The visualisation page", media_type="text/html"),
    Endpoint("api_docs", "GET", "/api/docs", "This document, readable", media_type="text/html"),
)


def register(blueprint: Blueprint, views: dict) -> None:
    """Route every endpoint whose view lives in `views` (a blueprint module's globals()); a
    costly one runs inside the server's gate (app/http/admission.py), so that no more than a few do at once."""
    for endpoint in ENDPOINTS:
        if endpoint.view in views:
            view = views[endpoint.view]
            blueprint.add_url_rule(endpoint.path, endpoint.view, gated(view) if endpoint.costly else view,
                                   methods=[endpoint.method])


def costly_paths() -> list[str]:
    """What deploy/nginx.conf and the Kubernetes ingress rate-limit per client (a test compares)."""
    return [endpoint.path for endpoint in ENDPOINTS if endpoint.costly]
