"""How a check-up report reads: text, HTML, links, and its documentation in grader/README.md."""

from __future__ import annotations

import html
import re
from pathlib import Path

from actgrader.checkup import examples as ex
from actgrader.checkup import inspect_model
from actgrader.checkup.report import Report
from actgrader.checkup.thresholds import CODES, SECTIONS
from actgrader.links import BOOK_URL_ENV, section_url

README = Path(__file__).resolve().parents[2] / "grader" / "README.md"


def _report(name: str) -> Report:
    case = ex.CASES[name]()
    return inspect_model(case.model, case.x, case.y, case.loss_fn)


def test_text_report_has_the_table_every_row_and_each_finding_with_its_link():
    report = _report("double softmax")
    text = str(report)
    header = report.table()[0]
    assert all(column in text for column in header)
    for row in report.rows:
        assert re.search(rf"^{row.index}\s+{re.escape(row.name)}\s", text, flags=re.MULTILINE)
    for finding in report.findings:
        assert finding.code in text and finding.message in text and finding.url in text


def test_html_report_is_a_table_with_escaped_cells_and_working_links():
    report = _report("double softmax")
    page = report._repr_html_()
    assert page.count("<tr>") == len(report.rows) + 1
    assert re.search(r"<th[^>]*>grad RMS</th>", page)
    for finding in report.findings:
        assert f"href='{html.escape(finding.url)}'" in page
    assert "→" in page  # "Linear(2→64)": text is escaped, not mangled


def test_a_healthy_report_says_there_is_nothing_to_report():
    report = _report("healthy")
    assert "Findings: none" in str(report) and "Findings: none" in report._repr_html_()


def test_links_follow_the_book_url_setting(monkeypatch):
    monkeypatch.setenv(BOOK_URL_ENV, "http://localhost:8000/course/")
    (finding,) = _report("double softmax").findings
    assert finding.url == "http://localhost:8000/course/book/output-and-loss.html#sec-double-softmax"
    assert finding.url == section_url(finding.section)


def test_every_link_target_is_a_chapter_page_or_a_label_of_one():
    for section in SECTIONS.values():
        page, _, label = section.partition("#")
        assert re.fullmatch(r"[a-z0-9-]+", page)
        assert label == "" or label.startswith("sec-")


def test_findings_render_in_severity_order():
    report = _report("dead ReLUs")
    text = str(report)
    positions = [text.index(f"{f.severity.upper():7} {f.code}") for f in report.findings]
    severities = ["error", "warning", "info"]
    ranks = [severities.index(f.severity) for f in report.findings]
    assert [p for _, p in sorted(zip(ranks, positions, strict=True))] == sorted(positions)


# --- the README documents what the tool prints ------------------------------------------------------


def _readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Model check-up")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_readme_documents_every_finding_code():
    section = _readme_section()
    missing = [code for code in CODES if f"`{code}`" not in section]
    assert not missing, f"grader/README.md does not document: {missing}"


def test_the_readme_documents_every_column():
    section = _readme_section()
    header = _report("healthy").table()[0]
    missing = [column for column in header[1:] if column not in section]
    assert not missing, f"grader/README.md does not explain the columns: {missing}"


def test_the_readme_example_is_what_the_tool_prints(monkeypatch):
    monkeypatch.delenv(BOOK_URL_ENV, raising=False)
    section = _readme_section()
    marker = "`actgrader.checkup.examples.dead_relus()`):\n\n```text\n"
    quoted = section.split(marker, 1)[1].split("\n```", 1)[0]
    assert quoted == str(_report("dead ReLUs")).rstrip("\n")


def test_the_readme_lists_every_section_findings_link_to():
    section = " ".join(_readme_section().split())
    missing = [target for target in SECTIONS.values() if target.split("#")[1] not in section]
    assert not missing, f"grader/README.md does not list these links of the findings: {missing}"
