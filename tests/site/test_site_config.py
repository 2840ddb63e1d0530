"""_config.yml agrees with actgrader.links and keeps the site self-contained."""

from __future__ import annotations

import fnmatch
from importlib.metadata import version
from pathlib import Path

import pydata_sphinx_theme
import yaml
from sitebook import ROOT, toc_pages

from actgrader import links

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
SPHINX = CONFIG["sphinx"]["config"]
SOURCE_SUFFIXES = {".md", ".ipynb", ".rst"}


def test_repository_url_is_the_grader_s():
    assert CONFIG["repository"]["url"] == links.REPOSITORY_URL


def test_book_url_is_the_grader_s():
    assert CONFIG["html"]["baseurl"] == links.DEFAULT_BOOK_URL


def test_section_urls_point_into_the_built_layout():
    """links.section_url("page#label") is <book URL>/book/<page>.html: chapters live in book/."""
    for page in toc_pages():
        assert page.startswith("book/"), page
        name = page.removeprefix("book/")
        assert links.section_url(name) == f"{links.DEFAULT_BOOK_URL}/{page}.html"


def test_execution_is_cached_with_a_cell_timeout():
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert Path(execute["cache"]) == Path("_build/.jupyter_cache")
    assert isinstance(execute["timeout"], int) and execute["timeout"] > 0
    assert execute["allow_errors"] is False


def test_no_live_code_from_the_internet():
    assert CONFIG["launch_buttons"].get("thebe") is False
    assert "sphinx_thebe" not in SPHINX["extensions"]
    assert not str(SPHINX["mathjax_path"]).startswith(("http:", "https:", "//"))
    for path in SPHINX["nb_ipywidgets_js"]:
        assert not path.startswith(("http:", "https:", "//")), path
    assert "_static" not in SPHINX["html_static_path"]


def test_math_extensions_are_on():
    assert {"dollarmath", "amsmath"} <= set(CONFIG["parse"]["myst_enable_extensions"])


def _excluded(path: str) -> bool:
    return any(fnmatch.fnmatch(path, pattern) for pattern in CONFIG["exclude_patterns"])


def test_only_the_book_is_read():
    """Every top-level folder or file with pages in it, other than book/, is excluded.

    Sphinx walks every folder under the root and reads any markdown it finds: a stray
    README in a new folder makes the build fail under -W ("document isn't included in
    any toctree"); only_build_toc_files does not cover everything (e.g. inside .venv).
    """
    assert CONFIG["only_build_toc_files"] is True
    book_dirs = {page.split("/")[0] for page in toc_pages()}
    unexcluded = []
    entries = sorted(ROOT.iterdir())
    assert {"book", "grader", "tests"} <= {e.name for e in entries}  # the listing is the repository's
    for entry in entries:
        if entry.name in book_dirs or entry.name == ".git" or _excluded(entry.name):
            continue
        if entry.is_file() and entry.suffix in SOURCE_SUFFIXES:
            unexcluded.append(entry.name)
        elif entry.is_dir() and any(
            p.suffix in SOURCE_SUFFIXES for p in entry.rglob("*") if ".git" not in p.parts and p.is_file()
        ):
            unexcluded.append(entry.name + "/")
    assert not unexcluded, f"add to exclude_patterns in _config.yml: {unexcluded}"


def test_standard_folders_are_excluded_even_when_absent():
    for name in (".venv", "_build", "node_modules", "tools", "grader", "tests", "exercises", "solutions", "bench"):
        assert _excluded(name), name
    for name in ("README.md", "CONTRIBUTING.md"):
        assert _excluded(name), name


def test_launch_buttons_and_dark_mode_settings():
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert not launch.get("colab_url"), "Colab opens only .ipynb files; the chapters are MyST markdown"
    theme = SPHINX["html_theme_options"]
    assert theme["use_download_button"] is True
    assert theme["navbar_persistent"] == []  # no second search field in a header bar
    assert SPHINX["html_context"]["default_mode"] == "auto"  # follow the reader's system setting


def test_the_course_site_extension_is_loaded():
    assert "course_site" in SPHINX["extensions"]
    assert (ROOT / CONFIG["sphinx"]["local_extensions"]["course_site"] / "course_site.py").is_file()


def test_overridden_theme_templates_match_the_installed_theme():
    """tools/site/templates holds edited copies of pydata-sphinx-theme components.

    They were copied from version 0.17.1; a different version may have changed the
    originals, so an upgrade must look at them again (and update this version).
    """
    assert version("pydata-sphinx-theme") == "0.17.1"
    components = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "components"
    templates = sorted((ROOT / "tools" / "site" / "templates").glob("*.html"))
    assert templates, "no templates found in tools/site/templates"
    for template in templates:
        assert (components / template.name).is_file(), f"the theme has no component {template.name} any more"
