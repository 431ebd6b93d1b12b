"""docs/results.md, written from the committed tables (results/) and the checkpoints' cards, never
typed: `python -m studies.report` writes it, `--check` says whether the committed file is current.

Every figure in it is read from a file a command wrote; the sentences that compare the networks
are worked out from the same numbers, so they change when a study is re-run.
"""
from __future__ import annotations

import argparse
import json
import sys

from model.registry import CHECKPOINTS, MODELS, PROJECT_ROOT
from studies import STUDIES

OUTPUT = PROJECT_ROOT / "docs" / "results.md"


def percent(value: float, digits: int = 2) -> str:
    return f"{100 * value:.{digits}f}%"


def table(rows: list[list[str]]) -> str:
    head, *body = rows
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                     + ["| " + " | ".join(row) + " |" for row in body])


def read(name: str) -> dict:
    return json.loads(STUDIES[name].path.read_text())


def measured_on(recorded: dict) -> str:
    return ", ".join(f"{model_id} {entry['sha256'][:12]}" for model_id, entry in recorded["models"].items())


def networks() -> str:
    rows = [["model", "test accuracy", "measured on", "epochs", "weights sha256"]]
    for model_id, card in MODELS.items():
        meta = json.loads((CHECKPOINTS / f"{model_id}.json").read_text())
        unit = card.test_unit
        per_class = meta["per_class_accuracy"].values()
        rows.append([f"{card.name} (`{model_id}`)", f"**{percent(meta['test_accuracy'])}**",
                     f"{meta[f'test_{unit}']:,} test {unit} (per digit {percent(min(per_class))} to "
                     f"{percent(max(per_class))})", str(meta["epochs"]), f"`{meta['sha256'][:12]}`"])
    return ("## The networks\n\nMeasured at export on MNIST's test set (each number: "
            "`python -m training.evaluate --model <id>`; a pair counts when both digits are read).\n\n"
            + table(rows))


def robustness() -> str:
    data = read("robustness")
    rows = [["transform", "value", "CapsNet", "CNN"]]
    ahead = []
    for name, sweep in data["transforms"].items():
        for value, caps, cnn in zip(sweep["values"], sweep["capsnet"], sweep["cnn"]):
            rows.append([name, f"{value:g}", percent(caps), percent(cnn)])
        gap = sum(sweep["capsnet"]) / len(sweep["capsnet"]) - sum(sweep["cnn"]) / len(sweep["cnn"])
        ahead.append(f"{name}: the {'CapsNet' if gap >= 0 else 'CNN'} by {100 * abs(gap):.2f} points")
    affine = data["affnist_like"]
    rows.append(["affNIST-like", "+-20 deg, shear +-0.2, scale 0.8..1.2", percent(affine["capsnet"]),
                 percent(affine["cnn"])])
    return (f"## Robustness: the CapsNet against the CNN\n\nAll {data['images']:,} MNIST test digits under each "
            f"transform value, classified by both networks (`{data['command']}`, {data['seconds'] / 60:.0f} minutes; "
            f"measured on {measured_on(data)}).\n\n" + table(rows) + "\n\nAhead on average over each sweep: "
            + "; ".join(ahead) + f". On the affNIST-like set: CapsNet {percent(affine['capsnet'])}, CNN "
            f"{percent(affine['cnn'])}. {affine['description'][0].upper()}{affine['description'][1:]}.")


def routing() -> str:
    data = read("routing_share")
    iterations = len(next(iter(data["by_model"].values()))["accuracy"])
    rows = [["", *(f"iteration {k}" for k in range(1, iterations + 1))]]
    for model_id, report in data["by_model"].items():
        unit = MODELS[model_id].test_unit
        digits = "digit" if report["true_digits"] == 1 else f"{report['true_digits']} digits"
        rows.append([f"`{model_id}`: votes to the true {digits} ({report['examples']:,} test {unit})",
                     *(percent(v, 3) for v in report["share_to_true"])])
        rows.append(["mean \\|c_ij - 1/10\\|", *(f"{v:.5f}" for v in report["mean_shift"])])
        rows.append(["accuracy had routing stopped here", *(percent(v) for v in report["accuracy"])])
    moves = "; ".join(f"`{m}` {percent(r['share_to_true'][0], 3)} -> {percent(r['share_to_true'][-1], 3)} "
                      f"(accuracy {percent(r['accuracy'][0])} after one iteration, {percent(r['accuracy'][-1])} "
                      f"after {iterations})" for m, r in data["by_model"].items())
    return ("## How far routing moves the votes\n\nEach primary capsule's vote starts split evenly (c_ij = 1/10); "
            "per iteration, the share of all votes (each capsule weighted by its length) that reaches the true "
            f"digit(s) (`{data['command']}`; measured on {measured_on(data)}).\n\n" + table(rows)
            + f"\n\nThe share to the true digit(s) moves {moves}.")


