"""Benchmarks: how fast the course builds, runs and grades (``make bench``).

Prints one table and writes it to ``bench/RESULTS.md`` with the machine it ran on. Every
comparison measures both sides in the same run and reports their ratio, because absolute
times on a shared machine drift. Targets sit beside each figure; a figure that misses its
target is marked.

    .venv/bin/python bench/run.py               # everything (about 10 minutes on 2 cores)
    .venv/bin/python bench/run.py --skip-build  # notebooks, self-checks and grading only
    .venv/bin/python bench/run.py --small       # a smoke run: one chapter, one notebook, small grading batch

Figures:
* cold book build (every chapter executed, in a fresh copy of the tree) ÷ executing the same
  notebooks alone with nbclient (target ≤ 1.3), and a rebuild with nothing changed (< 10 s);
* each chapter's and each solution notebook's execution time (targets 20 s and 15 s);
* the self-check of each task (< 1 s);
* grading (``bench/grading.py``): actgrade ÷ nbgrader autograde on the same submissions
  (≤ 0.33), submissions per minute, per-submission overhead (< 0.3 s), peak RSS of a worker;
* peak memory (largest process) of the build;
* page weight in Chromium (``tools/site/page_weight.py``, on the built site): each page's first
  visit, gzipped, with an empty cache (≤ 1,500 kB), and each chapter opened after the heaviest
  one (≤ 300 kB).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
JB_FLAGS = ["-W", "-n", "--keep-going"]


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    target: str = ""
    ok: bool | None = None
    note: str = ""

    def cells(self) -> list[str]:
        if self.value is None:
            shown = "n/a"
        elif self.unit == "×":
            shown = f"{self.value:.2f}×"
        elif self.unit in ("s", "MB"):
            shown = f"{self.value:.2f} {self.unit}"
        else:
            shown = f"{self.value:g} {self.unit}".strip()
        mark = "" if self.ok is None else ("ok" if self.ok else "**MISSED**")
        return [self.name, shown, self.target, mark, self.note]


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def toc_chapters() -> list[str]:
    """The pages of ``_toc.yml`` in reading order (``book/<page>`` without extension)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [c["file"] for c in part.get("chapters", [])]
    return pages


def assignments() -> list[Path]:
    return sorted(p / f"{p.name}.ipynb" for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists())


