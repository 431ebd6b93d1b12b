"""The documentation holds: the README stays a newcomer's page, its figures are the measured ones,
docs/results.md is what the committed tables say, and every link leads somewhere."""
from __future__ import annotations

import re

import pytest

from studies import report
from support.digits import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DOCS = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md")), PROJECT_ROOT / "bench" / "README.md"]


def test_the_readme_is_a_front_page():
    text = README.read_text()
    assert len(text.splitlines()) <= 150
    assert "make run" in text and "make test" in text and "make site" in text
    assert (PROJECT_ROOT / "docs" / "screenshot.png").stat().st_size > 20_000


def test_results_md_is_what_the_committed_tables_say():
    assert (PROJECT_ROOT / "docs" / "results.md").read_text() == report.report(), \
        "docs/results.md is out of date: run `python -m studies.report`"


def test_the_readmes_figures_are_the_measured_ones():
    """Every percentage the README quotes (but the paper's) is one docs/results.md reports."""
    text, results = README.read_text(), (PROJECT_ROOT / "docs" / "results.md").read_text()
    quoted = [m for m in re.finditer(r"(\d+\.\d+)(%| points)", text) if "paper" not in text[m.start() - 12:m.start()]]
    assert len(quoted) >= 8
    missing = [m.group(0) for m in quoted if m.group(1) not in results]
    assert not missing, f"the README quotes figures docs/results.md does not have: {missing}"


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of a markdown file."""
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.+)$", markdown, flags=re.M)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_link_leads_somewhere_and_no_private_path_is_named(doc):
    text = doc.read_text()
    assert "../shared" not in text
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        assert file.exists(), f"{doc.name}: {target} leads nowhere"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file.read_text()), f"{doc.name}: {target} has no such heading"
