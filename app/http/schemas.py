"""Request bodies, validated by pydantic: a clear 422 for NaN, wrong shapes or ranges."""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    ValidationInfo,
    create_model,
    model_validator,
)

from datasets.pairs import CANVAS, MAX_SHIFT, compose
from datasets.transforms import TRANSFORMS

Pixel = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.0, le=1.0)]
VectorEntry = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-10.0, le=10.0)]


def _integral_float_as_int(value):
    """JSON Schema's "integer" includes 2.0; strict ints still refuse "2", true and 2.5."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = BeforeValidator(_integral_float_as_int)
Iterations = Annotated[int, Field(strict=True, ge=1, le=10), WholeNumber]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


PixelGrid = Annotated[list[Annotated[list[Pixel], Field(min_length=28, max_length=28)]],
                     Field(min_length=28, max_length=28)]


# A data URL of an image in base64 (RFC 4648: whole 4-character groups, '=' padding only at the end),
# so that an empty or malformed one is refused by the schema, not discovered at run time.
DATA_URL_PATTERN = (r"^data:(image/[A-Za-z0-9_.+-]+)?(;[A-Za-z0-9_=.+-]+)*;base64,"
                    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$")


def one_of_inputs(schema: dict, model: type[ImageRequest]) -> None:
    """The schema says what `one_input` enforces: exactly one of the model's `inputs`."""
    schema["oneOf"] = [{"required": [name]} for name in model.inputs]


class ImageRequest(Strict):
    """Exactly one of `image` (a data URL, preprocessed like MNIST) or `pixels` (used as is);
    in a multipart upload the file field `image` takes their place (see `one_input`)."""

    # The fields that each hold the whole input. A multipart upload's file replaces them all, so its
    # form takes none of them (app/http/openapi.py) and only the request's other fields beside the file.
    inputs: ClassVar[tuple[str, ...]] = ("image", "pixels")
    form_constraints: ClassVar[dict] = {}  # what the upload form's schema must say besides its fields

    # No `null` in the schema: an explicit null is refused like any other wrong type.
    image: str = Field(None, description="data:image/...;base64,... e.g. canvas.toDataURL(): the "
                       "base64 of an image file (PNG, JPEG, GIF, BMP or WebP)", max_length=14_000_000,
                       pattern=DATA_URL_PATTERN)
    pixels: PixelGrid = Field(None, description="28 rows of 28 floats in 0..1, light ink on black, as MNIST")
    routing_iterations: Iterations = Field(None, description="1 to 10; default 3")
    model_config = ConfigDict(extra="forbid", json_schema_extra=one_of_inputs)
    inputs_said: ClassVar[str] = "'image' (a data URL) or 'pixels' (28x28)"

    @model_validator(mode="after")
    def one_input(self, info: ValidationInfo) -> ImageRequest:
        uploaded = bool(info.context and info.context.get("upload"))  # the file: app/http/inputs.py's form_fields
        if not uploaded and sum(getattr(self, name) is not None for name in self.inputs) != 1:
            raise ValueError(f"give exactly one of {self.inputs_said}")
        return self

    def given_pixels(self) -> np.ndarray | None:
        """The input as float32 pixels when the request holds them (not an image to decode)."""
        return None if self.pixels is None else np.asarray(self.pixels, np.float32)


# One field per transform parameter, its range read from datasets/transforms.py's table.
Transform = create_model("Transform", __config__=ConfigDict(extra="forbid"), **{
    name: (float, Field(None, ge=spec.minimum, le=spec.maximum, allow_inf_nan=False, strict=True,
                        description=f"{spec.description} ({spec.unit}; default {spec.default})"))
    for name, spec in TRANSFORMS.items()})
Transform.__doc__ = "Input transforms, applied in the order thickness, scale, shear, rotation, translation."


def transform_values(transform: BaseModel | None) -> dict[str, float]:
    return {} if transform is None else transform.model_dump(exclude_none=True)


class CompareRequest(ImageRequest):
    transform: Transform = Field(None, description="applied to the input before both models see it")


