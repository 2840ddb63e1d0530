"""``make lab``: JupyterLab on the exercises, with what helps a learner and nothing more.

nbgrader installs its instructor tools into every JupyterLab of the environment (Create
Assignment, formgrader, the course and assignment lists, and a menu for them). A learner
needs none of them: Lab starts with the project's own Jupyter configuration folder,
``tools/lab/jupyter``, ahead of the environment's (``JUPYTER_PREFER_ENV_PATH=0``), which
disables those lab extensions (``labconfig/page_config.json``) and server extensions
(``jupyter_server_config.json``) and keeps nbgrader's Validate button. The learner's own Lab
settings and workspaces stay where Lab keeps them by default (``~/.jupyter/lab``).

As root (a container, a cloud machine) Jupyter refuses to start without ``--allow-root``;
``make lab`` adds it then.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / "tools" / "lab" / "jupyter"
EXERCISES = REPO / "exercises"


def lab_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The environment Lab runs in: ``base`` with the project's Jupyter configuration first."""
    home = Path(base.get("HOME", str(Path.home())))
    env = dict(base)
    env["JUPYTER_CONFIG_DIR"] = str(CONFIG_DIR)
    env["JUPYTER_PREFER_ENV_PATH"] = "0"
    env.setdefault("JUPYTERLAB_SETTINGS_DIR", str(home / ".jupyter" / "lab" / "user-settings"))
    env.setdefault("JUPYTERLAB_WORKSPACES_DIR", str(home / ".jupyter" / "lab" / "workspaces"))
    return env


def lab_argv(jupyter: str, uid: int) -> list[str]:
    """The command that starts Lab on the exercises; ``--allow-root`` when run by root (uid 0)."""
    argv = [jupyter, "lab", str(EXERCISES)]
    if uid == 0:
        argv.append("--allow-root")
    return argv


def main() -> None:
    jupyter = str(Path(sys.executable).parent / "jupyter")
    argv = lab_argv(jupyter, os.getuid())
    os.execve(jupyter, argv, lab_environment(os.environ))


if __name__ == "__main__":
    main()
