"""The networks for the browser: `python -m static_site.export` writes them as ONNX to exports/.

Each network of the registry that the page runs becomes one or two graphs (NETWORKS), converted
by tf2onnx from a tf.function around the model's own `call`, so that the browser runs exactly
what the server runs. The contract, for anyone who wants the files, is in docs/static-edition.md.

- `<model>.onnx`, the stages: input `images` (N, H, W, 1) float32 in 0..1; every stage the page
  shows as an output, routing run for 10 iterations (routing with k iterations is the first k
  of them: one graph serves every iteration count) and `lengths` (N, 10) at the model's 3.
- `<model>-decoder.onnx`: `vectors` (N, 16) and `digits` (N,) int32 -> `images` (N, H, W).
- `cnn.onnx`: `images` -> `probabilities` (N, 10).

- `capsnet-agreement.onnx`: `image` (1, H, W, 1), `digit`, `iterations`, `capsule` -> `saliency`
  (the gradient of |v_digit| after `iterations` through every routing iteration) and
  `transform_row` (W_i, 8 x 160, for the math panel). A graph of its own: ONNX Runtime runs every
  node of a graph whatever is fetched, so the analyses' graph carries no gradient.

Large weights travel compressed (WEIGHTS: int8 with a float16 scale per small block, or float16);
ONNX Runtime folds them back to float32 constants when it loads the graph, so inference itself is
float32. They live outside the graphs, in one file per model (`<model>.bin`, ONNX's external
data), each tensor once: the CapsNet's stages and gradient graphs share its weights.
exports/manifest.json records, per file, the sha256 of the checkpoint it was made from and of
the export code (the site builder refuses a stale export), its own sha256 and size, and how far
it agrees with Keras on the tests' 2,000 MNIST digits.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from datasets.pairs import evaluation_pairs, overlay
from model.checkpoint import read_metadata
from model.multimnist import longest
from model.registry import PROJECT_ROOT, card
from model.spec import IMAGE_SHAPE, NUM_CLASSES, ROUTING_ITERATIONS, ROUTING_ITERATIONS_RANGE

EXPORTS = PROJECT_ROOT / "exports"
OPSET = 17
WEIGHT_MIN_SIZE = 100_000  # only the large weights travel compressed; constants and small kernels as they are
EXTERNAL_MIN_BYTES = 1 << 16  # tensors this large go to the model's weights file, the rest stay in the graph
SAMPLE = PROJECT_ROOT / "tests" / "data" / "mnist_test_2000.npz"
MAX_ROUTING = ROUTING_ITERATIONS_RANGE[1]
STAGES = ("conv1", "primary_caps_pre_squash", "primary_caps", "primary_caps_lengths", "prediction_vectors",
          "routing_logits", "routing_coupling", "routing_digit_caps", "routing_lengths")


@dataclass(frozen=True)
class Network:
    name: str  # the file: exports/<name>.onnx
    model_id: str  # in model/registry.py
    kind: str  # "stages", "decoder" or "classifier": which tf.function below wraps the model
    outputs: tuple[str, ...] = field(default=())

    @property
    def path(self) -> Path:
        return EXPORTS / f"{self.name}.onnx"

    @property
    def weights(self) -> str:
        """The weights file it shares with the other graphs of its model."""
        return f"{self.model_id}.bin"


NETWORKS = (
    Network("capsnet", "capsnet", "stages", (*STAGES, "lengths")),
    Network("capsnet-decoder", "capsnet", "decoder", ("images",)),
    Network("capsnet-agreement", "capsnet", "agreement", ("saliency", "transform_row")),
    Network("cnn", "cnn", "classifier", ("probabilities",)),
    Network("multimnist", "multimnist", "stages", (*STAGES, "lengths")),
    Network("multimnist-decoder", "multimnist", "decoder", ("images",)),
)
MODELS = tuple(dict.fromkeys(network.model_id for network in NETWORKS))  # each with one weights file

# How each kind of weight travels, by its rank: convolution kernels (O, I, kH, kW), the capsule
# transforms W (capsules, 8, 160), dense kernels (inputs, units). ("int8", kept) keeps a scale
# for every index of the `kept` axes. Chosen by measurement (docs/static-edition.md): PrimaryCaps'
# kernel in 8 bits with a scale per kernel row keeps the CapsNet's lengths within 1e-3 of Keras;
# its W and the decoders need float16 (8 bits moved lengths by 5e-3 and pixels by 0.08), and so
# does the CNN (8 bits moved a rotated digit's probabilities by 1%); the two-digit network,
# whose answer is its two longest capsules, keeps them in 8 bits.
WEIGHTS = {
    "capsnet": {4: ("int8", (0, 1, 2)), 3: "float16"},
    "capsnet-decoder": {2: "float16"},
    "capsnet-agreement": {4: ("int8", (0, 1, 2)), 3: "float16"},  # as "capsnet": the two share these weights
    "cnn": {4: "float16", 2: "float16"},
    "multimnist": {4: ("int8", (0, 1)), 3: ("int8", (0, 2))},
    "multimnist-decoder": {2: "float16"},
}
# What WEIGHTS means for a reader of the page (its footer, static_site/build.py).
PRECISION = ("the networks' larger weights are stored as 16-bit floats (the two-digit network's as 8-bit integers, "
             "and the CapsNet's PrimaryCaps kernel too), so the numbers shown can differ from the server's from the "
             "third or fourth decimal place")


def stages(model):
    """images -> every stage the page draws, routing for MAX_ROUTING iterations."""
    import tensorflow as tf
    shape = model.image_shape

    @tf.function(input_signature=[tf.TensorSpec([None, *shape], tf.float32, name="images")])
    def forward(images):
        out = model(images, routing_iterations=MAX_ROUTING)
        named = {key: tf.identity(out[key], name=key) for key in STAGES}
        # the model's own answer, at its default number of iterations
        named["lengths"] = tf.identity(out["routing_lengths"][:, ROUTING_ITERATIONS - 1], name="lengths")
        return named
    return forward


def decoder(model):
    """One capsule's 16 numbers and its digit -> the decoder's image (the other capsules masked)."""
    import tensorflow as tf
    dim = model.digit_caps.capsule_dim
    height, width = model.image_shape[:2]

    @tf.function(input_signature=[tf.TensorSpec([None, dim], tf.float32, name="vectors"),
                                  tf.TensorSpec([None], tf.int32, name="digits")])
    def decode(vectors, digits):
        capsules = tf.one_hot(digits, NUM_CLASSES)[:, :, None] * vectors[:, None, :]
        images = model.decode(capsules, digits)
        return {"images": tf.identity(tf.reshape(images, (-1, height, width)), name="images")}
    return decode


def agreement(model):
    """The saliency (the gradient of one capsule's length through every routing iteration) and
    one primary capsule's transform W_i. The image has a static batch of one: tf2onnx converts
    the gradient of a convolution only with static shapes (and the ops in gradient_ops.py)."""
    import tensorflow as tf

    from static_site import gradient_ops  # noqa: F401 - registers the conversions
    shape = model.image_shape

    @tf.function(input_signature=[tf.TensorSpec([1, *shape], tf.float32, name="image"),
                                  tf.TensorSpec([], tf.int32, name="digit"),
                                  tf.TensorSpec([], tf.int32, name="iterations"),
                                  tf.TensorSpec([], tf.int32, name="capsule")])
    def saliency(image, digit, iterations, capsule):
        with tf.GradientTape() as tape:
            tape.watch(image)
            lengths = model(image, routing_iterations=MAX_ROUTING, detach_routing=False)["routing_lengths"]
            # |v_digit| after `iterations`: a one-hot product, not an index (its gradient converts)
            chosen = tf.reduce_sum(lengths * tf.one_hot(iterations - 1, MAX_ROUTING)[None, :, None]
                                   * tf.one_hot(digit, NUM_CLASSES)[None, None, :])
        gradient = tf.reshape(tape.gradient(chosen, image), shape[:2])
        row = tf.gather(model.digit_caps.transform, capsule)
        return {"saliency": tf.identity(gradient, name="saliency"), "transform_row": tf.identity(row, name="transform_row")}
    return saliency


def classifier(model):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, *IMAGE_SHAPE], tf.float32, name="images")])
    def classify(images):
        return {"probabilities": tf.identity(model(images)["probabilities"], name="probabilities")}
    return classify


KINDS: dict[str, Callable] = {"stages": stages, "decoder": decoder, "agreement": agreement, "classifier": classifier}


def compress(proto, rules: dict, min_size: int = WEIGHT_MIN_SIZE):
    """Large float32 weights stored smaller by `rules` (WEIGHTS), each restored by Cast (and Mul
    by its scales) nodes that ONNX Runtime folds into a float32 constant when it loads the graph."""
    import onnx
    from onnx import helper, numpy_helper
    graph = proto.graph
    restore = []
    for initializer in list(graph.initializer):
        values = numpy_helper.to_array(initializer)
        rule = rules.get(values.ndim, "float16")
        if values.dtype != np.float32 or values.size <= min_size:
            continue
        name = initializer.name
        graph.initializer.remove(initializer)
        cast = lambda source, target: helper.make_node("Cast", [source], [target], to=onnx.TensorProto.FLOAT,
                                                       name=f"{target}__cast")
        if rule == "float16":
            graph.initializer.append(numpy_helper.from_array(values.astype(np.float16), f"{name}__f16"))
            restore.append(cast(f"{name}__f16", name))
            continue
        _, kept = rule
        others = tuple(axis for axis in range(values.ndim) if axis not in kept)
        scale = np.maximum(np.abs(values).max(axis=others, keepdims=True), 1e-12).astype(np.float16).astype(np.float32) / 127
        quantised = np.clip(np.round(values / scale), -127, 127).astype(np.int8)
        graph.initializer.extend([numpy_helper.from_array(quantised, f"{name}__q"),
                                  numpy_helper.from_array((scale * 127).astype(np.float16), f"{name}__max")])
        restore += [cast(f"{name}__q", f"{name}__qf"), cast(f"{name}__max", f"{name}__maxf"),
                    helper.make_node("Mul", [f"{name}__qf", f"{name}__maxf"], [f"{name}__scaled"], name=f"{name}__mul"),
                    helper.make_node("Div", [f"{name}__scaled", f"{name}__127"], [name], name=f"{name}__div")]
        graph.initializer.append(numpy_helper.from_array(np.array(127, np.float32), f"{name}__127"))
    for node in reversed(restore):
        graph.node.insert(0, node)
    return proto


def shared_transposes(proto, min_size: int = WEIGHT_MIN_SIZE):
    """tf2onnx folds the transposes of a weight (a gradient needs W transposed) into copies: put
    each back as a Transpose of the one weight, which ONNX Runtime folds when it loads the graph,
    so that the file holds every weight once."""
    from onnx import helper, numpy_helper
    graph = proto.graph
    large = [(i, numpy_helper.to_array(i)) for i in graph.initializer if np.prod(i.dims) > min_size]
    removed = set()
    for copy, values in large:
        for original, source in large:
            if original is copy or original.name in removed or sorted(source.shape) != sorted(values.shape) \
                    or source.shape == values.shape:
                continue
            perm = next((p for p in itertools.permutations(range(source.ndim))
                         if source.transpose(p).shape == values.shape and np.array_equal(source.transpose(p), values)), None)
            if perm is not None:
                graph.initializer.remove(copy)
                removed.add(copy.name)
                graph.node.insert(0, helper.make_node("Transpose", [original.name], [copy.name], perm=list(perm),
                                                      name=f"{copy.name}__transpose"))
                break
    return proto


def convert(network: Network, model):
    import onnx
    import tf2onnx
    function = KINDS[network.kind](model)
    proto, _ = tf2onnx.convert.from_function(function, input_signature=function.input_signature, opset=OPSET)
    proto = compress(shared_transposes(proto), WEIGHTS[network.name])
    onnx.checker.check_model(proto)
    return proto


def externalise(protos: list, location: str, min_bytes: int = EXTERNAL_MIN_BYTES) -> bytes:
    """Every large initializer of `protos` moved to one weights file (returned), each distinct
    tensor stored once, 64-byte aligned: graphs of one model that hold the same weight share it."""
    from onnx import TensorProto, numpy_helper
    from onnx.external_data_helper import set_external_data
    blob, stored = bytearray(), {}
    for proto in protos:
        for tensor in proto.graph.initializer:
            if not tensor.raw_data:  # values kept in the typed fields: stored as raw bytes first
                tensor.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor), tensor.name))
            if len(tensor.raw_data) < min_bytes:
                continue
            key = (tensor.data_type, tuple(tensor.dims), hashlib.sha256(tensor.raw_data).digest())
            if key not in stored:
                blob += bytes(-len(blob) % 64)
                stored[key] = (len(blob), len(tensor.raw_data))
                blob += tensor.raw_data
            offset, length = stored[key]
            set_external_data(tensor, location=location, offset=offset, length=length)
            tensor.ClearField("raw_data")
            tensor.data_location = TensorProto.EXTERNAL
    return bytes(blob)


def measured_agreement(network: Network, model, path: Path, images: np.ndarray) -> dict:
    """How far the exported graph (ONNX Runtime, float32 once loaded) agrees with Keras."""
    import onnxruntime
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = images[..., None]
    if network.kind == "classifier":
        mine = session.run(["probabilities"], {"images": x})[0]
        theirs = np.asarray(model(x)["probabilities"])
        return {"images": len(x), "max_abs_difference": float(np.abs(mine - theirs).max()),
                "same_predictions": int((mine.argmax(1) == theirs.argmax(1)).sum())}
    if network.kind == "decoder":
        digits = np.arange(len(x), dtype=np.int32) % NUM_CLASSES
        vectors = np.random.default_rng(0).normal(0, 0.2, (len(x), model.digit_caps.capsule_dim)).astype(np.float32)
        mine = session.run(["images"], {"vectors": vectors, "digits": digits})[0]
        capsules = np.zeros((len(x), NUM_CLASSES, vectors.shape[1]), np.float32)
        capsules[np.arange(len(x)), digits] = vectors
        theirs = np.asarray(model.decode(capsules, digits))[..., 0]
        return {"vectors": len(x), "max_abs_difference": float(np.abs(mine - theirs).max()),
                "mean_abs_difference": float(np.abs(mine - theirs).mean())}
    if network.kind == "agreement":
        return saliency_agreement(session, model, x[:20])
    batches = range(0, len(x), 200)  # the stages graph's outputs are large: 200 images at a time
    mine = np.concatenate([session.run(["lengths"], {"images": x[k:k + 200]})[0] for k in batches])
    theirs = np.concatenate([np.asarray(model(x[k:k + 200], routing_iterations=ROUTING_ITERATIONS)["lengths"])
                             for k in batches])
    answer = 2 if card(network.model_id).test_unit == "pairs" else 1  # the longest capsule, or the two longest
    same = (longest(mine, answer) == longest(theirs, answer)).all(1)
    return {"images": len(x), "max_abs_difference": float(np.abs(mine - theirs).max()), "same_predictions": int(same.sum())}


def saliency_agreement(session, model, x: np.ndarray) -> dict:
    """The exported gradient against TensorFlow's (the server's), on each image's own answer."""
    import tensorflow as tf
    worst, cosines, row_error = 0.0, [], 0.0
    for k, image in enumerate(x):
        iterations = 1 + k % MAX_ROUTING
        with tf.GradientTape() as tape:
            tensor = tf.constant(image[None])
            tape.watch(tensor)
            lengths = model(tensor, routing_iterations=iterations, detach_routing=False)["lengths"][0]
            digit = int(tf.argmax(lengths))
            chosen = lengths[digit]
        theirs = tape.gradient(chosen, tensor).numpy()[0, ..., 0]
        mine, row = session.run(["saliency", "transform_row"], {
            "image": image[None], "digit": np.array(digit, np.int32), "iterations": np.array(iterations, np.int32),
            "capsule": np.array(k, np.int32)})
        worst = max(worst, float(np.abs(mine - theirs).max() / np.abs(theirs).max()))
        cosines.append(float((mine * theirs).sum() / np.linalg.norm(mine) / np.linalg.norm(theirs)))
        row_error = max(row_error, float(np.abs(row - model.digit_caps.transform.numpy()[k]).max()))
    return {"images": len(x), "max_difference_relative_to_largest": worst, "min_cosine": min(cosines),
            "transform_row_max_abs_difference": row_error}


