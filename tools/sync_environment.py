"""Generate environment.yml (for conda users) from requirements.txt, the single list.

    python tools/sync_environment.py          # rewrite environment.yml
    python tools/sync_environment.py --check  # exit 1 if environment.yml is out of date

Every requirement goes into the pip section with its exact pin, and constraints.txt fixes every
transitive version, so conda and pip users get the same versions; conda itself only provides
Python, pip and Node.js (for the site's JavaScript).
Runs with the standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
ENVIRONMENT = ROOT / "environment.yml"
PYTHON_VERSION = "3.11"
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)$")


def read_requirements(path: Path = REQUIREMENTS) -> list[tuple[str, str]]:
    """The (name, version) pairs of ``path``; every line must be an exact pin."""
    pins = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _REQUIREMENT.match(line)
        if match is None:
            raise ValueError(f"{path.name}:{number}: {line!r} is not an exact pin (name==version)")
        pins.append((match.group(1), match.group(2)))
    return pins


def render_environment(pins: list[tuple[str, str]]) -> str:
    lines = [
        "# Generated from requirements.txt by tools/sync_environment.py: do not edit by hand.",
        "# conda env create -f environment.yml && conda activate activations",
        "name: activations",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={PYTHON_VERSION}",
        "  - pip",
        "  - nodejs",
        "  - pip:",
    ]
    lines += [f"      - {name}=={version}" for name, version in pins]
    # The same transitive versions as `make env` (pip reads the section as a requirements file
    # written beside environment.yml, so the relative paths resolve from the repository root).
    lines += ["      - -c constraints.txt", "      - -e ./grader"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether environment.yml is current")
    args = parser.parse_args(argv)
    wanted = render_environment(read_requirements())
    if args.check:
        if ENVIRONMENT.exists() and ENVIRONMENT.read_text() == wanted:
            return 0
        print("environment.yml is out of date: run python tools/sync_environment.py", file=sys.stderr)
        return 1
    ENVIRONMENT.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