def values_follow_parameter() -> dict:
    """What `values_in_range` enforces, as a schema: the values' range follows `parameter` (in the
    JSON body and in the upload form alike, app/http/openapi.py)."""
    return {"oneOf": [{"properties": {"parameter": {"const": name},
                                      "values": {"items": {"minimum": spec.minimum, "maximum": spec.maximum}}}}
                      for name, spec in TRANSFORMS.items()]}


def _values_in_each_parameters_range(schema: dict, model: type[ImageRequest]) -> None:
    one_of_inputs(schema, model)
    schema["allOf"] = [{"oneOf": schema.pop("oneOf")}, values_follow_parameter()]


class TransformSweepRequest(ImageRequest):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_values_in_each_parameters_range)
    form_constraints: ClassVar[dict] = values_follow_parameter()
    parameter: Literal[tuple(TRANSFORMS)] = Field(description="the transform parameter to sweep")
    values: list[Annotated[float, Field(allow_inf_nan=False, strict=True)]] = Field(
        min_length=1, max_length=41, description="1 to 41 values, each in the parameter's range")
    digit: Annotated[int, Field(strict=True, ge=0, le=9), WholeNumber] = Field(
        None, description="the digit capsule to follow; default: the CapsNet's prediction untransformed")
    transform: Transform = Field(None, description="the other parameters, held fixed")

    @model_validator(mode="after")
    def values_in_range(self) -> TransformSweepRequest:
        spec = TRANSFORMS[self.parameter]
        outside = [v for v in self.values if not spec.minimum <= v <= spec.maximum]
        if outside:
            raise ValueError(f"values: {self.parameter} must be in {spec.minimum}..{spec.maximum} "
                             f"{spec.unit}, got {outside[0]}")
        return self


class CapsuleRequest(Strict):
    digit: Annotated[int, Field(strict=True, ge=0, le=9, description="which digit capsule to decode"),
                     WholeNumber]
    vector: list[VectorEntry] = Field(min_length=16, max_length=16,
                                      description="the capsule's 16 numbers, each in -10..10")


# Responses: documented in the OpenAPI document and checked against real answers in the tests.
# Every array over the primary capsules is in the model's order (docs/api.md#order-of-the-primary-capsules).
CAPSULE_ORDER = "primary capsules in the model's order, i = (row * columns + column) * types + type"
Grid = list[list[float]]
ReceptiveField = Annotated[dict, Field(description="size and stride in input pixels of a primary capsule, its grid")]


class QuantizedArray(BaseModel):
    """A large array: value = min + (max - min) * byte / 255; the prod(shape) bytes, in C order,
    deflated (zlib format, RFC 1950) and base64-encoded."""

    encoding: Literal["uint8"] = Field(description="always 'uint8'")
    compression: Literal["deflate"] = Field(
        description="always 'deflate': zlib.decompress in Python, DecompressionStream('deflate') in a browser")
    shape: list[int]
    min: float
    max: float
    data: str = Field(description="base64 of the deflated prod(shape) uint8 bytes")


class PrimaryCapsPart(BaseModel):
    lengths: list[Grid] = Field(description=f"lengths after squashing, 0..1, shape [6, 6, 32]: the {CAPSULE_ORDER}")
    pre_squash_lengths: list[Grid] = Field(description="lengths |s| before squashing, shape [6, 6, 32]")
    vectors: QuantizedArray = Field(description="shape [6, 6, 32, 8]: the 1152 8-D capsules")


class RoutingIteration(BaseModel):
    coupling: QuantizedArray = Field(description="shape [6, 6, 32, 10] (MultiMNIST: [10, 10, 32, 10]): c_ij of each primary "
                                                 "capsule to each digit capsule; sums to 1 over the last axis")
    lengths: list[float] = Field(description="the 10 digit-capsule lengths after this iteration")


class RoutingPart(BaseModel):
    iterations: list[RoutingIteration]


class DigitCapsPart(BaseModel):
    vectors: list[list[float]] = Field(description="10 x 16")
    lengths: list[float] = Field(description="10 lengths: the class confidences")


class AnalyzeResponse(BaseModel):
    input: Grid = Field(description="28 x 28 in 0..1: what the network saw")
    conv1: QuantizedArray = Field(description="shape [256, 20, 20]: Conv1's ReLU feature maps")
    primary_caps: PrimaryCapsPart
    routing: RoutingPart
    digit_caps: DigitCapsPart
    prediction: int
    reconstruction: Grid = Field(description="28 x 28 in 0..1, decoded from the predicted capsule")