def _peak_child_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def copy_tree_for_cold_build(dest: Path) -> None:
    """A copy of the tracked and new files (no _build, no cache) with the vendored JS."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for rel in listed:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    shutil.copytree(ROOT / "_vendor", dest / "_vendor")


def time_build(tree: Path) -> tuple[float, int]:
    # From inside the tree, as `make book` runs: _config.yml's paths (the execution cache
    # _build/.jupyter_cache among them) are relative to the working directory. Run from the
    # repository instead, the copy's "cold" build read the repository's warm cache.
    start = time.perf_counter()
    result = subprocess.run([BIN / "jupyter-book", "build", ".", *JB_FLAGS], cwd=tree, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
    elif not (tree / "_build" / ".jupyter_cache").is_dir():
        print("the build wrote no execution cache inside the copied tree: it was not cold", file=sys.stderr)
        return seconds, 1
    return seconds, result.returncode


def execute_notebook(nb, cwd: Path, env: dict[str, str] | None = None) -> float:
    """Execute ``nb`` in a fresh kernel, as jupyter-book does; wall seconds including start-up."""
    import nbclient

    start = time.perf_counter()
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    client.execute(env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def read_chapter(page: str):
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook((ROOT / f"{page}.md").read_text())


def bench_chapters(pages: list[str]) -> dict[str, float]:
    times = {}
    for page in pages:
        times[page] = execute_notebook(read_chapter(page), ROOT / Path(page).parent)
        print(f"  executed {page}: {times[page]:.1f} s", file=sys.stderr)
    return times


def bench_solutions(notebooks: list[Path]) -> dict[str, float]:
    import nbformat

    env = {"ACTGRADER_SECRET": "benchmark secret, not the course's"}
    times = {}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        times[path.parent.name] = execute_notebook(nb, path.parent, env)
        print(f"  executed solutions/{path.parent.name}: {times[path.parent.name]:.1f} s", file=sys.stderr)
    return times


def bench_self_checks() -> dict[str, float]:
    """Seconds for the public cases of each task on its reference answer (what check() runs)."""
    from actgrader.grading import LocalAnswer, run_task
    from actgrader.tasks import all_tasks

    times = {}
    for task in all_tasks():
        run_task(task, LocalAnswer(task.reference, task.answer), secret=None, include_hidden=False)  # warm-up
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            run_task(task, LocalAnswer(task.reference, task.answer), secret=None, include_hidden=False)
            best = min(best, time.perf_counter() - start)
        times[task.id] = best
    return times


def bench_grading(small: bool) -> dict | None:
    script = ROOT / "bench" / "grading.py"
    if not script.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "grading.json"
        cmd = [sys.executable, str(script), "--json", str(out)] + (["--small"] if small else [])
        result = subprocess.run(cmd, cwd=ROOT, text=True)
        if result.returncode != 0 or not out.exists():
            return None
        return json.loads(out.read_text())


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GiB; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, torch {torch.__version__}; load average before the run "
        f"{os.getloadavg()[0]:.2f}"
    )


def bench_page_weight(small: bool) -> list[Figure]:
    """First visits and second chapters of the built site, in kB gzipped (tools/site/page_weight.py)."""
    sys.path.insert(0, str(ROOT / "tools" / "site"))
    import page_weight

    if not (page_weight.HTML / "index.html").is_file() or not Path(page_weight.CHROMIUM).is_file():
        return [Figure("page weight", None, "", note="needs `make book` and Chromium")]
    pages = toc_chapters()[:2] if small else toc_chapters()
    weights = page_weight.measure(pages, pages[1:])
    first_target = page_weight.FIRST_VISIT_BUDGET / 1e3
    second_target = page_weight.SECOND_CHAPTER_BUDGET / 1e3
    figures = []
    for name, transfer in weights.first_visits.items():
        kb = round(transfer.bytes / 1e3)
        note = "heaviest" if name == weights.heaviest else ""
        figures.append(Figure(f"first visit {name}", kb, "kB", f"≤ {first_target:g} kB", kb <= first_target, note))
    for name, transfer in weights.second_chapters.items():
        kb = round(transfer.bytes / 1e3)
        figures.append(
            Figure(f"{name} after {weights.heaviest}", kb, "kB", f"≤ {second_target:g} kB", kb <= second_target)
        )
    return figures


def render(figures: list[Figure], header: str) -> str:
    rows = [["figure", "value", "target", "", "note"], ["---"] * 5] + [f.cells() for f in figures]
    table = "\n".join("| " + " | ".join(r) + " |" for r in rows)
    return f"{header}\n\n{table}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Course benchmarks (make bench).")
    parser.add_argument("--small", action="store_true", help="a smoke run with tiny sizes")
    parser.add_argument("--skip-build", action="store_true", help="skip the cold and cached book builds")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)

    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    host = machine()
    pages = toc_chapters()[1:2] if args.small else toc_chapters()
    solution_nbs = assignments()[:1] if args.small else assignments()
    figures: list[Figure] = []

    print("executing chapters alone ...", file=sys.stderr)
    chapter_times = bench_chapters(pages)
    alone = sum(chapter_times.values())

    if not args.skip_build and not args.small:
        print("cold build in a fresh copy of the tree ...", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp) / "course"
            copy_tree_for_cold_build(tree)
            cold, rc = time_build(tree)
            build_rss = _peak_child_rss_mb()
            cached, rc2 = time_build(tree)
        ratio = cold / alone if rc == 0 else None
        figures += [
            Figure("cold book build", cold, "s", note="every chapter executed" + ("" if rc == 0 else "; BUILD FAILED")),
            Figure(f"executing the {len(pages)} chapters alone", alone, "s", note="fresh kernel each, nbclient"),
            Figure("cold build ÷ executing alone", ratio, "×", "≤ 1.3", _at_most(ratio, 1.3)),
            Figure("rebuild, nothing changed", cached, "s", "< 10 s", cached < 10 and rc2 == 0),
            Figure("peak memory of the build (largest process)", build_rss, "MB"),
        ]
    for page, seconds in chapter_times.items():
        figures.append(Figure(f"chapter {page}", seconds, "s", "< 20 s", _at_most(seconds, 20)))

    print("executing solution notebooks ...", file=sys.stderr)
    for name, seconds in bench_solutions(solution_nbs).items():
        figures.append(Figure(f"solution notebook {name}", seconds, "s", "< 15 s", _at_most(seconds, 15)))

    print("timing self-checks ...", file=sys.stderr)
    checks = bench_self_checks()
    for task_id, seconds in checks.items():
        figures.append(Figure(f"self-check {task_id}", seconds, "s", "< 1 s", _at_most(seconds, 1.0)))

    print("grading benchmark ...", file=sys.stderr)
    grading = bench_grading(args.small)
    if grading is None:
        figures.append(Figure("grading benchmark", None, "", note="bench/grading.py missing or failed"))
    else:
        for item in grading["figures"]:
            target = item.get("target")
            ok = None
            if target is not None and item.get("value") is not None:
                ok = item["value"] <= target["at_most"]
            figures.append(
                Figure(
                    item["name"],
                    item.get("value"),
                    item.get("unit", ""),
                    target["text"] if target else "",
                    ok,
                    item.get("note", ""),
                )
            )

    print("page weight in Chromium ...", file=sys.stderr)
    figures += bench_page_weight(args.small)

    header = f"# Benchmark results\n\nRun {started} on {host}." + (" Smoke run (--small)." if args.small else "")
    text = render(figures, header)
    print(text)
    if not args.small:
        args.output.write_text(text)
        print(f"written to {args.output.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
