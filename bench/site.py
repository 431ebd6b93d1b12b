"""The static edition in Chromium (`make site` first): what a visitor waits for, with no server
but a plain static file server on localhost.

    python bench/site.py                       # 5 cold loads, 20 analyses, 60 slider moves, ...
    python bench/site.py --site /tmp/site --loads 3

Served by Python's http.server from this process. Each cold load is a fresh browser context
(nothing cached): the time from navigation to the first prediction shown, and the bytes the
page fetched before it (Resource Timing's transferSize of every response that ended by then,
the page itself included) and in all once it is idle. Then, on one page: gallery digits clicked
one after another (each a new input: no cache answers), from the click to the prediction shown;
the reconstruction sliders and the Figure 4 grid (bench/browser.py's measure); a claims-lab
transform slider, from the key press to the transformed input drawn with both networks' answers;
a 41-value transform sweep, from the click to the chart drawn. Prints a markdown table; raw
figures in bench/results/site-*.json.
"""
from __future__ import annotations

import argparse
import functools
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common
from bench.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PROBE,
    SLIDER_ROWS,
    open_page,
    rows_of,
    sliders_and_grid,
    wait_until,
)

# Timestamps of every prediction shown (the prediction's data-seq changing) and of every click.
SITE_PROBE = PROBE + """
performance.setResourceTimingBufferSize(1000);
window.__site = {shown: [], clicks: []};
document.addEventListener('click', (e) => window.__site.clicks.push(e.timeStamp), true);
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.dataset && r.target.dataset.testid === 'prediction') window.__site.shown.push(performance.now());
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-seq']});
"""

