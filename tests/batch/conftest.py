"""Start the batch tests' background jobs once the selected tests are known (see batch_background.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    import batch_background

    batch_background.start_for({Path(str(item.fspath)).stem for item in session.items})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import batch_background

    batch_background.finish()
