"""The static edition: the page running wholly in the browser from static files (`make site`):
the networks exported for ONNX Runtime Web (export.py) and the site built from web/ (build.py)."""
