"""The static edition: `python -m static_site.build` (`make site`) writes site/, the page running
wholly in the browser, to publish on any static file server, from a sub-path too.

site/index.html   web/index.html rendered with the in-page engine (the Flask page renders the
                  same template with the server's), a Content-Security-Policy in a <meta> tag
site/static/      web/'s scripts, styles, gallery (its templates stay behind)
site/data/        the server's own answers to the GET endpoints the page reads (the model's
                  description, the Conv1 kernels, the committed tables), written as files
site/results/     the mistakes' images, as /api/mistakes names them
site/networks/    the networks of exports/ (static_site/export.py) and their models' weights files,
                  gzipped, and their manifest; refused when made from other weights than the
                  committed checkpoints, or by other export code
site/static/vendor/onnxruntime/  ONNX Runtime Web from node_modules (package-lock.json pins it),
                  its WebAssembly gzipped: the page inflates it itself, whatever the server

Every URL in it is relative. Nothing is fetched from another site at run time.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from app.http.security import PAGE_POLICY
from model.registry import PROJECT_ROOT
from static_site.export import EXPORTS, NETWORKS, PRECISION, exporter_sha256, stale

SITE = PROJECT_ROOT / "site"
WEB = PROJECT_ROOT / "web"
RUNTIME = PROJECT_ROOT / "node_modules" / "onnxruntime-web"
RUNTIME_FILES = {"module": "dist/ort.wasm.bundle.min.mjs", "wasm": "dist/ort-wasm-simd-threaded.wasm"}
# The GET answers the page reads (app/http/endpoints.py's views), and the votes' projection table.
DATA = ("model_info", "models", "conv1_kernels", "robustness", "routing_share", "dimensions", "mistakes")
FIRST = ("capsnet", "capsnet-decoder")  # the first analysis's networks: preloaded, and started by web/engines/browser/engine.js
STATIC_POLICY = PAGE_POLICY.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")


class BuildError(RuntimeError):
    """What is missing or out of date, and the command that makes it."""


def check_inputs(exports: Path = EXPORTS) -> None:
    problems = stale(exports / "manifest.json")
    if problems:
        raise BuildError("The exported networks are missing or stale (" + "; ".join(problems)
                         + "): run `python -m static_site.export`.")
    missing = [name for name in RUNTIME_FILES.values() if not (RUNTIME / name).exists()]
    if missing:
        raise BuildError(f"ONNX Runtime Web is not installed ({', '.join(missing)}): run `npm ci`.")


def measured(app) -> dict:
    """results/static_edition.json (`python -m static_site.measure`), refused when it measured
    other checkpoints (app/serving/tables.py) or networks exported by other code."""
    from app.errors import ApiError
    from app.serving.tables import study_table
    with app.app_context():
        try:
            table = study_table("static_edition")
        except ApiError as error:
            raise BuildError(str(error)) from error
    if table["exporter_sha256"] != exporter_sha256():
        raise BuildError("results/static_edition.json measured networks exported by other code: "
                         "run `python -m static_site.measure`.")
    return table


def precision_note(table: dict) -> str:
    """The footer's sentence on what the exported networks give up, in the measured numbers."""
    pct = lambda v: f"{100 * v:.2f}%"
    nets = table["networks"]
    caps, cnn, pairs = nets["capsnet"], nets["cnn"], nets["multimnist"]
    return (f"To travel as a link, {PRECISION}. On MNIST's {caps['examples']:,} test digits the CapsNet here reads "
            f"{pct(caps['accuracy'])} right (the server's {pct(caps['keras_accuracy'])}) and answers as the server on "
            f"{caps['same_answers']:,}; the CNN {pct(cnn['accuracy'])} ({pct(cnn['keras_accuracy'])}), as the server on "
            f"{cnn['same_answers']:,}; the two-digit network {pct(pairs['accuracy'])} of {pairs['examples']:,} test pairs "
            f"({pct(pairs['keras_accuracy'])}), as the server on {pairs['same_answers']:,} (`python -m static_site.measure`).")


