"""What a transform sweep costs against one analysis: `python bench/sweep.py [--requests 20]`.

A 41-value `/api/transform-sweep` runs one batched forward pass per model; 41 separate
analyses would cost over 40 analyses. In-process (Flask's test client), a new input every
request (a gallery digit with one random pixel changed) so that no cache answers.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per row (default 20)")
    parser.add_argument("--values", type=int, default=41, help="values per sweep (default 41)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import numpy as np

    from app import create_app

    rng = np.random.default_rng(args.seed)
    base = common.gallery_pixels(3)
    client = create_app().test_client()
    values = np.linspace(-90, 90, args.values).tolist()

    def timed(path: str, extra: dict) -> list[float]:
        seconds = []
        for n in range(args.requests + 2):
            body = {"pixels": common.fresh_pixels(base, rng).tolist(), **extra}
            start = time.perf_counter()
            response = client.post(path, json=body)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.get_data()[:200]!r}")
            if n >= 2:  # the first two warm up
                seconds.append(time.perf_counter() - start)
        return seconds

    rows = {"POST /api/analyze": common.summarize(timed("/api/analyze", {})),
            "POST /api/compare": common.summarize(timed("/api/compare", {"transform": {"rotation": 20}})),
            f"POST /api/transform-sweep ({args.values} rotations)": common.summarize(
                timed("/api/transform-sweep", {"parameter": "rotation", "values": values}))}
    analyze = rows["POST /api/analyze"]["median_ms"]
    table = [[name, f"{row['median_ms']:.1f}", f"{row['p99_ms']:.1f}", f"{row['median_ms'] / analyze:.1f}x"]
             for name, row in rows.items()]
    print(common.markdown_table(["request", "median ms", "p99 ms", "x analyze"], table))
    return {"rows": rows, "environment": common.environment()}


if __name__ == "__main__":
    main()