class ReluResponse(BaseModel):
    conv1: QuantizedArray


class PrimaryCapsResponse(BaseModel):
    primary_caps: PrimaryCapsPart


class RoutingResponse(BaseModel):
    routing: RoutingPart


class DigitCapsResponse(BaseModel):
    digit_caps: DigitCapsPart
    prediction: int


class ReconstructionResponse(BaseModel):
    reconstruction: Grid
    prediction: int


class ReconstructResponse(BaseModel):
    reconstruction: Grid


class SweepResponse(BaseModel):
    perturbations: list[float] = Field(description="the 11 offsets added to each dimension")
    images: QuantizedArray = Field(description="shape [16, 11, 28, 28]: row d = dimension d perturbed")


class KernelsResponse(BaseModel):
    kernels: QuantizedArray = Field(description="shape [256, 9, 9]: Conv1's trained kernels")


class ModelResponse(BaseModel):
    name: str
    parameters: int
    routing_iterations: int = Field(description="the default")
    routing_iterations_range: list[int] = Field(description="[min, max] accepted")
    input_shape: list[int]
    sweep_perturbations: list[float] = Field(description="Figure 4's offsets, used by /api/sweep")
    slider_half_range: float = Field(description="how far the page's sliders reach either side of a value")
    transforms: dict[str, dict] = Field(description="each transform parameter: min, max, default, unit")
    layers: list[dict] = Field(description="each layer's geometry, read from the model object")
    margin_loss: dict[str, float] = Field(description="the training loss' constants: m_plus, m_minus, lambda")
    receptive_fields: dict[str, dict[str, int]] = Field(
        description="{size, stride}: the square of `size` pixels from (r * stride, c * stride) that unit (r, c) sees: "
                    "'conv1' and 'primary_caps' on the input, 'primary_caps_on_conv1' on the ReLU maps")
    checkpoint: dict = Field(description="the checkpoint's metadata: test accuracy, epochs, sha256...")


class ModelSummary(BaseModel):
    id: str = Field(description="'capsnet', 'cnn', ...: the name the commands take (--model)")
    name: str
    parameters: int
    input_shape: list[int] = Field(description="[height, width] of the input it takes")
    test_accuracy: float = Field(description="measured at export on MNIST's test set: of the 10,000 images, "
                                             "or for MultiMNIST of 10,000 pairs (both digits right)")
    test_unit: Literal["images", "pairs"]
    test_count: int = Field(description="how many test images or pairs test_accuracy counts")
    sha256: str = Field(description="of the weights file, verified at start-up")


class ModelsResponse(RootModel[list[ModelSummary]]):
    pass


class CapsNetAnswer(BaseModel):
    prediction: int
    lengths: list[float] = Field(description="the 10 digit-capsule lengths")
    vectors: list[list[float]] = Field(description="10 x 16 digit capsules")


class CNNAnswer(BaseModel):
    prediction: int
    probabilities: list[float] = Field(description="softmax over the 10 digits")


class CompareResponse(BaseModel):
    input: Grid = Field(description="28 x 28 in 0..1 after the transform: what both models saw")
    capsnet: CapsNetAnswer
    cnn: CNNAnswer


class SweepStep(BaseModel):
    input: Grid
    capsnet_lengths: list[float]
    capsule: list[float] = Field(description="the 16-D vector of digit capsule `digit`")
    cnn_probabilities: list[float]


class TransformSweepResponse(BaseModel):
    parameter: str
    values: list[float]
    digit: int
    steps: list[SweepStep]


class RobustnessSweep(BaseModel):
    values: list[float]
    capsnet: list[float] = Field(description="test accuracy at each value")
    cnn: list[float]


class RobustnessResponse(BaseModel):
    models: dict[str, dict] = Field(description="sha256 (and test accuracy) of the checkpoints measured")
    images: int
    transforms: dict[str, RobustnessSweep] = Field(description="rotation, scale, shear, thickness")
    affnist_like: dict = Field(description="capsnet and cnn accuracy on the affNIST-like set, and how it is made")
    command: str