# Bytes of every response (and the page) that ended before `t` ms after navigation.
BYTES_BEFORE = """(t) => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
  .filter((e) => e.responseEnd <= t).reduce((sum, e) => sum + e.transferSize, 0)"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a context closed while a file was still sent: the next load asks again


def serve(site: Path) -> tuple[ThreadingHTTPServer, str]:
    server = QuietServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def cold_load(browser, url: str, timeout_s: float) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(SITE_PROBE)
    page = context.new_page()
    page.goto(url)
    wait_until(page, "window.__site.shown.length > 0", timeout_s)
    first = page.evaluate("window.__site.shown[0]")
    before = page.evaluate(BYTES_BEFORE, first)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    total = page.evaluate(BYTES_BEFORE, 1e12)
    context.close()
    return {"first_prediction_ms": first, "bytes_before_first_prediction": before, "bytes_when_idle": total}


def analyses(page, count: int, timeout_s: float) -> list[float]:
    """Gallery digits clicked in turn: click to prediction shown."""
    buttons = page.locator("#gallery button")
    times = []
    for k in range(min(count, buttons.count() - 1)):
        shown = page.evaluate("window.__site.shown.length")
        page.evaluate("window.__site.clicks = []")
        buttons.nth(k + 1).click()  # the first is the digit shown on load
        wait_until(page, f"window.__site.shown.length > {shown}", timeout_s)
        wait_until(page, "document.body.dataset.busy !== 'true'", timeout_s)
        times.append(page.evaluate(f"window.__site.shown[{shown}] - window.__site.clicks[0]"))
    return times


def drawn_count(page, canvas: str) -> int:
    return page.evaluate(f"(window.__bench.drawn['{canvas}'] || []).length")


def transform_slider(page, moves: int, timeout_s: float) -> list[float]:
    """A claims-lab slider moved by key presses: input event to the transformed input drawn (both
    networks' answers are shown in the same task)."""
    page.locator("#claims").scroll_into_view_if_needed()
    wait_until(page, "(window.__bench.drawn['transformed-input'] || []).length > 0", timeout_s)
    slider = page.locator("#transform-sliders input[type=range]").first
    slider.focus()
    times = []
    for n in range(moves):
        before = drawn_count(page, "transformed-input")
        page.evaluate("window.__bench.inputs = []")
        page.keyboard.press("ArrowRight" if (n // 5) % 2 == 0 else "ArrowLeft")
        wait_until(page, f"(window.__bench.drawn['transformed-input'] || []).length > {before}", timeout_s)
        times.append(page.evaluate(f"window.__bench.drawn['transformed-input'][{before}] - window.__bench.inputs[0]"))
    return times


def sweeps(page, count: int, timeout_s: float) -> list[float]:
    """The Sweep button: click to the chart drawn with the answer."""
    run = page.locator("#sweep-run")
    options = page.locator("#sweep-parameter option")
    times = []
    for k in range(count):
        page.locator("#sweep-parameter").select_option(index=k % options.count())
        page.evaluate("window.__site.clicks = []; window.__bench.drawn['sweep-chart'] = []")
        run.click()
        wait_until(page, "!document.getElementById('sweep-run').disabled", timeout_s)
        times.append(page.evaluate("Math.max(...window.__bench.drawn['sweep-chart']) - window.__site.clicks[0]"))
    return times


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", default="site", help="the built site (default: site/, from `make site`)")
    parser.add_argument("--loads", type=int, default=5, help="cold loads (default 5)")
    parser.add_argument("--analyses", type=int, default=20, help="gallery digits analysed (default 20)")
    parser.add_argument("--moves", type=int, default=60, help="reconstruction slider moves (default 60)")
    parser.add_argument("--grids", type=int, default=10, help="Figure 4 grid redraws (default 10)")
    parser.add_argument("--transforms", type=int, default=20, help="transform slider moves (default 20)")
    parser.add_argument("--sweeps", type=int, default=5, help="41-value sweeps (default 5)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for any one step")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/site-*.json")
    args = parser.parse_args(argv)
    site = Path(args.site)
    if not (site / "index.html").exists():
        raise SystemExit(f"error: no site in {site}: run `make site` first.")

    from playwright.sync_api import sync_playwright
    server, url = serve(site)
    results: dict = {"benchmark": "site", "environment": common.environment(),
                     "site_bytes": sum(f.stat().st_size for f in site.rglob("*") if f.is_file())}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            results["chromium"] = browser.version
            results["loads"] = [cold_load(browser, url, args.timeout) for _ in range(args.loads)]
            context, page = open_page(browser, url, args.timeout, SITE_PROBE)
            results["analysis_ms"] = analyses(page, args.analyses, args.timeout)
            results.update(sliders_and_grid(page, args.moves, args.grids, args.timeout))
            results["transform_ms"] = transform_slider(page, args.transforms, args.timeout)
            results["sweep_ms"] = sweeps(page, args.sweeps, args.timeout)
            context.close()
            browser.close()
    finally:
        server.shutdown()

    loads = results["loads"]
    figures = {"first_ms": [x["first_prediction_ms"] for x in loads],
               "mb_before": [x["bytes_before_first_prediction"] / 1e6 for x in loads],
               "mb_idle": [x["bytes_when_idle"] / 1e6 for x in loads], **results}
    rows = rows_of("cold load", figures, (("navigation -> first prediction shown (ms)", "first_ms"),
                                          ("MB fetched before the first prediction", "mb_before"),
                                          ("MB fetched once idle", "mb_idle")))
    rows += rows_of("one page", figures, (("gallery click -> prediction shown", "analysis_ms"), *SLIDER_ROWS,
                                          ("transform slider -> both answers drawn", "transform_ms"),
                                          ("41-value sweep click -> chart drawn", "sweep_ms")))
    print(f"\nChromium {results.get('chromium')}, the static edition from localhost "
          f"({results['site_bytes'] / 1e6:.1f} MB on disk)\n")
    print(common.markdown_table(["where", "what", "n", "median", "p95", "max"], rows))
    if not args.no_save:
        print(f"\nresults: {common.write_results('site', results)}")
    return results


if __name__ == "__main__":
    main()
