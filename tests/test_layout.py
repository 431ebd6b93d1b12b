"""The folder tree is the architecture: each package imports only the roles below it, no module
imports itself round a circle (imports inside functions included), no folder grows past about
twenty source files and no page script past about 250 lines."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from support.digits import PROJECT_ROOT

# What each package may import from the project (besides itself): the layers, bottom up.
ALLOWED = {
    "model": set(),
    "datasets": {"model"},
    "training": {"model", "datasets"},
    "studies": {"model", "datasets", "training"},
    "app": {"model", "datasets", "studies"},
    "tools": {"app"},
    "static_site": {"model", "datasets", "studies", "app"},
}
PACKAGES = sorted(ALLOWED)
MAX_FILES = 20
MAX_JS_LINES = 250


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project's modules that `path` imports, anywhere in it (in functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


GRAPH = {name: imports_of(path, set(modules())) for name, path in modules().items()}


def test_every_package_imports_only_the_layers_below_it():
    wrong = [f"{module} imports {target}" for module, targets in GRAPH.items() for target in targets
             if target.split(".")[0] != module.split(".")[0]
             and target.split(".")[0] not in ALLOWED[module.split(".")[0]]]
    assert not wrong, wrong


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target] if target in path else [*path, target]
            if target not in state:
                cycle = visit(target, [*path, target])
                if cycle:
                    return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def test_no_module_imports_itself_round_a_circle():
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH))


def test_the_cycle_finder_finds_a_lazy_circle():
    """model/checkpoint -> zoo -> evaluate -> checkpoint, as it was before the layout by role."""
    circle = {"model.checkpoint": {"model.zoo"}, "model.zoo": {"model.evaluate"},
              "model.evaluate": {"model.checkpoint"}, "model.capsnet": set()}
    assert find_cycle(circle) == ["model.checkpoint", "model.zoo", "model.evaluate", "model.checkpoint"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("folder", [*PACKAGES, "web", "tests", "bench"])
def test_no_folder_holds_more_than_about_twenty_source_files(folder):
    for directory in [PROJECT_ROOT / folder, *(p for p in (PROJECT_ROOT / folder).rglob("*") if p.is_dir())]:
        sources = [p for p in directory.iterdir() if p.suffix in (".py", ".js", ".html")]
        assert len(sources) <= MAX_FILES, f"{directory.relative_to(PROJECT_ROOT)}: {len(sources)} source files"


def test_no_page_script_is_longer_than_about_250_lines():
    long = {str(p.relative_to(PROJECT_ROOT)): n for p in (PROJECT_ROOT / "web").rglob("*.js")
            if "vendor" not in p.parts and (n := len(p.read_text().splitlines())) > MAX_JS_LINES}
    assert not long, long


def declared_ids(templates) -> set[str]:
    return {i for t in templates for i in re.findall(r'\bid="([\w-]+)"', t.read_text())}


def looked_up_ids(script: Path) -> set[str]:
    """The ids a script finds: $('id'), getElementById('id'), or a byId({name: 'id'}) map."""
    text = script.read_text()
    found = set(re.findall(r"(?:\$|getElementById)\('([\w-]+)'\)", text))
    for block in re.findall(r"byId\(\{(.*?)\}\)", text, flags=re.S):
        found |= set(re.findall(r"'([\w-]+)'", block))
    return found


def test_each_section_keeps_its_markup_beside_its_scripts():
    """web/index.html includes one template per section folder; a script finds by id only what
    its own section's templates declare (a shared script, only what index.html does). The roots
    of the sections (<section id>) are the page's structure, which any script may name."""
    web = PROJECT_ROOT / "web"
    page = (web / "index.html").read_text()
    included = set(re.findall(r'{% include "sections/([\w-]+)/[\w-]+\.html" %}', page))
    folders = {p.name: p for p in (web / "sections").iterdir() if p.is_dir()}
    assert included == set(folders)
    roots = {i for p in folders.values() for t in p.glob("*.html")
             for i in re.findall(r'<section[^>]*\bid="([\w-]+)"', t.read_text())}
    page_ids = declared_ids([web / "index.html"])
    wrong = {}
    for script in web.rglob("*.js"):
        if "vendor" in script.parts:
            continue
        own = declared_ids(script.parent.glob("*.html")) if script.parent.parent == web / "sections" else page_ids
        stray = looked_up_ids(script) - own - roots
        if stray:
            wrong[str(script.relative_to(web))] = sorted(stray)
    assert not wrong, wrong
    # the check itself: a section script reaching into another section is caught
    assert looked_up_ids(web / "sections" / "recon" / "elements.js") >= {"reconstruction", "mistake-pair"}