def page_config() -> dict:
    """What web/lib/page-config.js reads in the static edition (the Flask page's is app/http/pages.py's)."""
    from app.http.pages import page_config as served
    runtime = "static/vendor/onnxruntime/"
    first = [network for network in NETWORKS if network.name in FIRST]
    config = {
        **served(), "engine": "browser", "policy": STATIC_POLICY, "endpoints": {},
        "data": {name: f"data/{name}.json" for name in (*DATA, "votes_pca")},
        "networks": {network.name: f"networks/{network.path.name}.gz" for network in NETWORKS},
        # each graph's external data: its model's weights file, named in the graph as the file's name
        "weights": {network.name: f"networks/{network.weights}.gz" for network in NETWORKS},
        "first": [network.name for network in first],
        "runtime": {"module": runtime + Path(RUNTIME_FILES["module"]).name,
                    "wasm": runtime + Path(RUNTIME_FILES["wasm"]).name + ".gz"},
    }
    config["preload"] = list(dict.fromkeys([config["runtime"]["wasm"], *(config["networks"][n.name] for n in first),
                                            *(config["weights"][n.name] for n in first)]))
    return config


def write_data(app, site: Path) -> None:
    """The server's answers, exactly: the views' JSON, through Flask's test client."""
    from app.http.endpoints import ENDPOINTS
    from app.serving.tables import study_table
    paths = {endpoint.view: endpoint.path for endpoint in ENDPOINTS}
    client = app.test_client()
    (site / "data").mkdir(parents=True)
    for name in DATA:
        response = client.get(paths[name])
        if response.status_code != 200:
            raise BuildError(f"GET {paths[name]} answered {response.status_code}: {response.get_json()}")
        (site / "data" / f"{name}.json").write_bytes(response.get_data())
    with app.app_context():
        (site / "data" / "votes_pca.json").write_text(json.dumps(study_table("votes")))


def build(site: Path = SITE, exports: Path = EXPORTS, app=None) -> Path:
    """`app`: a Flask app already made (the tests'), else one is made, its models not warmed up."""
    check_inputs(exports)
    from flask import render_template

    from app import create_app
    app = app or create_app({"WARM_UP": False})
    note = precision_note(measured(app))
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(WEB, site / "static", ignore=shutil.ignore_patterns("*.html"))
    with app.test_request_context():
        (site / "index.html").write_text(render_template("index.html", page_config=page_config(), precision_note=note))
    write_data(app, site)
    shutil.copytree(Path(app.config["RESULTS"]) / "mistakes", site / "results" / "mistakes")
    (site / "networks").mkdir()
    files = [network.path.name for network in NETWORKS] + list(dict.fromkeys(network.weights for network in NETWORKS))
    for name in files:  # gzipped: any static server sends them smaller; the page inflates them itself
        data = (exports / name).read_bytes()
        (site / "networks" / f"{name}.gz").write_bytes(gzip.compress(data, 9, mtime=0))
    shutil.copy2(exports / "manifest.json", site / "networks" / "manifest.json")
    vendor = site / "static" / "vendor" / "onnxruntime"
    vendor.mkdir(parents=True)
    shutil.copy2(RUNTIME / RUNTIME_FILES["module"], vendor)
    shutil.copy2(Path(__file__).with_name("onnxruntime-web.LICENSE"), vendor / "LICENSE")
    wasm = (RUNTIME / RUNTIME_FILES["wasm"]).read_bytes()
    (vendor / (Path(RUNTIME_FILES["wasm"]).name + ".gz")).write_bytes(gzip.compress(wasm, 9, mtime=0))
    return site


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m static_site.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=str(SITE))
    args = parser.parse_args(argv)
    try:
        site = build(Path(args.output))
    except BuildError as error:
        raise SystemExit(f"error: {error}") from error
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    print(f"wrote {site} ({size / 2**20:.1f} MiB): serve it with `python -m http.server --directory {site} 8000`")


if __name__ == "__main__":
    main()
