"""Serve the visualisation: `python run_visualization.py`, then open http://localhost:5000."""
from __future__ import annotations

import argparse
import os
import sys

# Before TensorFlow loads: its thread pools cannot be resized afterwards.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str] | None = None) -> None:
    from model.checkpoint import DEFAULT_CHECKPOINT, CheckpointError

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to listen on every interface")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--checkpoint", default=os.environ.get("CAPSNET_CHECKPOINT", str(DEFAULT_CHECKPOINT)))
    parser.add_argument("--debug", action="store_true", help="Flask's debugger: never on a public host")
    args = parser.parse_args(argv)

    from app import create_app

    try:
        app = create_app({"CHECKPOINT": args.checkpoint})
    except CheckpointError as error:
        sys.exit(f"error: {error}")
    print(f"CapsNet visualisation on http://{'localhost' if args.host == '127.0.0.1' else args.host}:{args.port}",
          flush=True)
    # No reloader: it would start TensorFlow twice.
    app.run(host=args.host, port=args.port, debug=args.debug, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
