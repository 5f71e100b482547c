"""The only module that imports GitPython. Untrusted values never become git options (P9)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import MlscaffoldError

if TYPE_CHECKING:
    import git


def init_and_commit(path: Path, message: str) -> str:
    """`git init` a new project and commit every file in it; returns the commit id."""
    import git

    try:
        repo = git.Repo.init(path)
        with repo:
            repo.git.set_persistent_git_options(c="commit.gpgsign=false")
            repo.git.add("--all", "--", ".")
            with repo.git.custom_environment(**_identity_fallback(repo)):
                repo.git.commit("--quiet", "--no-verify", "-m", message)
            return str(repo.head.commit.hexsha)
    except git.GitCommandError as err:
        raise MlscaffoldError(f"{path}: git failed: {' '.join(str(err.stderr).split())}") from err


def _identity_fallback(repo: git.Repo) -> dict[str, str]:
    """A neutral author for the first commit when the user has no git identity configured."""
    reader = repo.config_reader()
    env: dict[str, str] = {}
    if not reader.get_value("user", "name", default=""):
        env.update(GIT_AUTHOR_NAME="mlscaffold", GIT_COMMITTER_NAME="mlscaffold")
    if not reader.get_value("user", "email", default=""):
        env.update(GIT_AUTHOR_EMAIL="mlscaffold@localhost", GIT_COMMITTER_EMAIL="mlscaffold@localhost")
    return env


def tracked_files(path: Path) -> list[str]:
    """Paths git tracks under `path` (relative, POSIX); [] when `path` is not in a git work tree."""
    import git

    try:
        with git.Repo(path, search_parent_directories=False) as repo:
            out = repo.git.ls_files("-z", "--")
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return []
    except git.GitCommandError as err:
        raise MlscaffoldError(f"{path}: git ls-files failed: {' '.join(str(err.stderr).split())}") from err
    return [p for p in out.split("\0") if p]
