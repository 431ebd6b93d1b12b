"""The GitHub Pages workflow (.github/workflows/pages.yml) that publishes the static edition.

It cannot run here, so it is checked offline: against the workflow schema that check-jsonschema
bundles (SchemaStore's), and against the project it builds: the command, the folder, the Python.
"""
from __future__ import annotations

import re
import subprocess
import sys

import yaml

from static_site.build import SITE
from support.digits import PROJECT_ROOT

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "pages.yml"


def schema_errors(path) -> str:
    """check-jsonschema's complaints about `path` as a GitHub workflow ('' when it is valid)."""
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True, text=True, timeout=60)
    return "" if done.returncode == 0 else done.stdout + done.stderr


def workflow() -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on".
    return {("on" if key is True else key): value for key, value in yaml.safe_load(WORKFLOW.read_text()).items()}


def test_the_workflow_is_valid_by_the_schema_and_the_schema_rejects_a_broken_one(tmp_path):
    assert schema_errors(WORKFLOW) == ""
    broken = tmp_path / "pages.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on:", "runs_on:", 1))
    assert "runs-on" in schema_errors(broken)


def test_the_workflow_builds_with_make_site_and_publishes_the_folder_it_writes():
    flow = workflow()
    assert flow["on"]["push"]["branches"] == ["main"]
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build = flow["jobs"]["build"]["steps"]
    runs = [step["run"] for step in build if "run" in step]
    assert runs == ["make site"]
    assert re.search(r"^site:", (PROJECT_ROOT / "Makefile").read_text(), re.M)
    upload = next(step for step in build if step.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert PROJECT_ROOT / upload["with"]["path"] == SITE
    python = next(step for step in build if step.get("uses", "").startswith("actions/setup-python@"))
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert f"FROM python:{python['with']['python-version']}-" in dockerfile
    deploy = flow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]
