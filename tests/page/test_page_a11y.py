"""The page for every reader: axe-core, an independent accessibility engine, run over the
whole page once every section has loaded and drawn (WCAG 2.1 A and AA rules).

Needs what the other page tests need (conftest.py's `browser` fixture) and axe-core, pinned in
package.json and installed into node_modules/ by `npm ci` (`make install-dev` runs it);
skipped without it, except under CI (CI=true), where it fails saying what to run.

The check is written for any edition of the page: `axe_violations(page)` runs axe over an
open page, and the test is parametrised by page opener (PAGES), so that a second edition
(e.g. a static one) is one more entry there.
"""
from __future__ import annotations

import re

import pytest

from support.digits import PROJECT_ROOT
from support.tools import tool_missing

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips, or fails under CI, saying what to install
    expect = None

pytestmark = pytest.mark.browser

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")  # impacts that fail the test; "moderate" and "minor" do not
TIMEOUT_MS = 60_000  # analyses share two CPU cores with whatever else runs
VIEWPORT = {"width": 1280, "height": 800}

# What shows that each part of the page has loaded and drawn: scrolled to in this order (the
# sections below the fold load only when near the screen), then waited for.
# (what to scroll into view, a selector that matches once it has content)
LOADED = [
    ("#gallery", "#gallery button"),
    ("#mistakes-gallery", "#mistakes-gallery button"),
    ("#conv1", "#kernel-legend .legend-labels"),
    ("#relu", "#relu-legend .legend-labels"),
    ("#primary", "#capsule-vector li"),
    ("#routing", "#routing-bars .bar-col"),
    ("#votes", "#agreement tr"),
    ("#votes", "#votes-plot circle"),
    ("#math", "#math-body > *"),
    ("#digitcaps", "#digit-caps .bar-col"),
    ("#recon", "#sliders input"),
    ("#recon", "#dimension-table tr"),
    ("#claims", "#capsnet-answer .bar-col"),
    ("#claims", "#cnn-answer .bar-col"),
    ("#misplace-panel", "#misplace-buttons button"),
    ("#robustness-panel", "#robustness-summary:not(:empty)"),
    ("#multi", "#multi-gallery button"),
    ("#multi", "#multi-lengths .bar-col"),
    ("#multi", "#multi-sliders input"),
    ("#multi", "#multi-routing-summary:not(:empty)"),
]


def require_axe() -> str:
    if not AXE.is_file():
        tool_missing(f"axe-core is not installed ({AXE.relative_to(PROJECT_ROOT)} is missing)",
                        "npm ci, or make install-dev")
    return AXE.read_text(encoding="utf-8")


def axe_violations(page, axe_source: str, tags=WCAG_TAGS) -> list[dict]:
    """Inject axe-core into an open page (its context needs bypass_csp=True: the page's
    Content-Security-Policy forbids injected scripts) and run it over the whole document
    with the rules of `tags`. Returns axe's violations: {id, impact, help, helpUrl, nodes}."""
    page.add_script_tag(content=axe_source)
    return page.evaluate(
        """async (tags) => {
          const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
          return r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map((n) => ({ target: n.target.map(String).join(' '), impact: n.impact })),
          }));
        }""", list(tags))


def describe(violations: list[dict], examples: int = 4) -> str:
    """One line per violation: impact, id, help, how many elements, a few of their selectors."""
    lines = []
    for v in violations:
        targets = [n["target"] for n in v["nodes"]]
        more = f" and {len(targets) - examples} more" if len(targets) > examples else ""
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(targets)} element"
                     f"{'s' if len(targets) != 1 else ''}: {', '.join(targets[:examples])}{more}; {v['helpUrl']})")
    return "\n".join(lines)


def wait_until_loaded(page, loaded=LOADED) -> None:
    """Scroll each part into view so that the lazily loaded ones load and draw, wait until
    each has content, then until nothing on the page is busy."""
    for scroll_to, content in loaded:
        page.locator(scroll_to).scroll_into_view_if_needed()
        expect(page.locator(content).first).to_be_attached(timeout=TIMEOUT_MS)
    page.wait_for_timeout(100)
    expect(page.locator("[data-busy]")).to_have_count(0, timeout=TIMEOUT_MS)


def open_flask_page(browser, request, fixture="live_server"):
    """The page as the Flask app serves it (or, fixture="static_site", as the static edition is
    served); it analyses the first gallery digit on load."""
    live_server = request.getfixturevalue(fixture)
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(live_server)
    expect(page.get_by_test_id("prediction")).to_have_attribute("data-seq", re.compile(r"^\d+$"), timeout=TIMEOUT_MS)
    expect(page.locator("body")).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)
    return context, page


# Each edition of the page: id -> (opener(browser, request) -> (context, page), the page open
# and its first analysis shown; what shows that its parts have loaded, as LOADED).
PAGES = {"flask": (open_flask_page, LOADED),
         "static": (lambda browser, request: open_flask_page(browser, request, "static_site"), LOADED)}


@pytest.mark.parametrize(("opener", "loaded"), list(PAGES.values()), ids=list(PAGES))
def test_no_serious_or_critical_accessibility_violation(browser, request, opener, loaded):
    axe_source = require_axe()
    context, page = opener(browser, request)
    try:
        wait_until_loaded(page, loaded)
        violations = axe_violations(page, axe_source)
    finally:
        context.close()
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    if blocking:
        pytest.fail(f"axe-core ({', '.join(WCAG_TAGS)}) finds {len(blocking)} serious or critical "
                    f"violation{'s' if len(blocking) != 1 else ''}:\n{describe(blocking)}", pytrace=False)
