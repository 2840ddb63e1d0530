"""The GitHub Actions workflow that publishes the site (.github/workflows/pages.yml).

It cannot run here, so it is checked for what can go wrong offline:

* it is a valid workflow (check-jsonschema with GitHub's workflow schema, which ships inside
  the pinned package: no network), and the same linter rejects a broken copy;
* every action is pinned by a full commit SHA;
* the build job runs the Makefile (the command a person runs), keeps the execution cache
  where _config.yml puts it, and uploads the folder that command fills;
* and that command, run as the workflow runs it (``bash -e``) in a copy of the repository at a
  path with a space in it, builds the site: every page of _toc.yml and the grader's wheel.
  The copy reuses this checkout's installed .venv (the workflow installs it with the same
  ``make`` targets) and its execution cache (which actions/cache restores there).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from sitebook import ROOT, toc_pages

pytestmark = pytest.mark.slow

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"
CHECK_JSONSCHEMA = ROOT / ".venv" / "bin" / "check-jsonschema"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def _workflow() -> dict:
    """The workflow as GitHub reads it (YAML 1.1 reads the key ``on`` as true: put it back)."""
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def _lint(path: Path) -> subprocess.CompletedProcess[str]:
    command = [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def _steps(job: str) -> list[dict]:
    return _workflow()["jobs"][job]["steps"]


def _build_commands() -> list[str]:
    return [step["run"] for step in _steps("build") if "run" in step]


def test_workflow_is_valid_for_github():
    result = _lint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_rejects_a_broken_workflow(tmp_path: Path):
    copy = tmp_path / "copy.yml"
    copy.write_text(yaml.safe_dump(_workflow()), encoding="utf-8")
    assert _lint(copy).returncode == 0, "the workflow, written back, should still pass"
    for breakage in ("no runs-on", "uses not a string"):
        broken = _workflow()
        if breakage == "no runs-on":
            del broken["jobs"]["build"]["runs-on"]
        else:
            broken["jobs"]["deploy"]["steps"][0]["uses"] = {"not": "a string"}
        path = tmp_path / "pages.yml"
        path.write_text(yaml.safe_dump(broken), encoding="utf-8")
        assert _lint(path).returncode != 0, f"the linter accepted a workflow with {breakage}"


def test_every_action_is_pinned_by_commit_sha():
    uses = [step["uses"] for job in _workflow()["jobs"].values() for step in job["steps"] if "uses" in step]
    assert uses, "the workflow uses no action"
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), f"not pinned by a full commit SHA: {action}"


def test_the_workflow_builds_with_the_makefile_and_publishes_its_output():
    assert _build_commands() == ["make book"]
    cache = [step for step in _steps("build") if step.get("uses", "").startswith("actions/cache@")]
    assert len(cache) == 1 and Path(cache[0]["with"]["path"]) == Path(CONFIG["execute"]["cache"])
    upload = [step for step in _steps("build") if step.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert len(upload) == 1 and Path(upload[0]["with"]["path"]) == Path("_build/html")
    deploy = _workflow()["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(step.get("uses", "").startswith("actions/deploy-pages@") for step in deploy["steps"])
    assert _workflow()["on"]["push"]["branches"] == ["main"]


def _copy_checkout(destination: Path) -> None:
    """The files git tracks or would track (the working tree as committed, plus new files)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def test_the_workflow_s_command_builds_the_site_from_a_path_with_a_space(tmp_path: Path):
    checkout = tmp_path / "course site" / "activations"
    _copy_checkout(checkout)
    (checkout / ".venv").symlink_to(ROOT / ".venv")
    cache = ROOT / CONFIG["execute"]["cache"]
    if cache.is_dir():
        shutil.copytree(cache, checkout / CONFIG["execute"]["cache"])
    env = {key: value for key, value in os.environ.items() if key != "MAKEFLAGS"}
    for command in _build_commands():
        result = subprocess.run(
            ["bash", "-e", "-c", command],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        assert result.returncode == 0, f"{command!r} failed:\n{(result.stdout + result.stderr)[-4000:]}"
    html = checkout / "_build" / "html"
    missing = [page for page in toc_pages() if not (html / f"{page}.html").is_file()]
    assert missing == [], f"pages the workflow would not publish: {missing}"
    assert (html / "index.html").is_file()
    assert len(list(html.glob("actgrader-*.whl"))) == 1
