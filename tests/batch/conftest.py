"""Start the batch tests' background jobs when collection ends (see batch_background.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    import batch_background

    batch_background.start_for({Path(str(item.fspath)).stem for item in items})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import batch_background

    batch_background.finish()
