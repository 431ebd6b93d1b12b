"""Calling the static edition's in-page engine (web/engines/browser/engine.js) from a test, and
comparing its answers with the Flask API's, leaf by leaf."""
from __future__ import annotations

import numpy as np

from app.http.encoding import dequantize

ENGINE = "static/engines/browser/engine.js"

# Runs a function of the in-page engine and hands its answer back with every typed array as a list.
ENGINE_CALL = """async ([module, name, args]) => {
  const engine = await import(new URL(module, document.baseURI).href);
  const plain = (v) => (ArrayBuffer.isView(v) ? Array.from(v)
    : Array.isArray(v) ? v.map(plain)
      : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v);
  return plain(await engine[name](...args));
}"""


def engine(page, name: str, *args):
    return page.evaluate(ENGINE_CALL, [ENGINE, name, list(args)])


def quantised(value) -> bool:
    return isinstance(value, dict) and {"data", "min", "max", "shape"} <= value.keys()


def inflate(array: dict) -> np.ndarray:
    """A quantised array as the server sends it (its bytes zlib'd in base64) or as the in-page
    engine hands it to the page (its bytes already a list)."""
    if isinstance(array["data"], str):
        return dequantize(array)
    data = np.asarray(array["data"], np.float32)
    return (array["min"] + (array["max"] - array["min"]) * data / 255.0).reshape(array["shape"])


def differences(mine, theirs, path: str = "") -> dict[str, float]:
    """Every numeric leaf of the two answers, as {path: the largest difference relative to the
    served array's largest magnitude}; a missing key, another shape or another integer (a
    prediction, a digit) raises AssertionError naming the path."""
    if quantised(theirs):
        mine = inflate(mine) if quantised(mine) else np.asarray(mine, np.float64)
        return differences(mine.tolist(), inflate(theirs).tolist(), path)
    if isinstance(theirs, dict):
        assert isinstance(mine, dict) and mine.keys() == theirs.keys(), (path, sorted(mine), sorted(theirs))
        out = {}
        for key in theirs:
            out.update(differences(mine[key], theirs[key], f"{path}.{key}"))
        return out
    if isinstance(theirs, (bool, str, int)) or theirs is None:  # a prediction, a digit, a name: the same
        assert mine == theirs, (path, mine, theirs)
        return {}
    try:
        b = np.asarray(theirs, np.float64)
    except (TypeError, ValueError):  # a list of answers (steps, iterations): each compared
        assert isinstance(mine, list) and len(mine) == len(theirs), (path, len(mine), len(theirs))
        out = {}
        for k, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            out.update(differences(a, b, f"{path}[{k}]"))
        return out
    a = np.asarray(mine, np.float64)
    assert a.shape == b.shape, (path, a.shape, b.shape)
    scale = max(float(np.abs(b).max()) if b.size else 0.0, 1e-6)
    return {path: float(np.abs(a - b).max() / scale) if b.size else 0.0}
