"""check() and grade() as a learner and nbgrader meet them."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from actgrader import links, notebook
from actgrader.grading.secret import SECRET_ENV
from actgrader.reference import forward as ref
from actgrader.tasks import UnknownTask, get_task


def _my_forward(x, weights, activation):
    h = x
    for k, w in enumerate(weights):
        h = h @ w.T
        if k < len(weights) - 1:
            h = activation(h)
    return h


def test_check_prints_public_verdict_and_never_claims_all_tests(capsys):
    notebook.check("forward_pass", _my_forward)
    out = capsys.readouterr().out
    task = get_task("forward_pass")
    assert out.startswith(f"forward_pass: all {len(task.cases) - sum(c.hidden for c in task.cases)} public cases pass.")
    assert "all tests passed" not in out.lower()
    assert "Hidden cases" in out and "run only when your work is graded" in out
    for case in task.cases:
        if case.hidden:
            assert case.title not in out  # hidden cases are never described


def test_grade_returns_a_number_nbgrader_can_read(monkeypatch, capsys):
    monkeypatch.setenv(SECRET_ENV, "a secret for tests")
    score = notebook.grade("forward_pass", _my_forward)
    assert float(repr(score)) == get_task("forward_pass").points
    out = capsys.readouterr().out
    assert "hidden cases 2/2 pass" in out


def test_grade_without_secret_says_public_only(monkeypatch, capsys):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.delenv("ACTGRADER_SECRET_FILE", raising=False)
    score = notebook.grade("forward_pass", _my_forward)
    assert float(score) == get_task("forward_pass").public_points
    assert "public cases only" in capsys.readouterr().out


def test_handing_in_the_reference_implementation_earns_nothing(monkeypatch, capsys):
    monkeypatch.setenv(SECRET_ENV, "a secret for tests")
    assert float(notebook.grade("forward_pass", ref.forward_pass)) == 0
    assert "reference implementation" in capsys.readouterr().out


def test_warnings_and_stderr_from_learner_code_do_not_leak(capsys):
    # nbgrader scores a test cell 0 when anything reaches stderr.
    def noisy(x, weights, activation):
        warnings.warn("careful", UserWarning, stacklevel=1)
        import sys

        print("debug print", file=sys.stderr)
        return _my_forward(x, weights, activation)

    notebook.check("forward_pass", noisy)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "debug print" not in captured.out


def test_learner_receives_copies_not_the_checks_tensors(capsys):
    def mutating(x, weights, activation):
        for w in weights:
            w.zero_()
        return torch.zeros(x.shape[0], 1)

    notebook.check("forward_pass", mutating)  # must not crash nor corrupt the reference values
    assert "0 of" in capsys.readouterr().err


def test_unknown_task_ids_are_explained():
    with pytest.raises(UnknownTask, match="known tasks"):
        notebook.check("no_such_task", _my_forward)


def _relu_whatever_the_activation(x, weights, activation):
    h = x
    for w in weights[:-1]:
        h = torch.relu(h @ w.T)
    return h @ weights[-1].T


def test_readme_shows_what_check_prints(monkeypatch, capsys):
    """The self-check output quoted in README.md is what check() prints for that wrong answer."""
    monkeypatch.delenv(links.BOOK_URL_ENV, raising=False)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "applies ReLU\nwhatever activation it is given" in readme
    quoted = readme.split("forward_pass: ", 1)[1].split("\n```", 1)[0]
    notebook.check("forward_pass", _relu_whatever_the_activation)
    assert capsys.readouterr().err.rstrip("\n") == "forward_pass: " + quoted


def test_a_failed_check_goes_to_stderr_and_a_passed_one_to_stdout(capsys):
    """nbgrader's Validate fails a test cell that wrote to stderr and shows what it wrote."""
    notebook.check("forward_pass", _relu_whatever_the_activation)
    failed = capsys.readouterr()
    assert failed.out == "" and failed.err.startswith("forward_pass: 1 of 3 public cases pass.")
    notebook.check("forward_pass", _my_forward)
    passed = capsys.readouterr()
    assert passed.err == "" and passed.out.startswith("forward_pass: all 3 public cases pass.")


def test_every_line_of_a_verdict_breaks_between_words(capsys):
    """No line is longer than the wrapping width unless it is one unbreakable word (a link)."""
    from actgrader.grading.verdict import WIDTH

    for task_id, answer in (("forward_pass", _relu_whatever_the_activation), ("linear_collapse", lambda w: w[0])):
        notebook.check(task_id, answer)
        text = capsys.readouterr().err
        long_lines = [line for line in text.splitlines() if len(line) > WIDTH]
        assert all(len(line.split()) == 1 or line.split()[0] == "Read:" for line in long_lines), long_lines
        assert any(line.startswith("      ") for line in text.splitlines()[2:]), text


def _stub(x):
    """A docstring and a comment do not count."""
    # YOUR CODE HERE
    raise NotImplementedError()


def _started(x):
    print(x)
    raise NotImplementedError()


def test_unwritten_tells_the_releases_stub_from_a_started_function():
    assert notebook.unwritten(_stub)
    assert not notebook.unwritten(_started)
    assert not notebook.unwritten(_my_forward)
    assert not notebook.unwritten(len)
    assert not notebook.unwritten(None)


def test_grade_refuses_to_run_inside_nbgraders_own_autograde(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(RuntimeError, match="nbgrader_door"):
        notebook.grade("forward_pass", _my_forward)
