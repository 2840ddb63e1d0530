"""Where the instructor secret comes from, and that it never shows."""

from __future__ import annotations

import pytest

from actgrader.grading.secret import SECRET_ENV, SECRET_FILE_ENV, SecretError, load_secret


def test_no_secret_means_none(monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)
    assert load_secret() is None


def test_environment_value_wins_over_file(monkeypatch, tmp_path):
    path = tmp_path / "secret"
    path.write_text("from the file\n")
    monkeypatch.setenv(SECRET_ENV, "from the environment")
    monkeypatch.setenv(SECRET_FILE_ENV, str(path))
    assert load_secret().value == b"from the environment"
    monkeypatch.delenv(SECRET_ENV)
    assert load_secret().value == b"from the file"
    assert load_secret(path).value == b"from the file"


def test_short_or_unreadable_secrets_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(SecretError, match="shorter"):
        load_secret()
    with pytest.raises(SecretError, match="cannot read"):
        load_secret(tmp_path / "missing")


def test_repr_never_shows_the_secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "do-not-print-me")
    secret = load_secret()
    assert "do-not-print-me" not in repr(secret) and "do-not-print-me" not in str(secret)
