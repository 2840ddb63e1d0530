"""`make test` runs two pytest processes side by side (tools/run_tests.py): both report, and
either one failing fails the whole."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import run_tests  # tools/ is not a package


def _suite(root: Path, name: str, body: str) -> run_tests.Suite:
    folder = root / name
    folder.mkdir()
    (folder / f"test_{name}.py").write_text(f"def test_{name}():\n    {body}\n")
    return run_tests.Suite(name, (name, "-p", "no:cacheprovider"))


@pytest.mark.parametrize("failing", [None, "first", "beside"])
def test_both_suites_report_and_either_failure_fails(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], failing: str | None
):
    first = _suite(tmp_path, "first", "assert 'first' != " + repr(failing))
    beside = _suite(tmp_path, "beside", "assert 'beside' != " + repr(failing))
    status = run_tests.run_side_by_side([first, beside], cwd=tmp_path)
    out = capfd.readouterr().out
    assert (status == 0) == (failing is None)
    # Each suite's own summary is printed, the one run beside after the first's.
    first_at, beside_at = out.index("test_first.py"), out.index("test_beside.py")
    assert first_at < out.index("the beside tests (run beside the first tests)") < beside_at
    for name in ("first", "beside"):
        verdict = f"{name} tests FAILED" if name == failing else f"{name} tests passed"
        assert verdict in out.splitlines()[-1]


def test_the_default_split_runs_each_test_folder_in_one_process():
    main, beside = run_tests.default_suites()
    folders = [run_tests.NBGRADER_TESTS, run_tests.SITE_TESTS]
    assert main.args == ("tests", *(f"--ignore={folder}" for folder in folders))
    assert beside.args[:2] == tuple(folders)
    assert all(
        (run_tests.ROOT / folder / "conftest.py").exists() or (run_tests.ROOT / folder).is_dir() for folder in folders
    )
