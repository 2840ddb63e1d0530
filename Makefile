# Everything a person runs. `make book` and `make test` each install what they need first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR_STAMP := _vendor/.installed
JB_FLAGS := -W -n --keep-going
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help env vendor book wheel test lab exercises lint bench chromium clean
.DEFAULT_GOAL := help

help:
	@echo "make book       build the course site into _build/html (installs what it needs)"
	@echo "make test       run every test (installs what it needs, Chromium included)"
	@echo "make lab        open the exercises in JupyterLab with the grader importable"
	@echo "make exercises  regenerate exercises/ from solutions/ with nbgrader"
	@echo "make bench      run the benchmarks and write bench/RESULTS.md"
	@echo "make lint       ruff on the grader, tests, tools and bench"

env: $(STAMP)

# The virtual environment: pinned requirements, every transitive version fixed by
# constraints.txt, and the grader package in editable mode.
$(STAMP): requirements.txt constraints.txt grader/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (see README)"; exit 1; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-build-isolation -c constraints.txt -e grader
	touch $@

# JavaScript the site serves itself (widget manager, icons, MathJax), from the npm registry.
vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP): tools/vendor/package.json tools/vendor/package-lock.json tools/vendor/copy_assets.py $(wildcard tools/vendor/src/*.js)
	@command -v npm >/dev/null || { echo "npm is required to vendor the site's JavaScript: apt-get install -y nodejs npm"; exit 1; }
	cd tools/vendor && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	$(PYTHON) tools/vendor/copy_assets.py
	touch $@

# Builds of one tree are serialised (flock), so two make book runs cannot clobber _build.
# Sphinx copies static files and applies templates only to pages it writes: after `make vendor`
# or an edit under tools/site alone it answers "no targets are out of date" and the site keeps
# the old JavaScript, CSS and markup. Likewise after an edit of _toc.yml or _config.yml, pages
# not otherwise changed keep their old navigation (a new chapter missing from their sidebar).
# Then (or when a build has no stamp yet) every page is built again with --all; nothing is executed again, the execution cache holds every chapter.
SITE_ASSETS_STAMP := _build/html/.site-assets
book: env vendor
	@all=""; if [ -d _build/html ] && { [ ! -f $(SITE_ASSETS_STAMP) ] || \
		[ -n "$$(find $(VENDOR_STAMP) tools/site _toc.yml _config.yml -newer $(SITE_ASSETS_STAMP) -type f)" ]; }; then \
		echo "site assets, table of contents or configuration changed: building every page again"; all="--all"; fi; \
	echo "flock .book-build.lock jupyter-book build . $(JB_FLAGS) $$all"; \
	flock "$(CURDIR)/.book-build.lock" $(BIN)/jupyter-book build . $(JB_FLAGS) $$all
	$(MAKE) --no-print-directory wheel
	touch $(SITE_ASSETS_STAMP)
	@echo "The course site is in $(CURDIR)/_build/html/index.html"

# The grader as a wheel on the site, so that a learner with only the site installs it in one
# command (the exercise notebooks give it: <book URL>/actgrader-<version>-py3-none-any.whl).
# Built from a copy of grader/, so no build/ or egg-info lands in the source tree.
wheel: env
	rm -f _build/html/actgrader-*.whl
	@tmp=$$(mktemp -d) && cp -a grader "$$tmp/grader" && rm -rf "$$tmp"/grader/build "$$tmp"/grader/src/*.egg-info && \
		$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w _build/html "$$tmp/grader" && \
		rm -rf "$$tmp"
	@ls _build/html/actgrader-*.whl

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: env vendor chromium
	$(BIN)/python tools/run_tests.py

# JupyterLab with the project's Jupyter configuration (tools/lab.py): nbgrader's instructor
# tools hidden, its Validate button kept, --allow-root when run as root.
# The checks' "Read:" links open the book at ACTGRADER_BOOK_URL (actgrader.links; by default the
# published site). When this clone has a built book (`make book`) and no ACTGRADER_BOOK_URL is
# set, they open that local build instead, so they work offline. LAB is the command started
# (tests/site/test_lab_links.py replaces it to read the environment it gets).
LAB = $(BIN)/python tools/lab.py
lab: env
	@if [ -z "$${ACTGRADER_BOOK_URL:-}" ] && [ -f _build/html/index.html ]; then \
		export ACTGRADER_BOOK_URL="$$($(BIN)/python -c 'import pathlib; print(pathlib.Path("_build/html").resolve().as_uri())')"; \
		echo "The checks' links open the local build of the book: $$ACTGRADER_BOOK_URL"; \
	fi; \
	$(LAB)

exercises: env
	$(BIN)/python tools/generate_exercises.py

lint: env
	$(BIN)/ruff check grader tests tools bench
	$(BIN)/ruff format --check grader tests tools bench

bench: env vendor
	$(BIN)/python bench/run.py

clean:
	rm -rf _build _vendor _extra tools/vendor/node_modules
