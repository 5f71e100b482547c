"""The only module that imports GitPython. Untrusted values never become git options (P9)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import MlscaffoldError, UserError

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


@dataclass(frozen=True)
class GrepHit:
    """One line of a tracked file that contains one of the searched strings."""

    path: str  # relative to the searched folder, POSIX
    line: int
    text: str


def grep_tracked(path: Path, needles: list[str]) -> list[GrepHit] | None:
    """Lines of tracked text files under `path` containing any needle (fixed, case-insensitive).

    Uses `git grep`, which reads only what git tracks and skips binary files. Returns None when
    `path` is not the top of a git work tree (the caller then scans the files itself).
    """
    import git

    args = ["-I", "-n", "-z", "-i", "-F", "--no-color"]
    for needle in needles:
        args += ["-e", needle]  # needles are ours, but `-e` keeps any of them from being an option
    try:
        with git.Repo(path, search_parent_directories=False) as repo:
            status, out, err = repo.git.grep(
                *args,
                "--",
                with_extended_output=True,
                with_exceptions=False,
                as_process=False,
                stdout_as_string=False,
            )
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if status not in (0, 1):  # 1 means "no line matched"
        text = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
        raise MlscaffoldError(f"{path}: git grep failed: {' '.join(text.split())}")
    return _parse_grep(out if isinstance(out, bytes) else str(out).encode())


def _parse_grep(out: bytes) -> list[GrepHit]:
    hits: list[GrepHit] = []
    for record in out.split(b"\n"):
        parts = record.split(b"\0", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        hits.append(GrepHit(os.fsdecode(parts[0]), int(parts[1]), parts[2].decode("utf-8", "replace")))
    return hits


def _repo_or_none(path: Path) -> git.Repo | None:
    import git

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def refuse_dirty(path: Path, paths: list[str]) -> None:
    """Refuse when uncommitted changes touch any of `paths` (relative to `path`)."""
    repo = _repo_or_none(path)
    if repo is None:
        return
    with repo:
        root = Path(repo.working_tree_dir or path).resolve()
        prefix = path.resolve().relative_to(root).as_posix()
        wanted = {f"{prefix}/{p}" if prefix != "." else p for p in paths}
        status = repo.git.status("--porcelain", "-z", "--untracked-files=all", "--", ".")
        dirty = sorted({entry[3:] for entry in status.split("\0") if len(entry) > 3} & wanted)
    if dirty:
        listed = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise UserError(
            f"uncommitted changes touch files this would change ({listed}); commit or stash them first"
        )


def commit_paths(path: Path, paths: list[str], message: str) -> str:
    """Stage and commit exactly `paths`; returns the commit id."""
    import git

    repo = _repo_or_none(path)
    if repo is None:
        raise UserError(f"{path}: --commit needs a git repository")
    try:
        with repo:
            repo.git.set_persistent_git_options(c="commit.gpgsign=false")
            existing = [p for p in paths if (path / p).exists()]
            if existing:
                repo.git.add("--", *[str((path / p).resolve()) for p in existing])
            with repo.git.custom_environment(**_identity_fallback(repo)):
                repo.git.commit(
                    "--quiet", "--no-verify", "-m", message, "--", *[str(path / p) for p in paths]
                )
            return str(repo.head.commit.hexsha)
    except git.GitCommandError as err:
        raise MlscaffoldError(f"{path}: git commit failed: {' '.join(str(err.stderr).split())}") from err
