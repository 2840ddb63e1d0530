"""The book's experiments: code the chapters run to test a claim or measure a cost, and that no check uses.

:mod:`actgrader.reference` holds what the checks compare a learner's answer against; the
modules here build on it to produce the figures a chapter quotes (training races, timing
tables, zig-zagging descent paths, verdicts on quoted numbers). Each module names the chapter
that teaches it. Code flows one way: reference -> experiments -> book; no task imports from
here.
"""
