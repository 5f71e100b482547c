"""Test isolation: every test gets its own HOME, git identity and TMPDIR, never the machine's."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Bytecode: with PYTHONDONTWRITEBYTECODE set, every `python -m mlscaffold` a test starts would compile
# mlscaffold's modules from source again (~0.1 s CPU each, hundreds of times). The tests write it as any
# install has it: in `__pycache__` beside the sources (ignored by git), for this process and its children.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
    sys.dont_write_bytecode = False


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mlscaffold's own cache (compiled Jinja templates, files that passed their schema), shared by the
    tests of one worker: it is keyed by content, so sharing changes no result, only the time. Tests of
    the cache itself point XDG_CACHE_HOME somewhere of their own."""
    return tmp_path_factory.mktemp("mlscaffold-cache")


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, shared_cache: Path
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    (home / ".cache").mkdir()
    (home / ".cache" / "mlscaffold").symlink_to(shared_cache, target_is_directory=True)
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
