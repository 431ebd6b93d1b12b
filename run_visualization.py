"""Serve the visualisation: `python run_visualization.py`, then open http://localhost:5000."""
from __future__ import annotations

import argparse
import ipaddress
import os
import sys

# Before TensorFlow loads: its thread pools cannot be resized afterwards.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or the name localhost: reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another name: it may resolve to any interface


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to listen on every interface")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--checkpoint", default=os.environ.get("CAPSNET_CHECKPOINT"),
                        help="the CapsNet weights (default: checkpoints/capsnet.weights.h5)")
    parser.add_argument("--debug", action="store_true",
                        help="Flask's interactive debugger; only with a loopback --host")
    args = parser.parse_args(argv)
    if args.debug and not is_loopback(args.host):
        # Werkzeug's debugger runs any Python a visitor types into an error page.
        parser.error(f"--debug is refused with --host {args.host}: the debugger executes code sent from "
                     "the browser. Use it only with a loopback host (127.0.0.1, ::1 or localhost).")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    from app.serving.runtime import BackendError, check_backend

    try:
        check_backend()  # before Keras loads
    except BackendError as error:
        sys.exit(f"error: {error}")

    from app import create_app
    from model.checkpoint import DEFAULT_CHECKPOINT, CheckpointError

    try:
        app = create_app({"CHECKPOINT": args.checkpoint or str(DEFAULT_CHECKPOINT)})
    except CheckpointError as error:
        sys.exit(f"error: {error}")
    print(f"CapsNet visualisation on http://{'localhost' if args.host == '127.0.0.1' else args.host}:{args.port}",
          flush=True)
    # No reloader: it would start TensorFlow twice.
    app.run(host=args.host, port=args.port, debug=args.debug, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
