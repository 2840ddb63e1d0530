"""ruff is part of the test suite: lint and formatting of every Python file we own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUFF = Path(sys.executable).with_name("ruff")
TARGETS = [p for p in ("grader", "tests", "tools", "bench") if (ROOT / p).exists()]


def test_ruff_check():
    result = subprocess.run(
        [RUFF, "check", "--output-format", "concise", *TARGETS], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = subprocess.run([RUFF, "format", "--check", *TARGETS], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
