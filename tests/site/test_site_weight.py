"""A light site (issue 13): what a reader's browser downloads, gzipped, in Chromium.

tools/site/page_weight.py serves the built site as GitHub Pages does (gzip, a 10-minute
cache) and counts the bytes it sends while Chromium opens each page with an empty cache
(its first visit), then the heaviest chapter followed by another chapter in the same
browser (a second chapter, shared files cached). Budgets: any first visit at most 1.5 MB,
a second chapter at most 300 kB, and no request to another host. Figures for every page are
in ``make bench`` (bench/RESULTS.md).
"""

from __future__ import annotations

import sys

import pytest
from sitebook import ROOT, Site, chapters, toc_pages

sys.path.insert(0, str(ROOT / "tools" / "site"))
import page_weight  # tools/site is not a package

pytestmark = pytest.mark.slow

# Second chapters measured after the heaviest: the chapters with the heaviest first visits
# (their own files, the part a cache cannot save, are the largest).
SECOND_CHAPTERS = 3


@pytest.fixture(scope="module")
def weights(site: Site) -> page_weight.Weights:
    first = page_weight.measure(toc_pages(), [], html=site.html)
    ranked = sorted(chapters(), key=lambda name: first.first_visits[name].bytes, reverse=True)
    second = [name for name in ranked if name != first.heaviest][:SECOND_CHAPTERS]
    again = page_weight.measure([first.heaviest], second, html=site.html)
    return page_weight.Weights(first.first_visits, first.heaviest, again.second_chapters)


def _kb(transfer: page_weight.Transfer) -> str:
    heaviest = ", ".join(f"{path} {size / 1e3:.0f} kB" for path, size in transfer.heaviest())
    return f"{transfer.bytes / 1e3:.0f} kB gzipped; heaviest: {heaviest}"


@pytest.mark.parametrize("docname", toc_pages())
def test_first_visit_within_budget(weights: page_weight.Weights, docname: str):
    transfer = weights.first_visits[docname]
    assert transfer.blocked == [], f"{docname}: requests to other hosts: {transfer.blocked}"
    assert transfer.failed == [], f"{docname}: failed requests: {transfer.failed}"
    assert f"/{docname}.html" in transfer.sent, f"{docname}: the server did not send the page: {transfer.sent}"
    assert transfer.bytes <= page_weight.FIRST_VISIT_BUDGET, f"{docname} first visit: {_kb(transfer)}"


def test_second_chapter_within_budget(weights: page_weight.Weights):
    assert len(weights.second_chapters) == SECOND_CHAPTERS
    for docname, transfer in weights.second_chapters.items():
        assert transfer.blocked == [] and transfer.failed == [], transfer
        assert f"/{docname}.html" in transfer.sent, f"{docname}: the page was not sent: {transfer.sent}"
        # The shared files came from the cache: the page's widget manager and MathJax were not sent again.
        assert not any(path.startswith("/_static/vendor/") and path.endswith(".js") for path in transfer.sent), (
            f"{docname} after {weights.heaviest}: shared scripts sent again: {sorted(transfer.sent)}"
        )
        assert transfer.bytes <= page_weight.SECOND_CHAPTER_BUDGET, (
            f"{docname} after {weights.heaviest}: {_kb(transfer)}"
        )
