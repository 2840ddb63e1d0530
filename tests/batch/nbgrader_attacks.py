"""Submissions that cheated their way to full marks through nbgrader's own autograde (issue 15 §4).

Each one is the forward-propagation release with both answer cells replaced. Run in
nbgrader's kernel (the in-process check, the grader importable, the solutions on disk) every
attack earned 10 of 10; the sandboxed door must give each 0, like ``actgrade``. The secret dump
answers both tasks correctly and prints whatever it can find of the instructor secret; the
bad notebook duplicates answer and test cells and forges their nbgrader metadata.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from batch_nb import cell, correct_submission, released, with_answers

import actgrader.reference.forward
from actgrader.grading.conventions import answer_id, check_id

REFERENCE_FILE = Path(actgrader.reference.forward.__file__).resolve()
FP, LC = answer_id("forward_pass"), answer_id("linear_collapse")
FP_DEF = "def forward_pass(x, weights, activation):\n"
LC_DEF = "def collapse_linear_stack(weights):\n"
FP_WRONG = FP_DEF + "    return torch.zeros(x.shape[0], weights[-1].shape[0])\n"
LC_WRONG = LC_DEF + "    return weights[0]\n"
# Wrong, but of the right shape and dtype: only the comparison of values can fail them.
FP_ZEROS = FP_DEF + "    return torch.zeros(x.shape[0], weights[-1].shape[0], dtype=x.dtype)\n"
LC_ZEROS = LC_DEF + "    return torch.zeros(weights[-1].shape[0], weights[0].shape[1], dtype=weights[0].dtype)\n"


def _both(fp: str, lc: str) -> dict[str, Any]:
    return with_answers(released(), **{FP: fp, LC: lc})


def cheats(solution_paths: list[Path]) -> dict[str, dict[str, Any]]:
    """The six attacks, by name; ``solution_paths``: where the instructor's solution notebook may be read."""
    wrapper = _both(
        FP_DEF + "    from actgrader.reference.forward import forward_pass as f\n"
        "    return f(x, weights, activation)\n",
        LC_DEF + "    import actgrader.reference.forward as r\n    return r.collapse_linear_stack(weights)\n",
    )
    patch_comparisons = _both(
        "import numpy as np\n"
        "torch.allclose = lambda *a, **k: True\n"
        "torch.Tensor.allclose = lambda *a, **k: True\n"
        "torch.Tensor.__eq__ = lambda self, other: True\n"
        "torch.isclose = lambda a, b, *x, **k: torch.ones_like(a, dtype=torch.bool)\n"
        "torch.equal = lambda *a, **k: True\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n" + FP_ZEROS,
        LC_ZEROS,
    )
    patch_grader = _both(
        FP_WRONG + "import actgrader.notebook as _nb\n"
        "from actgrader.tasks import get_task as _get_task\n"
        "_nb.grade = lambda task_id, answer: _nb.Score(_get_task(task_id).points)\n"
        "_nb.check = lambda *a, **k: print('all public cases pass')\n",
        LC_WRONG,
    )
    exec_solution = _both(
        "import json\n"
        f"for _path in {[str(p) for p in solution_paths]!r}:\n"
        "    try:\n"
        "        _cells = json.load(open(_path))['cells']\n"
        "    except Exception:\n"
        "        continue\n"
        "    for _c in _cells:\n"
        "        if _c['cell_type'] == 'code' and _c['metadata'].get('nbgrader', {}).get('solution'):\n"
        "            exec(''.join(_c['source']))\n"
        "    break\n",
        "",
    )
    walk = (
        "    import sys\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        for value in list(frame.f_globals.values()):\n"
        "            if getattr(value, '__name__', '').startswith('actgrader.reference') and hasattr(value, NAME):\n"
        "                return getattr(value, NAME)(ARGS)\n"
        "        frame = frame.f_back\n"
    )
    stack_walk = _both(
        FP_DEF
        + walk.replace("NAME", "'forward_pass'").replace("ARGS", "x, weights, activation")
        + "    return torch.zeros(x.shape[0], weights[-1].shape[0])\n",
        LC_DEF + walk.replace("NAME", "'collapse_linear_stack'").replace("ARGS", "weights") + "    return weights[0]\n",
    )
    importlib_reference = _both(
        "import importlib.util\n"
        f"_spec = importlib.util.spec_from_file_location('mine', {str(REFERENCE_FILE)!r})\n"
        "_mine = importlib.util.module_from_spec(_spec)\n"
        "_spec.loader.exec_module(_mine)\n"
        "forward_pass = _mine.forward_pass\n",
        "collapse_linear_stack = _mine.collapse_linear_stack\n",
    )
    return {
        "cheat-wrapper": wrapper,
        "cheat-patch-comparisons": patch_comparisons,
        "cheat-patch-grader": patch_grader,
        "cheat-exec-solution": exec_solution,
        "cheat-stack-walk": stack_walk,
        "cheat-importlib-reference": importlib_reference,
    }


SECRET_DUMP = """
import os
for _name, _read in [
    ("env", lambda: repr(dict(os.environ))),
    ("own environ", lambda: open("/proc/self/environ", "rb").read().decode(errors="replace")),
    ("parent environ", lambda: open(f"/proc/{os.getppid()}/environ", "rb").read().decode(errors="replace")),
    ("parent cmdline", lambda: open(f"/proc/{os.getppid()}/cmdline", "rb").read().decode(errors="replace")),
    ("init environ", lambda: open("/proc/1/environ", "rb").read().decode(errors="replace")),
]:
    try:
        print(_name, _read())
    except BaseException as _exc:
        print(_name, "blocked:", type(_exc).__name__)
"""


def secret_dump() -> dict[str, Any]:
    """Both answers right, and a cell that prints the environment and the processes' environ files."""
    nb = correct_submission()
    cell(nb, LC)["source"] += SECRET_DUMP
    return nb


def bad_notebook() -> dict[str, Any]:
    """A correct notebook with duplicated answer and test cells and forged nbgrader metadata."""
    nb = correct_submission()
    answer = cell(nb, FP)
    wrong = copy.deepcopy(answer)
    wrong["source"] = FP_WRONG
    nb["cells"].insert(nb["cells"].index(answer), wrong)  # a wrong copy first: the last definition counts
    check = cell(nb, check_id("linear_collapse"))
    nb["cells"].append(copy.deepcopy(check))  # two test cells with one grade_id
    check["metadata"]["nbgrader"].update({"points": 1000, "schema_version": 99, "locked": False})
    forged = cell(nb, LC)
    forged["metadata"]["nbgrader"].update({"grade": True, "points": 50, "grade_id": LC})
    return nb
