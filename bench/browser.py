"""The Flask page's reconstruction in Chromium: slider input to redrawn canvas, and the Figure 4
grid, with the server made --delay-ms away (the static edition's: bench/site.py).

    python bench/browser.py                   # 150 ms away, 60 slider moves and 10 grids
    python bench/browser.py --moves 200 --grids 20 --delay-ms 0

The app runs in this process (werkzeug, threaded) behind a WSGI wrapper that holds every /api/
answer for --delay-ms, as a distant server would. Debian's Chromium (/usr/bin/chromium, or
CHROMIUM_PATH) opens the page through Playwright; a key press moves one slider (ArrowRight/
ArrowLeft on a focused slider: real input events) and the page asks POST /api/reconstruct; the
time is from the input event's timeStamp to the moment the reconstruction canvas is drawn
(putImageData returns), and to the next animation frame after it (about when it is on screen).
The grid (POST /api/sweep): from the slider's change event (which redraws the grid) to the grid
canvas drawn. Prints a markdown table; raw figures in bench/results/browser-*.json.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Installed before the page's scripts: timestamps of input events and of the canvases' draws
# (`drawn` per canvas id: putImageData or drawImage returned).
PROBE = """
window.__bench = {inputs: [], changes: [], recon: [], sweep: [], drawn: {}};
document.addEventListener('input', (e) => window.__bench.inputs.push(e.timeStamp), true);
document.addEventListener('change', (e) => window.__bench.changes.push(e.timeStamp), true);
const mark = (canvas) => (window.__bench.drawn[canvas.id] ||= []).push(performance.now());
const put = CanvasRenderingContext2D.prototype.putImageData;
CanvasRenderingContext2D.prototype.putImageData = function (...args) {
  const result = put.apply(this, args);
  mark(this.canvas);
  if (this.canvas.id === 'reconstruction') {
    const entry = {drawn: performance.now(), frame: null};
    window.__bench.recon.push(entry);
    requestAnimationFrame(() => { entry.frame = performance.now(); });
  }
  return result;
};
const draw = CanvasRenderingContext2D.prototype.drawImage;
CanvasRenderingContext2D.prototype.drawImage = function (...args) {
  const result = draw.apply(this, args);
  mark(this.canvas);
  if (this.canvas.id === 'sweep') window.__bench.sweep.push(performance.now());
  return result;
};
"""


def delayed(wsgi_app, seconds: float):
    """Every /api/ answer held for `seconds` (its own thread sleeps: others go on)."""
    def app(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/api/"):
            time.sleep(seconds)
        return wsgi_app(environ, start_response)
    return app


def percentile(values: list[float], q: float) -> float:
    import numpy as np
    return float(np.percentile(values, q)) if values else float("nan")


def wait_until(page, expression: str, timeout_s: float) -> None:
    """Poll `expression` in the page (wait_for_function evaluates strings, which the CSP forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout_s} s: {expression}")
        time.sleep(0.005)


def open_page(browser, url: str, timeout_s: float, probe: str = PROBE):
    """A fresh context (nothing cached) with the probe, the page opened on its first analysis."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(probe)
    page = context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    try:
        wait_until(page, "!!document.querySelector('[data-testid=prediction]')?.dataset.seq", timeout_s)
    except TimeoutError as error:
        raise RuntimeError(f"the page showed no analysis; its errors: {errors}") from error
    return context, page


def sliders_and_grid(page, moves: int, grids: int, timeout_s: float) -> dict:
    """Slider moves, each waiting for its own redraw (a user dragging does not wait; this measures
    one move's latency without a queue of earlier ones in front of it), then Figure 4 grids."""
    page.wait_for_timeout(1000)  # the page's first analysis and its reconstruction settle
    slider = page.get_by_test_id("slider-0")
    slider.scroll_into_view_if_needed()
    slider.focus()

    def wait_for(kind: str, count: int) -> None:
        wait_until(page, f"window.__bench.{kind}.length >= {count}", timeout_s)

    page.evaluate("window.__bench.inputs = []; window.__bench.recon = []")
    for n in range(moves):
        page.keyboard.press("ArrowRight" if (n // 10) % 2 == 0 else "ArrowLeft")
        wait_for("recon", n + 1)
        wait_until(page, f"window.__bench.recon[{n}].frame !== null", timeout_s)
    probe = page.evaluate("window.__bench")
    to_draw = [r["drawn"] - i for i, r in zip(probe["inputs"], probe["recon"])]
    to_frame = [r["frame"] - i for i, r in zip(probe["inputs"], probe["recon"])]

    page.get_by_role("button", name="Show the perturbation grid").click()
    wait_for("sweep", 1)
    page.wait_for_timeout(300)
    slider.focus()  # the click moved the focus to the button
    page.evaluate("window.__bench.changes = []; window.__bench.sweep = []")
    for n in range(grids):
        page.keyboard.press("ArrowRight" if n % 2 == 0 else "ArrowLeft")
        wait_for("sweep", n + 1)
    probe = page.evaluate("window.__bench")
    grid = [s - c for c, s in zip(probe["changes"], probe["sweep"])]
    return {"input_to_draw_ms": to_draw, "input_to_frame_ms": to_frame, "grid_ms": grid}


def rows_of(label: str, figures: dict, names) -> list[list]:
    return [[label, name, len(figures[key]), percentile(figures[key], 50), percentile(figures[key], 95),
             max(figures[key]) if figures[key] else float("nan")] for name, key in names]


SLIDER_ROWS = (("slider input -> canvas drawn", "input_to_draw_ms"), ("slider input -> next frame", "input_to_frame_ms"),
               ("slider change -> Figure 4 grid drawn", "grid_ms"))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay-ms", type=float, default=150, help="added to every /api/ answer (default 150)")
    parser.add_argument("--moves", type=int, default=60, help="slider moves (default 60)")
    parser.add_argument("--grids", type=int, default=10, help="grid redraws (default 10)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for any one step")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/browser-*.json")
    args = parser.parse_args(argv)

    import logging

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from app import create_app

    app = create_app()
    app.wsgi_app = delayed(app.wsgi_app, args.delay_ms / 1000)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    results: dict = {"benchmark": "browser", "environment": common.environment(), "delay_ms": args.delay_ms}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            results["chromium"] = browser.version
            context, page = open_page(browser, url, args.timeout)
            results["server"] = sliders_and_grid(page, args.moves, args.grids, args.timeout)
            context.close()
            browser.close()
    finally:
        server.shutdown()

    print(f"\nChromium {results.get('chromium')}, the server {args.delay_ms:g} ms away\n")
    print(common.markdown_table(["page", "what", "n", "median ms", "p95 ms", "max ms"],
                                rows_of("Flask page (server engine)", results["server"], SLIDER_ROWS)))
    if not args.no_save:
        print(f"\nresults: {common.write_results('browser', results)}")
    return results


if __name__ == "__main__":
    main()