class RoutingShareModel(BaseModel):
    examples: int = Field(description="test examples measured (digits, or pairs for the two-digit network)")
    true_digits: int = Field(description="digits present in each example")
    uniform: float = Field(description="the share of the votes to the true digits before routing moves them")
    share_to_true: list[float] = Field(description="after each iteration: the share of the votes (each primary "
                                                   "capsule weighted by its length) coupled to the true digits")
    mean_shift: list[float] = Field(description="after each iteration: how far that share moved from the even split")
    accuracy: list[float] = Field(description="test accuracy when routing stops after each iteration")


class RoutingShareResponse(BaseModel):
    models: dict[str, dict] = Field(description="sha256 (and test accuracy) of the checkpoints measured")
    routing_iterations: int
    by_model: dict[str, RoutingShareModel]
    command: str
    seconds: float


class VotesRequest(ImageRequest):
    digit: Annotated[int, Field(strict=True, ge=0, le=9), WholeNumber] = Field(
        description="the digit capsule j whose votes u_hat_{j|i} are shown")


class CapsuleMathRequest(ImageRequest):
    capsule: Annotated[int, Field(strict=True, ge=0, le=1151), WholeNumber] = Field(
        description="primary capsule i, in the model's order: (row * 6 + col) * 32 + type")
    digit: Annotated[int, Field(strict=True, ge=0, le=9), WholeNumber] = Field(description="digit capsule j")


class MathIteration(BaseModel):
    b: list[float] = Field(description="b_ij for the 10 digit capsules, before this iteration's softmax")
    c: list[float] = Field(description="c_ij = softmax_j(b_ij)")
    s_j: list[float] = Field(description="s_j = sum_i c_ij u_hat_{j|i} (16)")
    s_j_length: float
    v_j: list[float] = Field(description="v_j = squash(s_j) (16)")
    v_j_length: float
    agreement: float = Field(description="u_hat_{j|i} . v_j, added to b_ij for the next iteration")


class CapsuleMathResponse(BaseModel):
    capsule: int
    digit: int
    s_i: list[float] = Field(description="primary capsule i before squashing (8)")
    s_i_length: float
    u_i: list[float] = Field(description="u_i = squash(s_i) (8)")
    u_i_length: float
    W_ij: list[list[float]] = Field(description="8 x 16 transformation matrix")
    u_hat: list[float] = Field(description="u_hat_{j|i} = W_ij u_i (16)")
    u_hat_length: float
    iterations: list[MathIteration]
    margin_loss: dict = Field(description="per digit: T_k max(0, m+ - |v_k|)^2 + lambda (1 - T_k) max(0, |v_k| - m-)^2, "
                                          "with the current answer as the label")


class VotesResponse(BaseModel):
    digit: int
    points: list[list[float]] = Field(description="1152 x 2: each primary capsule's vote u_hat_{j|i} on "
                                                  f"digit j's two principal axes, {CAPSULE_ORDER}")
    coupling: list[list[float]] = Field(description="iterations x 1152: c_ij used in each iteration")
    primary_lengths: list[float] = Field(description="1152 lengths |u_i| of the primary capsules")
    digit_caps: list[list[float]] = Field(description="iterations x 2: v_j after each iteration, projected")
    agreement: list[list[float]] = Field(description="iterations x 10: per digit, the mean cosine between "
                                                     "votes and v_j weighted by c_ij |u_hat_{j|i}|")
    lengths: list[list[float]] = Field(description="iterations x 10: |v_j| after each iteration")
    evidence: Grid = Field(description="28 x 28: sum over the primary capsules whose receptive field covers "
                                       "the pixel of c_ij times the component of u_hat_{j|i} along v_j")
    saliency: Grid = Field(description="28 x 28: gradient of |v_j| with respect to each input pixel, "
                                       "through every routing iteration")
    projection: dict = Field(description="how the 2-D axes were made: PCA over `images` test digits, "
                                         "and the share of the votes' variance each axis keeps")
    receptive_field: ReceptiveField


