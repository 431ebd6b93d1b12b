"""Latency of one request at a time: the bare model, Flask in-process, and over HTTP.

    python bench/latency.py                    # 200 requests per row, ~1 minute
    python bench/latency.py --requests 50      # a quick look
    python bench/latency.py --url http://127.0.0.1:5000   # HTTP rows against a running server

Rows (median and p99 in milliseconds):
  plain forward      the yardstick: the traced forward pass for lengths and reconstruction only
                     (what classification costs; the compiler prunes every other intermediate)
  analysis forward   the traced pass the server runs for an analysis: every intermediate
                     (Conv1 maps, primary capsules, every routing iteration), 3 iterations
  model decoder      the traced decoder for one capsule (what /api/reconstruct runs)
  in-process         Flask's test client: parsing, validation, the model, JSON encoding
  HTTP               a threaded werkzeug server in this process, or the server at --url,
                     one connection per request (urllib)
Every analyze request carries a new input (a gallery digit with one random pixel changed), so
the service's cache of analyses never answers. The size of an analyze answer is printed too.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common


def timed(function, count: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(count):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def timed_alternately(functions: dict, count: int, warmup: int) -> dict[str, list[float]]:
    """Like `timed` for several functions, called in turn, so that all see the same load."""
    seconds: dict[str, list[float]] = {name: [] for name in functions}
    for n in range(warmup + count):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            if n >= warmup:
                seconds[name].append(time.perf_counter() - start)
    return seconds


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per row (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests first (default 10)")
    parser.add_argument("--url", help="time the HTTP rows against this running server instead")
    parser.add_argument("--checkpoint", help="weights to load (default: the app's, checkpoints/capsnet.weights.h5)")
    parser.add_argument("--digit", type=int, default=3, help="gallery digit to perturb (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/latency-*.json")
    args = parser.parse_args(argv)

    import numpy as np

    from app import create_app
    from app.serving.service import ANALYSIS_KEYS
    from model.forward import compiled_forward
    from model.spec import IMAGE_SHAPE

    rng = np.random.default_rng(args.seed)
    base = common.gallery_pixels(args.digit)
    app = create_app({"CHECKPOINT": args.checkpoint} if args.checkpoint else None)
    service = app.extensions["models"]["capsnet"]
    rows: dict[str, dict] = {}

    # The bare model: what no web framework can make faster. Both traced as the server traces.
    plain = compiled_forward(service.model, ("lengths", "reconstruction"), IMAGE_SHAPE,
                             routing_iterations=service.default_iterations)
    analysis = compiled_forward(service.model, ANALYSIS_KEYS, IMAGE_SHAPE, routing_iterations=service.default_iterations)
    passes = {name: (lambda forward=forward: forward(common.fresh_pixels(base, rng).reshape(1, *IMAGE_SHAPE)))
              for name, forward in (("plain forward (lengths, reconstruction)", plain),
                                    ("analysis forward (every intermediate)", analysis))}
    for name, seconds in timed_alternately(passes, args.requests, args.warmup).items():
        rows[name] = common.summarize(seconds)
    rows["model decoder (one capsule)"] = common.summarize(timed(
        lambda: service.reconstruct(int(rng.integers(10)), rng.uniform(-0.5, 0.5, 16).astype(np.float32)),
        args.requests, args.warmup))

    client = app.test_client()

    def in_process(path: str, body_of):
        def call():
            response = client.post(path, json=body_of())
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.get_data()[:200]!r}")
            return response
        return call

    analyze_in_process = in_process("/api/analyze", lambda: common.analyze_body(base, rng))
    rows["in-process POST /api/analyze"] = common.summarize(timed(analyze_in_process, args.requests, args.warmup))
    rows["in-process POST /api/reconstruct"] = common.summarize(timed(
        in_process("/api/reconstruct", lambda: common.reconstruct_body(rng)), args.requests, args.warmup))
    payload = analyze_in_process().get_data()
    payload_info = {"analyze_bytes": len(payload), "analyze_gzip_bytes": len(gzip.compress(payload, 6)),
                    "analyze_json_keys": list(json.loads(payload))}

    server = None
    if args.url:
        base_url, where = args.url.rstrip("/"), args.url
    else:
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base_url, where = f"http://127.0.0.1:{server.server_port}", "werkzeug (threaded, this process)"

    def over_http(path: str, body_of):
        def call():
            status, body = common.post_json(base_url + path, json.dumps(body_of()).encode())
            if status != 200:
                raise RuntimeError(f"{path}: {status} {body[:200]!r}")
        return call

    try:
        common.wait_ready(base_url, timeout=60)
        rows["HTTP POST /api/analyze"] = common.summarize(timed(
            over_http("/api/analyze", lambda: common.analyze_body(base, rng)), args.requests, args.warmup))
        rows["HTTP POST /api/reconstruct"] = common.summarize(timed(
            over_http("/api/reconstruct", lambda: common.reconstruct_body(rng)), args.requests, args.warmup))
    finally:
        if server is not None:
            server.shutdown()

    yardstick = rows["plain forward (lengths, reconstruction)"]["median_ms"]
    for row in rows.values():
        row["x_plain_forward"] = row["median_ms"] / yardstick
    table = common.markdown_table(["what", "n", "median ms", "p99 ms", "mean ms", "x plain forward"],
                                  [[name, r["n"], r["median_ms"], r["p99_ms"], r["mean_ms"], f"{r['x_plain_forward']:.2f}"]
                                   for name, r in rows.items()])
    print(f"\nLatency, one request at a time; HTTP against {where}\n")
    print(table)
    print(f"\n/api/analyze answer: {payload_info['analyze_bytes']:,} bytes "
          f"({payload_info['analyze_gzip_bytes']:,} gzipped)")
    results = {"benchmark": "latency", "environment": common.environment(), "http_server": where,
               "requests_per_row": args.requests, "rows": rows, "payload": payload_info,
               "checkpoint": str(service.weights_path)}
    if not args.no_save:
        print(f"\nresults: {common.write_results('latency', results)}")
    return results


if __name__ == "__main__":
    main()
