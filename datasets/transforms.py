"""Input transforms for the article's claims: one module for the API, the robustness command
and the tests.

On 28x28 images in 0..1, in this order: thickness (grey-scale dilation or erosion), then
scale, shear and rotation about the digit's centre of mass, then translation; geometric
steps sample with bilinear interpolation (zero outside the image). `TRANSFORMS` is the one
table of names and ranges that the request schemas, `/api/model` and the page read.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TransformRange:
    minimum: float
    maximum: float
    default: float
    unit: str
    description: str

    def as_json(self) -> dict:
        return {"min": self.minimum, "max": self.maximum, "default": self.default,
                "unit": self.unit, "description": self.description}


TRANSFORMS: dict[str, TransformRange] = {
    "rotation": TransformRange(-180, 180, 0, "degrees", "counter-clockwise about the centre of mass"),
    "scale_x": TransformRange(0.5, 2, 1, "factor", "horizontal stretch about the centre of mass"),
    "scale_y": TransformRange(0.5, 2, 1, "factor", "vertical stretch about the centre of mass"),
    "shear": TransformRange(-0.5, 0.5, 0, "x per y", "slant: positive moves the top to the right"),
    "dx": TransformRange(-10, 10, 0, "pixels", "shift to the right"),
    "dy": TransformRange(-10, 10, 0, "pixels", "shift down"),
    "thickness": TransformRange(-2, 2, 0, "pixels", "grey-scale dilation (thicker) or erosion (thinner), "
                                                   "fractional steps interpolated"),
}
IDENTITY = {name: spec.default for name, spec in TRANSFORMS.items()}


def check_transform(transform: dict[str, float]) -> dict[str, float]:
    """Every parameter with its default filled in; ValueError naming a bad field and its range."""
    for name, value in transform.items():
        if name not in TRANSFORMS:
            raise ValueError(f"unknown transform {name!r}: choose from {', '.join(TRANSFORMS)}.")
        spec = TRANSFORMS[name]
        if not (np.isfinite(value) and spec.minimum <= value <= spec.maximum):
            raise ValueError(f"{name} must be in {spec.minimum}..{spec.maximum} {spec.unit}, got {value}.")
    return {**IDENTITY, **transform}


# ---------------------------------------------------------------- thickness

def _neighbourhood(images: np.ndarray, reduce) -> np.ndarray:
    """One step of grey-scale dilation (np.maximum) or erosion (np.minimum) with the
    4-neighbour cross: a stroke grows or shrinks by about one pixel on each side."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))  # outside is background, for erosion too
    centre = padded[:, 1:-1, 1:-1]
    result = reduce(centre, padded[:, :-2, 1:-1])
    for shifted in (padded[:, 2:, 1:-1], padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]):
        result = reduce(result, shifted)
    return result


def change_thickness(images: np.ndarray, amount: float) -> np.ndarray:
    """(n, h, w) -> same: |amount| steps of dilation (amount > 0) or erosion (< 0); a
    fractional step blends the two nearest whole steps, so the slider acts continuously."""
    if amount == 0:
        return images
    reduce = np.maximum if amount > 0 else np.minimum
    whole, fraction = divmod(abs(amount), 1.0)
    current = images
    for _ in range(int(whole)):
        current = _neighbourhood(current, reduce)
    if fraction:
        current = (1 - fraction) * current + fraction * _neighbourhood(current, reduce)
    return current


# ---------------------------------------------------------------- geometry

def centre_of_mass(images: np.ndarray) -> np.ndarray:
    """(n, h, w) -> (n, 2) as (x, y) in pixel coordinates; the image centre when empty."""
    _, height, width = images.shape
    mass = images.sum(axis=(1, 2))
    ys, xs = np.arange(height), np.arange(width)
    safe = np.where(mass > 0, mass, 1.0)
    x = (images.sum(axis=1) * xs).sum(axis=1) / safe
    y = (images.sum(axis=2) * ys).sum(axis=1) / safe
    empty = mass <= 0
    x[empty], y[empty] = (width - 1) / 2, (height - 1) / 2
    return np.stack([x, y], axis=1)