def sample_images(model_id: str, model, count: int) -> np.ndarray:
    """The tests' real MNIST test digits; for the two-digit network, pairs made from them as the
    test pairs are made (datasets/pairs.py)."""
    with np.load(SAMPLE) as data:
        digits, labels = data["x_test"][:count], data["y_test"][:count]
    if card(model_id).test_unit != "pairs":
        return digits.astype(np.float32) / 255.0
    return overlay(digits, labels, *evaluation_pairs(labels))[0][..., 0]


# What makes the files: an export made otherwise (another WEIGHTS rule, another graph) is stale.
CONVERSION = ("stages", "decoder", "agreement", "classifier", "compress", "shared_transposes", "convert", "externalise")


def exporter_sha256() -> str:
    """The code and settings that make the files (CONVERSION, gradient_ops.py, the constants they
    read, the converter's version), without comments and docstrings."""
    import ast

    import tf2onnx

    def code(tree, names=None) -> str:
        kept = [node for node in tree.body if names is None or getattr(node, "name", None) in names]
        for node in ast.walk(ast.Module(body=kept, type_ignores=[])):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
        return "\n".join(ast.unparse(node) for node in kept)

    here = Path(__file__)
    settings = (OPSET, WEIGHT_MIN_SIZE, EXTERNAL_MIN_BYTES, STAGES, MAX_ROUTING, ROUTING_ITERATIONS, NETWORKS, WEIGHTS)
    parts = [tf2onnx.__version__, repr(settings),
             code(ast.parse(here.read_text()), CONVERSION), code(ast.parse(here.with_name("gradient_ops.py").read_text()))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def export(models: list[str] | None = None, count: int = 2000, output: Path = EXPORTS) -> dict:
    """Every network of each model (all by default): its graphs and their shared weights file."""
    from model.checkpoint import load_model
    output.mkdir(parents=True, exist_ok=True)
    manifest_path = output / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    kept = lambda key: manifest.get(key) if isinstance(manifest.get(key), dict) else {}
    manifest = {"opset": OPSET, "networks": kept("networks"), "weights": kept("weights")}
    exporter = exporter_sha256()
    for model_id in models or MODELS:
        networks = [n for n in NETWORKS if n.model_id == model_id]
        model, metadata = load_model(model_id)
        started = time.time()
        protos = [convert(network, model) for network in networks]
        weights = externalise(protos, networks[0].weights)
        (output / networks[0].weights).write_bytes(weights)
        images = sample_images(model_id, model, count)
        manifest["weights"][model_id] = {"file": networks[0].weights, "sha256": hashlib.sha256(weights).hexdigest(),
                                         "bytes": len(weights)}
        for network, proto in zip(networks, protos):
            data = proto.SerializeToString()
            path = output / network.path.name
            path.write_bytes(data)
            manifest["networks"][network.name] = {
                "file": path.name, "model": model_id, "kind": network.kind, "weights": network.weights,
                "checkpoint_sha256": metadata["sha256"], "exporter_sha256": exporter,
                "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                "input_shape": list(getattr(model, "image_shape", IMAGE_SHAPE)[:2]), "outputs": list(network.outputs),
                "agreement_with_keras": measured_agreement(network, model, path, images)}
            print(f"{path.relative_to(PROJECT_ROOT)}: {manifest['networks'][network.name]['agreement_with_keras']}",
                  flush=True)
        manifest["weights"][model_id]["seconds"] = round(time.time() - started, 1)
        print(f"{model_id}: {len(weights) / 2**20:.1f} MiB of weights for {len(networks)} graphs", flush=True)
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def stale(manifest_path: Path = EXPORTS / "manifest.json") -> list[str]:
    """What the site builder refuses: every network missing, damaged, or made from other weights
    than the checkpoint now committed (its card's sha256) or by other export code, each with the reason."""
    if not manifest_path.exists():
        return [f"no {manifest_path.relative_to(PROJECT_ROOT)}"]
    manifest = json.loads(manifest_path.read_text())
    exporter = exporter_sha256()
    problems = []
    for network in NETWORKS:
        entry = manifest["networks"].get(network.name)
        path = manifest_path.parent / f"{network.name}.onnx"
        if entry is None or not path.exists():
            problems.append(f"{network.name}: not exported")
        elif entry["checkpoint_sha256"] != read_metadata(card(network.model_id).checkpoint).get("sha256"):
            problems.append(f"{network.name}: made from other {network.model_id} weights")
        elif entry.get("exporter_sha256") != exporter:
            problems.append(f"{network.name}: made by another version of static_site/export.py")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            problems.append(f"{network.name}: the file does not match the manifest")
    for model_id in MODELS:
        entry = manifest.get("weights", {}).get(model_id)
        path = manifest_path.parent / f"{model_id}.bin"
        if entry is None or not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            problems.append(f"{model_id}.bin: missing, or not the file the manifest names")
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m static_site.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--if-stale", action="store_true", help="do nothing when every export is current")
    parser.add_argument("--count", type=int, default=2000, help="test digits the agreement is measured on")
    parser.add_argument("--model", action="append", choices=MODELS,
                        help="only this model's networks (repeatable); the manifest keeps the others' entries")
    args = parser.parse_args(argv)
    if args.if_stale and not stale():
        print("exports/ is current")
        return
    export(args.model, count=args.count)


if __name__ == "__main__":
    main()