class DimensionsResponse(BaseModel):
    models: dict[str, dict] = Field(description="sha256 (and test accuracy) of the CapsNet measured")
    perturbation: float
    threshold: float = Field(description="|r| a dimension needs to be labelled with a property")
    properties: dict[str, str] = Field(description="each measured property and how")
    method: str
    command: str
    classes: dict[str, dict] = Field(description="per digit class: 16 entries with effects, correlations, label")


class Mistake(BaseModel):
    index: int = Field(description="position in the MNIST test set")
    label: int = Field(description="the true digit")
    prediction: int = Field(description="the CapsNet's answer")
    lengths: list[float] = Field(description="the ten digit-capsule lengths")
    image: str = Field(description="URL of the 28x28 PNG")


class MistakesResponse(RootModel[list[Mistake]]):
    pass


class ErrorResponse(BaseModel):
    error: str


# MultiMNIST (model/multimnist.py): two digits on a 36x36 canvas.
CanvasGrid = Annotated[list[Annotated[list[Pixel], Field(min_length=CANVAS, max_length=CANVAS)]],
                       Field(min_length=CANVAS, max_length=CANVAS)]
Shift = Annotated[int, Field(strict=True, ge=-MAX_SHIFT, le=MAX_SHIFT), WholeNumber]


class PlacedDigit(Strict):
    pixels: PixelGrid = Field(description="28 rows of 28 floats in 0..1, one MNIST-like digit")
    dx: Shift = Field(0, description=f"columns right of the centre, -{MAX_SHIFT}..{MAX_SHIFT}")
    dy: Shift = Field(0, description=f"rows down from the centre, -{MAX_SHIFT}..{MAX_SHIFT}")



class PairRequest(ImageRequest):
    """Exactly one of `image` (a data URL, fitted into 36x36 like a pair), `pixels` (36x36, as
    is) or `compose` (two 28x28 digits placed and combined by maximum, as the pairs are made)."""

    pixels: CanvasGrid = Field(None, description=f"{CANVAS} rows of {CANVAS} floats in 0..1, light ink on black")
    compose: list[PlacedDigit] = Field(None, min_length=2, max_length=2, description=(
        f"two digits, each placed at offset ({MAX_SHIFT} + dy, {MAX_SHIFT} + dx) in the {CANVAS}x{CANVAS} "
        "canvas, combined by the pixel-wise maximum"))
    inputs: ClassVar[tuple[str, ...]] = ("image", "pixels", "compose")
    inputs_said: ClassVar[str] = f"'image' (a data URL), 'pixels' ({CANVAS}x{CANVAS}) or 'compose' (two placed digits)"

    def given_pixels(self) -> np.ndarray | None:
        if self.compose is None:
            return super().given_pixels()
        return compose(np.array([digit.pixels for digit in self.compose], np.float32),
                       np.array([[digit.dy, digit.dx] for digit in self.compose]))


class PairReconstructions(BaseModel):
    a: Grid = Field(description="36 x 36 in 0..1: digit top2[0] redrawn from its own capsule")
    b: Grid = Field(description="36 x 36 in 0..1: digit top2[1] redrawn from its own capsule")


class PairRoutingShares(BaseModel):
    overall: list[float] = Field(description="10: each digit's share of all votes, each primary capsule weighted "
                                             "by its length: sum_i |u_i| c_ij / sum_i |u_i|; 1/10 each before routing")
    a: Grid = Field(description="10 x 10: digit top2[0]'s share of the votes of the capsules at each position "
                                "of the primary-capsule grid, weighted the same way")
    b: Grid = Field(description="10 x 10: the same for digit top2[1]")


class PairRoutingSharesPart(BaseModel):
    iterations: list[PairRoutingShares]
    receptive_field: ReceptiveField


class PairAnalyzeResponse(BaseModel):
    input: Grid = Field(description="36 x 36 in 0..1: what the network saw")
    lengths: list[float] = Field(description="the 10 digit-capsule lengths")
    top2: list[int] = Field(min_length=2, max_length=2, description="the two longest capsules, longest first")
    digit_caps: list[list[float]] = Field(description="10 x 16")
    reconstructions: PairReconstructions
    routing: RoutingPart
    routing_shares: PairRoutingSharesPart


class PairReconstructResponse(BaseModel):
    reconstruction: Grid = Field(description="36 x 36 in 0..1")