def linear_part(rotation: np.ndarray, scale_x: np.ndarray, scale_y: np.ndarray,
                shear: np.ndarray) -> np.ndarray:
    """(n,) parameters -> (n, 2, 2) matrices R @ Sh @ S acting on (x, y) with y pointing down."""
    theta = np.deg2rad(rotation)
    cos, sin = np.cos(theta), np.sin(theta)
    rotate = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)  # counter-clockwise on screen
    ones, zeros = np.ones_like(shear), np.zeros_like(shear)
    slant = np.stack([np.stack([ones, -shear], -1), np.stack([zeros, ones], -1)], -2)  # top moves right
    stretch = np.stack([np.stack([scale_x, zeros], -1), np.stack([zeros, scale_y], -1)], -2)
    return rotate @ slant @ stretch


def warp(images: np.ndarray, matrices: np.ndarray, centres: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """out(p) = in(c + M^-1 (p - c - t)) with bilinear interpolation, zero outside.
    images (n, h, w), matrices (n, 2, 2), centres and shifts (n, 2) as (x, y)."""
    n, height, width = images.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    target = np.stack([xs.ravel(), ys.ravel()])  # (2, h*w)
    inverse = np.linalg.inv(matrices)  # (n, 2, 2)
    source = inverse @ (target[None] - (centres + shifts)[:, :, None]) + centres[:, :, None]
    sx, sy = source[:, 0], source[:, 1]  # (n, h*w)
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    fx, fy = sx - x0, sy - y0
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))  # one ring of zeros; far samples clip into it

    def at(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        inside = (x >= -1) & (x <= width) & (y >= -1) & (y <= height)
        xi, yi = np.clip(x + 1, 0, width + 1), np.clip(y + 1, 0, height + 1)
        return np.where(inside, padded[np.arange(n)[:, None], yi, xi], 0.0)

    out = ((1 - fx) * (1 - fy) * at(x0, y0) + fx * (1 - fy) * at(x0 + 1, y0)
           + (1 - fx) * fy * at(x0, y0 + 1) + fx * fy * at(x0 + 1, y0 + 1))
    return out.reshape(n, height, width)


def apply_transform(images: np.ndarray, transform: dict[str, float] | None = None) -> np.ndarray:
    """One set of parameters applied to every image: (h, w) or (n, h, w) in 0..1 -> float32 same shape."""
    t = check_transform(transform or {})
    single = np.ndim(images) == 2
    batch = np.asarray(images, np.float64)[None] if single else np.asarray(images, np.float64)
    n = len(batch)
    result = transform_each(batch, {name: np.full(n, value, np.float64) for name, value in t.items()})
    return result[0] if single else result


def transform_each(images: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """Per-image parameters, each (n,) (the affNIST-like set): (n, h, w) -> float32 (n, h, w).
    Thickness must be the same for the whole batch (a morphological step per value)."""
    images = np.asarray(images, np.float64)
    thickness = np.unique(params.get("thickness", [0.0]))
    if len(thickness) != 1:
        raise ValueError("thickness must be the same for every image of a batch.")
    images = change_thickness(images, float(thickness[0]))
    n = len(images)
    get = lambda name: np.broadcast_to(np.asarray(params.get(name, IDENTITY[name]), np.float64), (n,))
    geometric = ("rotation", "scale_x", "scale_y", "shear", "dx", "dy")
    if all(np.all(get(name) == IDENTITY[name]) for name in geometric):
        return np.clip(images, 0, 1).astype(np.float32)
    matrices = linear_part(get("rotation"), get("scale_x"), get("scale_y"), get("shear"))
    shifts = np.stack([get("dx"), get("dy")], axis=1)
    warped = warp(images, matrices, centre_of_mass(images), shifts)
    return np.clip(warped, 0, 1).astype(np.float32)
