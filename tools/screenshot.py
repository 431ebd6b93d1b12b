"""The README's screenshot, made from the running page: `python -m tools.screenshot` (`make screenshot`).

Serves the app on a free loopback port, opens the page in Debian's Chromium (Playwright), waits
for the first gallery digit's analysis, scrolls to the routing section and back, and saves the
top of the page, 1280x800, to docs/screenshot.png.
"""
from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = PROJECT_ROOT / "docs" / "screenshot.png"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshot", description=__doc__)
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from app import create_app

    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            page.wait_for_selector("[data-testid=prediction][data-seq]", timeout=120_000)
            page.wait_for_selector("body:not([data-busy])", timeout=120_000)
            page.locator("#routing").scroll_into_view_if_needed()  # every stage above it draws
            page.wait_for_selector("#routing-bars .bar-col", timeout=120_000)
            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(500)
            page.screenshot(path=args.output)
            browser.close()
    finally:
        server.shutdown()
    print(f"wrote {Path(args.output).relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
