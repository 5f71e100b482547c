"""Test isolation: every test gets its own HOME, git identity and TMPDIR, never the machine's."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.invalid\n[init]\n\tdefaultBranch = main\n"
    )
    tmpdir = tmp_path_factory.mktemp("tmpdir")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "MLSCAFFOLD_TEMPLATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    yield tmpdir
    tempfile.tempdir = None


@pytest.fixture
def tmpdir_left(isolated_env: Path) -> Iterator[Path]:
    """The test's TMPDIR; tests use it to assert nothing is left behind (P15)."""
    yield isolated_env


# The cookiecutter templates the tests render: their files are Jinja, not tests to collect.
collect_ignore_glob = ["fixtures/*"]
