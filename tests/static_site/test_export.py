"""The export (static_site/export.py) and the build's refusals, without a browser: the weights'
compression against hand-made graphs, the stale checks, and the exports made from the committed
checkpoints against Keras (the manifest's measured agreement)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from static_site import build, export


def matmul_graph(weights: dict[str, np.ndarray], product: tuple[str, ...]) -> onnx.ModelProto:
    """x (1, n) times each named weight in turn: x @ W1 @ W2 ..."""
    nodes, source = [], "x"
    for k, name in enumerate(product):
        nodes.append(helper.make_node("MatMul", [source, name], [f"h{k}"]))
        source = f"h{k}"
    n = weights[product[0]].shape[0]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n])],
                              [helper.make_tensor_value_info(source, TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(w, name) for name, w in weights.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", export.OPSET)])


def run(proto, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_int8_keeps_a_scale_per_kept_axis():
    """Columns of very different magnitudes: a scale per column keeps each within 1/254 of its
    largest value; one scale for the whole matrix would flatten the small ones to zero."""
    rng = np.random.default_rng(0)
    w = (rng.normal(0, 1, (64, 32)) * np.logspace(-3, 0, 32)).astype(np.float32)
    x = np.eye(64, dtype=np.float32)[:1]
    proto = export.compress(matmul_graph({"w": w}, ("w",)), {2: ("int8", (1,))}, min_size=100)
    kinds = {i.name: i.data_type for i in proto.graph.initializer}
    assert kinds["w__q"] == TensorProto.INT8 and kinds["w__max"] == TensorProto.FLOAT16 and "w" not in kinds
    restored = run(proto, np.eye(64, dtype=np.float32))
    error = np.abs(restored - w).max(axis=0) / np.abs(w).max(axis=0)
    assert error.max() <= 0.5 / 127 + 1e-3  # half a step of each column's own scale (its float16 rounding aside)
    assert np.abs(run(proto, x) - x @ w).max() <= np.abs(w).max() / 127


def test_float16_and_small_weights():
    rng = np.random.default_rng(1)
    big, small = rng.normal(0, 1, (40, 40)).astype(np.float32), rng.normal(0, 1, (40, 3)).astype(np.float32)
    proto = export.compress(matmul_graph({"big": big, "small": small}, ("big", "small")), {2: "float16"}, min_size=1000)
    kinds = {i.name: i.data_type for i in proto.graph.initializer}
    assert kinds == {"big__f16": TensorProto.FLOAT16, "small": TensorProto.FLOAT}  # 120 values stay as they are
    x = rng.normal(0, 1, (1, 40)).astype(np.float32)
    np.testing.assert_allclose(run(proto, x), x @ big.astype(np.float16).astype(np.float32) @ small, rtol=1e-5, atol=1e-5)


def test_a_transposed_copy_becomes_a_transpose_of_the_one_weight():
    rng = np.random.default_rng(2)
    w = rng.normal(0, 1, (30, 20)).astype(np.float32)
    proto = export.shared_transposes(matmul_graph({"w": w, "w_t": np.ascontiguousarray(w.T)}, ("w", "w_t")), min_size=100)
    (kept,) = [i.name for i in proto.graph.initializer]  # one of the two, the other its transpose
    transpose = proto.graph.node[0]
    assert transpose.op_type == "Transpose" and list(transpose.attribute[0].ints) == [1, 0]
    assert list(transpose.input) == [kept] and set(transpose.output) == {"w", "w_t"} - {kept}
    x = rng.normal(0, 1, (1, 30)).astype(np.float32)
    np.testing.assert_allclose(run(proto, x), x @ w @ w.T, rtol=1e-5)


def test_graphs_of_one_model_share_one_weights_file(tmp_path):
    """Two graphs holding the same large weight: the file holds it once, both graphs read it
    from there and compute what they computed with it inside."""
    rng = np.random.default_rng(3)
    shared, own = rng.normal(0, 1, (64, 64)).astype(np.float32), rng.normal(0, 1, (64, 64)).astype(np.float32)
    first, second = matmul_graph({"a": shared}, ("a",)), matmul_graph({"b": shared, "c": own}, ("b", "c"))
    x = rng.normal(0, 1, (1, 64)).astype(np.float32)
    expected = [run(first, x), run(second, x)]
    blob = export.externalise([first, second], "model.bin", min_bytes=1000)
    assert len(blob) == 2 * shared.nbytes  # `shared` once, `own` once, each aligned to 64 bytes
    assert all(t.data_location == TensorProto.EXTERNAL and not t.raw_data
               for graph in (first, second) for t in graph.graph.initializer)
    (tmp_path / "model.bin").write_bytes(blob)
    for k, graph in enumerate((first, second)):
        path = tmp_path / f"graph{k}.onnx"
        path.write_bytes(graph.SerializeToString())
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        np.testing.assert_array_equal(session.run(None, {"x": x})[0], expected[k])


def test_the_export_code_is_recorded(monkeypatch):
    before = export.exporter_sha256()
    monkeypatch.setitem(export.WEIGHTS, "cnn", {4: ("int8", (0,)), 2: "float16"})
    assert export.exporter_sha256() != before


@pytest.fixture()
def exports_copy(static_site, tmp_path):
    """exports/ as the tests' build used it (current), copied to be damaged."""
    copy = tmp_path / "exports"
    shutil.copytree(export.EXPORTS, copy)
    return copy


def test_stale_exports_are_refused_with_the_reason(exports_copy, tmp_path):
    manifest_path = exports_copy / "manifest.json"
    assert export.stale(manifest_path) == []
    manifest = json.loads(manifest_path.read_text())
    manifest["networks"]["cnn"]["checkpoint_sha256"] = "0" * 64
    manifest["networks"]["capsnet-decoder"]["exporter_sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    (exports_copy / "multimnist.onnx").write_bytes(b"damaged")
    (exports_copy / "capsnet-agreement.onnx").unlink()
    (exports_copy / "cnn.bin").write_bytes(b"damaged")
    problems = export.stale(manifest_path)
    assert problems == ["capsnet-decoder: made by another version of static_site/export.py",
                        "capsnet-agreement: not exported", "cnn: made from other cnn weights",
                        "multimnist: the file does not match the manifest",
                        "cnn.bin: missing, or not the file the manifest names"]
    with pytest.raises(build.BuildError, match=r"cnn: made from other cnn weights.*python -m static_site\.export"):
        build.build(tmp_path / "site", exports_copy)
    assert not (tmp_path / "site").exists()


def test_the_exports_agree_with_keras(static_site):
    """As the export measured them on the tests' MNIST digits (and pairs of them)."""
    recorded = json.loads((export.EXPORTS / "manifest.json").read_text())["networks"]
    for name in ("capsnet", "cnn"):
        agreement = recorded[name]["agreement_with_keras"]
        assert agreement["same_predictions"] == agreement["images"], name
        assert agreement["max_abs_difference"] <= 2e-3, name
    pairs = recorded["multimnist"]["agreement_with_keras"]
    assert pairs["same_predictions"] >= 0.99 * pairs["images"] and pairs["max_abs_difference"] <= 1e-2
    for name in ("capsnet-decoder", "multimnist-decoder"):
        assert recorded[name]["agreement_with_keras"]["max_abs_difference"] <= 2 / 255, name
    saliency = recorded["capsnet-agreement"]["agreement_with_keras"]
    assert saliency["min_cosine"] >= 0.999 and saliency["transform_row_max_abs_difference"] <= 1e-3
