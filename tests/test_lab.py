"""``make lab`` as a learner meets it, short of a browser: the command, and what Lab and its server load."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import lab  # noqa: E402 - tools/ is not a package

JUPYTER = str(Path(sys.executable).parent / "jupyter")
INSTRUCTOR_PLUGINS = ("assignment-list", "course-list", "create-assignment", "formgrader", "menu")
INSTRUCTOR_SERVER = ("assignment_list", "course_list", "formgrader")


def test_make_lab_runs_the_lab_script():
    done = subprocess.run(["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "tools/lab.py" in done.stdout


@pytest.mark.parametrize("uid", [0, 1000])
def test_root_gets_allow_root_and_nobody_else(uid):
    argv = lab.lab_argv(JUPYTER, uid)
    assert argv[:3] == [JUPYTER, "lab", str(REPO / "exercises")]
    assert ("--allow-root" in argv) == (uid == 0)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = lab.lab_environment({"PATH": str(Path(sys.executable).parent), "HOME": tempfile.gettempdir()})
    return subprocess.run(args, env=env, capture_output=True, text=True, check=True, timeout=300)


def test_the_learners_lab_hides_nbgraders_instructor_tools_and_keeps_validate():
    listing = _run([JUPYTER, "labextension", "list"])
    text = listing.stdout + listing.stderr
    disabled = text.split("Disabled extensions:", 1)[1].split()
    assert sorted(d for d in disabled if d.startswith("@jupyter/nbgrader:")) == sorted(
        f"@jupyter/nbgrader:{p}" for p in INSTRUCTOR_PLUGINS
    )
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
    assert "@jupyter/nbgrader v" in text  # the package itself stays: it carries the Validate button


def test_the_learners_server_loads_validate_and_no_instructor_extension():
    """The merge Jupyter Server does at start-up (ServerApp.find_server_extensions), under make lab's environment."""
    script = (
        "import json; from jupyter_core.paths import jupyter_config_path; "
        "from jupyter_server.extension.config import ExtensionConfigManager; "
        "print(json.dumps(ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()))"
    )
    extensions = json.loads(_run([sys.executable, "-c", script]).stdout)
    assert extensions["nbgrader.server_extensions.validate_assignment"] is True
    for name in INSTRUCTOR_SERVER:
        assert extensions[f"nbgrader.server_extensions.{name}"] is False, name
    assert extensions["jupyterlab"] is True
