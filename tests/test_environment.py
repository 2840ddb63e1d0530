"""requirements.txt is the single list; environment.yml and constraints.txt must agree with it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{line} is not an exact pin"
            pins[req.name.lower()] = spec.version
    return pins


def test_environment_yml_lists_exactly_the_requirements():
    requirements = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == requirements
    assert "-e ./grader" in pip_section
    assert "-c constraints.txt" in pip_section  # every transitive version, as `make env`
    assert "python=3.11" in env["dependencies"]


def test_environment_yml_is_what_the_generator_writes():
    result = subprocess.run([sys.executable, "tools/sync_environment.py", "--check"], cwd=ROOT)
    assert result.returncode == 0


def test_constraints_pin_every_requirement_to_the_same_version():
    requirements = _pins((ROOT / "requirements.txt").read_text().splitlines())
    constraints = _pins((ROOT / "constraints.txt").read_text().splitlines())
    for name, version in requirements.items():
        assert constraints.get(name) == version, f"constraints.txt pins {name} differently"


def test_torch_is_pinned_to_the_cpu_build_everywhere():
    # A range that admits a newer torch would pull the CUDA build (gigabytes).
    requirements = _pins((ROOT / "requirements.txt").read_text().splitlines())
    assert requirements["torch"] == "2.13.0"
    project = tomllib.loads((ROOT / "grader" / "pyproject.toml").read_text())["project"]
    torch_req = next(Requirement(d) for d in project["dependencies"] if d.startswith("torch"))
    assert torch_req.specifier.contains("2.13.0")
    assert not torch_req.specifier.contains("2.13.1") and not torch_req.specifier.contains("2.14.0")


def test_grader_dependencies_are_satisfied_by_the_pins():
    constraints = _pins((ROOT / "constraints.txt").read_text().splitlines())
    project = tomllib.loads((ROOT / "grader" / "pyproject.toml").read_text())["project"]
    for dep in project["dependencies"]:
        req = Requirement(dep)
        pinned = constraints.get(req.name.lower())
        assert pinned is not None, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(Version(re.sub(r"\+.*$", "", pinned))), f"{dep} vs {pinned}"
