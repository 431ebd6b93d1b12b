"""Request bodies, validated by pydantic: a clear 422 for NaN, wrong shapes or ranges."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Pixel = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.0, le=1.0)]
VectorEntry = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-10.0, le=10.0)]


def _integral_float_as_int(value):
    """JSON Schema's "integer" includes 2.0; strict ints still refuse "2", true and 2.5."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = BeforeValidator(_integral_float_as_int)
Iterations = Annotated[int, Field(strict=True, ge=1, le=10), WholeNumber]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImageRequest(Strict):
    """Exactly one of `image` (a data URL, preprocessed like MNIST) or `pixels` (used as is)."""

    image: Optional[str] = Field(None, description="data:image/...;base64,... e.g. canvas.toDataURL()",
                                 max_length=14_000_000)
    pixels: Optional[list[Annotated[list[Pixel], Field(min_length=28, max_length=28)]]] = Field(
        None, min_length=28, max_length=28,
        description="28 rows of 28 floats in 0..1, light ink on black, as MNIST")
    routing_iterations: Optional[Iterations] = Field(None, description="1 to 10; default 3")

    @model_validator(mode="after")
    def one_input(self) -> "ImageRequest":
        if (self.image is None) == (self.pixels is None):
            raise ValueError("give exactly one of 'image' (a data URL) or 'pixels' (28x28)")
        return self


class CapsuleRequest(Strict):
    digit: Annotated[int, Field(strict=True, ge=0, le=9, description="which digit capsule to decode"),
                     WholeNumber]
    vector: list[VectorEntry] = Field(min_length=16, max_length=16,
                                      description="the capsule's 16 numbers, each in -10..10")


# Responses: documented in the OpenAPI document and checked against real answers in the tests.
Grid = list[list[float]]


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
    lengths: list[Grid] = Field(description="32 capsule types x 6 x 6 lengths after squashing, 0..1")
    vectors: QuantizedArray = Field(description="shape [32, 6, 6, 8]: the 1152 8-D capsules")


class RoutingIteration(BaseModel):
    coupling: QuantizedArray = Field(description="shape [32, 6, 6, 10]: c_ij of each primary capsule "
                                                 "(type, row, col) to each digit capsule; sums to 1 over the last axis")
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
    routing_iterations: int
    layers: list[dict]
    checkpoint: dict = Field(description="the checkpoint's metadata: test accuracy, epochs, sha256...")


class ErrorResponse(BaseModel):
    error: str
