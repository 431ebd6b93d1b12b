"""The exported networks against Keras on MNIST's whole test set: `python -m static_site.measure`
writes results/static_edition.json (a study of studies/__init__.py's list, so docs/results.md
reports it and the site builder refuses it when measured on other exports).

Each classifier as the static edition ships it (exports/, its large weights in float16 or 8 bits)
is run by ONNX Runtime, the runtime the page runs in WebAssembly, and by Keras from the same
checkpoint, on the 10,000 test digits (the two-digit network on the 10,000 test pairs made as
training/evaluate.py makes them): the accuracy of each, how many answers are the same, and how
far the capsule lengths (the CNN's probabilities) move.
"""
from __future__ import annotations

import json
import time

import numpy as np

from datasets.pairs import evaluation_pairs, overlay
from model.multimnist import longest
from model.registry import card
from model.spec import ROUTING_ITERATIONS
from static_site.export import EXPORTS, NETWORKS, exporter_sha256, stale
from studies import cli

STUDY = cli.study("static_edition")
CLASSIFIERS = [network for network in NETWORKS if network.kind in ("stages", "classifier")]
BATCH = 200


def test_examples(model_id: str, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 inputs (n, H, W, 1) and the true digits (n, 1) or (n, 2): the test digits, or one
    pair per test digit with the evaluation's seed."""
    if card(model_id).test_unit != "pairs":
        return (images.astype(np.float32) / 255.0)[..., None], labels[:, None]
    x, y = overlay(images, labels, *evaluation_pairs(labels))
    return x, y["labels"]


def measure(network, model, x: np.ndarray, truth: np.ndarray) -> dict:
    import onnxruntime
    session = onnxruntime.InferenceSession(str(EXPORTS / network.path.name), providers=["CPUExecutionProvider"])
    output = "probabilities" if network.kind == "classifier" else "lengths"
    exported, keras = [], []
    for start in range(0, len(x), BATCH):
        batch = x[start:start + BATCH]
        exported.append(session.run([output], {"images": batch})[0])
        served = model(batch) if network.kind == "classifier" else model(batch, routing_iterations=ROUTING_ITERATIONS)
        keras.append(np.asarray(served[output]))
    exported, keras = np.concatenate(exported), np.concatenate(keras)
    count = truth.shape[1]
    mine, theirs = longest(exported, count), longest(keras, count)
    truth = np.sort(truth, axis=1)
    return {"examples": len(x), "output": output, "accuracy": float((mine == truth).all(1).mean()),
            "keras_accuracy": float((theirs == truth).all(1).mean()),
            "same_answers": int((mine == theirs).all(1).sum()),
            "max_abs_difference": float(np.abs(exported - keras).max()),
            "mean_abs_difference": float(np.abs(exported - keras).mean())}


def main(argv: list[str] | None = None) -> None:
    from model.checkpoint import load_model
    args = cli.parser(STUDY, __doc__).parse_args(argv)
    problems = stale()
    if problems:
        raise SystemExit(f"error: the exports are missing or stale ({'; '.join(problems)}): run `python -m static_site.export`.")
    started = time.time()
    images, labels = cli.test_set(args)
    manifest = json.loads((EXPORTS / "manifest.json").read_text())
    models, table = {}, {"exporter_sha256": exporter_sha256(), "networks": {}}
    for network in CLASSIFIERS:
        models[network.model_id] = load_model(network.model_id)
        x, truth = test_examples(network.model_id, images, labels)
        table["networks"][network.name] = {
            "model": network.model_id, "graph_bytes": manifest["networks"][network.name]["bytes"],
            "weights_bytes": manifest["weights"][network.model_id]["bytes"],  # shared with the model's other graphs
            **measure(network, models[network.model_id][0], x, truth)}
        print(network.name, table["networks"][network.name], flush=True)
    print(f"wrote {cli.write(STUDY, table, models, args.output, started)}")


if __name__ == "__main__":
    main()
