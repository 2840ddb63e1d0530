"""grader/README.md documents the command as it is: its ``## Command line`` section is ``actgrade --help``.

The section between the markers below is generated from the installed command's help texts
(80 columns). When an option changes, regenerate it with

    .venv/bin/python tests/batch/test_batch_readme.py --write

and this test fails until then.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "grader" / "README.md"
ACTGRADE = Path(sys.executable).parent / "actgrade"
BEGIN = "<!-- BEGIN GENERATED: actgrade --help (tests/batch/test_batch_readme.py --write) -->"
END = "<!-- END GENERATED: actgrade --help -->"
COMMANDS: tuple[tuple[str, ...], ...] = ((), ("grade",), ("gradescope",), ("gradescope-run",))


def help_text(command: tuple[str, ...]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTGRADER")} | {"COLUMNS": "80"}
    done = subprocess.run([str(ACTGRADE), *command, "--help"], env=env, capture_output=True, text=True, check=True)
    return done.stdout.rstrip() + "\n"


def generated_section() -> str:
    parts = [BEGIN, ""]
    for command in COMMANDS:
        name = " ".join(("actgrade", *command))
        parts += [f"### `{name}`", "", "```text", help_text(command).rstrip(), "```", ""]
    parts.append(END)
    return "\n".join(parts)


def current_section(text: str) -> str:
    match = re.search(re.escape(BEGIN) + r".*?" + re.escape(END), text, re.S)
    assert match, f"grader/README.md has no generated command-line section ({BEGIN})"
    return match.group(0)


def write() -> None:
    text = README.read_text(encoding="utf-8")
    README.write_text(text.replace(current_section(text), generated_section()), encoding="utf-8")


def test_the_command_line_section_is_the_commands_help():
    text = README.read_text(encoding="utf-8")
    assert "\n## Command line\n" in text
    assert current_section(text) == generated_section(), "regenerate: python tests/batch/test_batch_readme.py --write"


def test_every_subcommand_is_documented():
    top = help_text(())
    listed = re.findall(r"^    (\S+)\s", top.split("positional arguments:")[1], re.M)
    assert sorted(listed) == sorted(c[0] for c in COMMANDS if c)


def test_the_readme_has_a_sandbox_section_with_the_known_differences_from_nbgrader():
    text = README.read_text(encoding="utf-8")
    assert "\n## Sandbox\n" in text
    sandbox = text.split("\n## Sandbox\n")[1].split("\n## ")[0]
    for topic in ("audit hook", "without root", "namespace", "nbgrader", "cells you add"):
        assert topic in sandbox.lower(), topic


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(generated_section())