def votes_and_dimensions() -> str:
    votes, dims = read("votes"), read("dimensions")
    kept = [sum(p["explained_variance_ratio"]) for p in votes["projections"]]
    labels: dict[str, int] = {}
    total = 0
    for entry in dims["classes"].values():
        for dimension in entry["dimensions"]:
            total += 1
            if dimension["label"]:
                labels[dimension["label"]] = labels.get(dimension["label"], 0) + 1
    named = ", ".join(f"{name} {count}" for name, count in sorted(labels.items(), key=lambda kv: -kv[1]))
    return (f"## The votes and the dimensions\n\n- The votes' two fixed axes (`{votes['command']}`): a PCA of each "
            f"digit capsule's votes over the first {votes['images']} test digits; two axes keep {percent(min(kept), 0)} "
            f"to {percent(max(kept), 0)} of the votes' variance.\n- What each dimension does (`{dims['command']}`): "
            f"{sum(labels.values())} of the {total} dimensions are labelled with one property (|r| >= "
            f"{dims['threshold']} and moved the same way by a perturbation of +-{dims['perturbation']}): {named}; "
            f"the rest move several properties at once.")


def mistakes() -> str:
    data = read("mistakes")
    return (f"## The network's mistakes\n\n`{data['command']}`: {len(data['mistakes'])} of the "
            f"{data['test_images']:,} test digits (accuracy {percent(data['accuracy'])}), on {measured_on(data)}.")


def static_edition() -> str:
    data = read("static_edition")
    rows = [["network (exported)", "MiB: graph, weights file", "examples", "accuracy here", "accuracy in Keras",
             "same answer", "largest difference"]]
    for name, entry in data["networks"].items():
        unit = MODELS[entry["model"]].test_unit
        sizes = f"{entry['graph_bytes'] / 2**20:.2f}, {entry['weights_bytes'] / 2**20:.1f} (`{entry['model']}.bin`)"
        rows.append([f"`{name}.onnx`", sizes, f"{entry['examples']:,} test {unit}",
                     f"**{percent(entry['accuracy'])}**", percent(entry["keras_accuracy"]),
                     f"{entry['same_answers']:,}", f"{entry['max_abs_difference']:.1e} in {entry['output']}"])
    return ("## The static edition's networks\n\nThe classifiers as the static edition ships them (ONNX, their large "
            "weights in float16 or 8 bits in one file per model, shared by its graphs: [static-edition.md](static-edition.md)), "
            "run by ONNX Runtime against "
            f"Keras on the same checkpoints (`{data['command']}`, {data['seconds'] / 60:.0f} minutes; measured on "
            f"{measured_on(data)}).\n\n" + table(rows))


def report() -> str:
    parts = [networks(), robustness(), routing(), votes_and_dimensions(), mistakes(), static_edition()]
    return ("# Results\n\nWritten by `python -m studies.report` from the committed tables in `results/` and the "
            "checkpoints' cards in `checkpoints/`; each table names the command that measured it and the weights "
            "it was measured on (the server refuses to serve a table made from other weights).\n\n"
            + "\n\n".join(parts) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m studies.report", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/results.md is not what the tables say")
    args = parser.parse_args(argv)
    text = report()
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            sys.exit(f"{OUTPUT.relative_to(PROJECT_ROOT)} is out of date: run `python -m studies.report`.")
        print(f"{OUTPUT.relative_to(PROJECT_ROOT)} is current.")
        return
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
