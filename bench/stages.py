"""Where one analysis' time goes, stage by stage, against the plain forward pass.

    python bench/stages.py                  # 200 analyses, distinct inputs
    python bench/stages.py --cprofile 20    # also the 20 heaviest functions of whole requests

Each stage of POST /api/analyze is timed on its own, one distinct input after another (a gallery
digit with one random pixel changed, so no cache answers), both in wall-clock time and in CPU
time of the whole process (every thread: TensorFlow's pools count too), which a busy machine
disturbs less:
  parse      the JSON body: json.loads and the pydantic request model
  forward    the traced analysis pass (every intermediate) and its outputs as numpy arrays
  payload    the answer's parts: rounding small arrays, quantising and deflating large ones
  json       encoding the answer (Flask's JSON provider)
  request    the whole request in-process (Flask's test client), for the sum's overhead
  plain      the yardstick: the traced forward pass for lengths and reconstruction only
and the analysis pass over batches of 2, 4 and 8 distinct inputs, per image (what the batcher
of app/serving/batcher.py saves when concurrent requests share a pass).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common


def measure(function, count: int, warmup: int = 5) -> dict:
    for _ in range(warmup):
        function()
    wall, cpu = [], []
    for _ in range(count):
        w, c = time.perf_counter(), time.process_time()
        function()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    import numpy as np
    return {"wall_ms": float(np.median(wall) * 1000), "cpu_ms": float(np.mean(cpu) * 1000)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cprofile", type=int, default=0, help="print this many functions of a cProfile")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np

    from app import create_app
    from app.http import payloads
    from app.http.schemas import ImageRequest
    from app.serving.service import ANALYSIS_KEYS
    from model.forward import compiled_forward
    from model.spec import IMAGE_SHAPE

    rng = np.random.default_rng(args.seed)
    base = common.gallery_pixels(3)
    app = create_app()
    service = app.extensions["models"]["capsnet"]
    iterations = service.default_iterations
    plain = compiled_forward(service.model, ("lengths", "reconstruction"), IMAGE_SHAPE, routing_iterations=iterations)
    analysis = compiled_forward(service.model, ANALYSIS_KEYS, IMAGE_SHAPE, routing_iterations=iterations)
    fresh = lambda: common.fresh_pixels(base, rng).reshape(1, *IMAGE_SHAPE)
    body = json.dumps(common.analyze_body(base, rng))
    result = {"input": base, **{k: v[0] for k, v in analysis(fresh()).items()}}
    answer = payloads.full_analysis(result, service.primary_grid)
    client = app.test_client()

    with app.app_context():
        stages = {
            "parse": lambda: ImageRequest.model_validate(json.loads(body)),
            "forward": lambda: analysis(fresh()),
            "payload": lambda: payloads.full_analysis(result, service.primary_grid),
            "json": lambda: app.json.response(answer).get_data(),
            "request": lambda: client.post("/api/analyze", json=common.analyze_body(base, rng)),
            "plain": lambda: plain(fresh()),
        }
        rows = {name: measure(function, args.requests) for name, function in stages.items()}
    # What sharing a pass saves: the analysis pass over a batch, per image (app/serving/batcher.py).
    for size in (2, 4, 8):
        def batch(size=size):
            return np.concatenate([fresh() for _ in range(size)])
        row = measure(lambda batch=batch: analysis(batch()), max(10, args.requests // size))
        rows[f"forward, batch of {size}, per image"] = {k: v / size for k, v in row.items()}
    yardstick = rows["plain"]["wall_ms"]
    table = common.markdown_table(
        ["stage", "median wall ms", "mean CPU ms (all threads)", "x plain forward (wall)"],
        [[name, r["wall_ms"], r["cpu_ms"], f"{r['wall_ms'] / yardstick:.2f}"] for name, r in rows.items()])
    print(f"\nOne analysis, stage by stage ({args.requests} distinct inputs each)\n")
    print(table)

    if args.cprofile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            client.post("/api/analyze", json=common.analyze_body(base, rng))
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.cprofile)

    results = {"benchmark": "stages", "environment": common.environment(), "rows": rows}
    if not args.no_save:
        print(f"\nresults: {common.write_results('stages', results)}")
    return results


if __name__ == "__main__":
    main()
