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


def grep_tracked(path: Path, needles: list[tuple[str, ...]]) -> list[GrepHit] | None:
    """Lines of tracked text files under `path` that contain every string of any needle.

    A needle is a tuple of fixed strings, matched case-insensitively: `[("akia",), ("://", "@")]`
    finds lines with "akia", or with both "://" and "@".

    Uses `git grep`, which reads only what git tracks and skips binary files. Returns None when
    `path` is not the top of a git work tree (the caller then scans the files itself).
    """
    import git

    args = ["-I", "-n", "-z", "-i", "-F", "--no-color"]
    for needle in needles:  # needles are ours, and `-e` keeps any of them from being an option
        for i, part in enumerate(needle):
            args += ["-e", part] if i == 0 else ["--and", "-e", part]
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


# ---------------------------------------------------------------------------------------------------
# The pristine rendering: the merge base of `mlscaffold update` (see docs/update.md).
#
# A pristine commit's tree is exactly what the templates rendered at the last generation (record
# included). It lives on no branch: `refs/mlscaffold/pristine` points at it and each one has the previous
# one as parent, so the history of renderings stays reachable and old template code is never needed.

PRISTINE_REF = "refs/mlscaffold/pristine"
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class Blob:
    """One file as git stores it: its bytes and its mode (0o644 or 0o755)."""

    content: bytes
    mode: int = 0o644


def _git_error(path: Path, what: str, err: Exception) -> MlscaffoldError:
    detail = " ".join(str(getattr(err, "stderr", "") or err).split())
    return MlscaffoldError(f"{path}: git {what} failed: {detail}")


def _open_repo(path: Path) -> git.Repo:
    import git

    try:
        return git.Repo(path, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as err:
        raise MlscaffoldError(f"{path}: not the top folder of a git repository") from err


def _git_mode(mode: int) -> str:
    return "100755" if mode & 0o111 else "100644"


def store_blobs(repo: git.Repo, contents: list[bytes]) -> list[str]:
    """Write blobs into the object store with one `git hash-object` (no filters: bytes as given)."""
    import tempfile

    if not contents:
        return []
    with tempfile.TemporaryDirectory(prefix="mlscaffold-blobs-") as scratch:
        names = []
        for i, content in enumerate(contents):
            name = Path(scratch) / str(i)
            name.write_bytes(content)
            names.append(str(name))
        with tempfile.TemporaryFile() as feed:
            feed.write("".join(n + "\n" for n in names).encode())
            feed.seek(0)
            out = repo.git.hash_object("-w", "--no-filters", "--stdin-paths", istream=feed)
    shas = str(out).split()
    if len(shas) != len(contents):
        raise MlscaffoldError(
            f"{repo.working_dir}: git hash-object returned {len(shas)} ids for {len(contents)}"
        )
    return shas


def _index_info(repo: git.Repo, lines: list[str], *, env: dict[str, str] | None = None) -> None:
    """Feed `git update-index -z --index-info` (NUL-terminated, so any path is safe)."""
    import tempfile

    with tempfile.TemporaryFile() as feed:
        feed.write("".join(line + "\0" for line in lines).encode("utf-8", "surrogateescape"))
        feed.seek(0)
        with repo.git.custom_environment(**(env or {})):
            repo.git.update_index("-z", "--index-info", istream=feed)


def _build_tree(repo: git.Repo, base: str | None, files: dict[str, Blob]) -> str:
    """A tree object: `base` (a tree-ish, or empty) with `files` added or replaced. Index untouched."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mlscaffold-index-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        with repo.git.custom_environment(**env):
            repo.git.read_tree(base or _EMPTY_TREE)
        paths = sorted(files)
        shas = store_blobs(repo, [files[p].content for p in paths])
        lines = [f"{_git_mode(files[p].mode)} {sha}\t{p}" for p, sha in zip(paths, shas, strict=True)]
        _index_info(repo, lines, env=env)
        with repo.git.custom_environment(**env):
            return str(repo.git.write_tree())


def _commit_tree(repo: git.Repo, tree: str, parent: str | None, message: str) -> str:
    args = [tree, *(["-p", parent] if parent else []), "-m", message]
    no_signing = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "commit.gpgsign",
        "GIT_CONFIG_VALUE_0": "false",
    }
    with repo.git.custom_environment(**_identity_fallback(repo), **no_signing):
        return str(repo.git.commit_tree(*args))


def read_ref(repo_path: Path, ref: str) -> str | None:
    """The commit a ref points at, or None when the ref does not exist."""
    import git

    with _open_repo(repo_path) as repo:
        try:
            return str(repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"))
        except git.GitCommandError:
            return None


def pristine_commit(repo_path: Path) -> str | None:
    """The commit `refs/mlscaffold/pristine` points at, or None."""
    return read_ref(repo_path, PRISTINE_REF)


def set_ref(repo_path: Path, ref: str, new: str | None) -> None:
    """Point one of mlscaffold's own refs at `new`, or delete it (None)."""
    import git

    with _open_repo(repo_path) as repo:
        try:
            if new is None:
                if read_ref(repo_path, ref) is not None:
                    repo.git.update_ref("-d", ref)
            else:
                repo.git.update_ref("-m", "mlscaffold", ref, new)
        except git.GitCommandError as err:
            raise _git_error(repo_path, "update-ref", err) from err


def ignored_paths(repo_path: Path, paths: list[str]) -> set[str]:
    """Which of `paths` git ignores (`git check-ignore`, NUL-separated)."""
    import tempfile


    if not paths:
        return set()
    with _open_repo(repo_path) as repo, tempfile.TemporaryFile() as feed:
        feed.write(b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths))
        feed.seek(0)
        status, out, err = repo.git.execute(
            ["git", "check-ignore", "-z", "--stdin"],
            istream=feed,
            with_extended_output=True,
            with_exceptions=False,
        )
    if status not in (0, 1):
        raise MlscaffoldError(f"{repo_path}: git check-ignore failed: {' '.join(str(err).split())}")
    return {p for p in str(out).split("\0") if p}


def has_commit(repo_path: Path, sha: str) -> bool:
    """Whether `sha` (40 hex digits) names a commit present in the repo."""
    import git

    if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha.lower()):
        return False
    with _open_repo(repo_path) as repo:
        try:
            repo.git.cat_file("-e", f"{sha}^{{commit}}")
        except git.GitCommandError:
            return False
    return True


def write_pristine(
    repo_path: Path, files: dict[str, Blob], *, parent: str | None, message: str, base: str | None = None
) -> str:
    """Store a pristine commit whose tree is `base`'s tree (or nothing) plus `files`; returns its id.
    The ref is not moved: call `set_pristine_ref` once the change it describes has been applied."""
    import git

    with _open_repo(repo_path) as repo:
        try:
            tree = _build_tree(repo, base, files)
            return _commit_tree(repo, tree, parent, message)
        except git.GitCommandError as err:
            raise _git_error(repo_path, "storing the pristine rendering", err) from err


def set_pristine_ref(repo_path: Path, new: str, old: str | None = None) -> None:
    """Point `refs/mlscaffold/pristine` at `new`. With `old` (40 zeros: "must not exist yet") the
    move happens only if the ref still is `old`, so two runs cannot silently overwrite each other."""
    import git

    with _open_repo(repo_path) as repo:
        try:
            repo.git.update_ref(
                "-m", "mlscaffold: pristine rendering", PRISTINE_REF, new, *([old] if old else [])
            )
        except git.GitCommandError as err:
            raise _git_error(repo_path, "update-ref", err) from err


def advance_pristine(repo_path: Path, files: dict[str, bytes], modes: dict[str, int] | None = None) -> str:
    """New pristine commit = previous pristine tree + `files` (e.g. the files of stages just added);
    moves the ref and returns the new commit id. Without a previous pristine it starts from nothing."""
    previous = pristine_commit(repo_path)
    blobs = {path: Blob(content, (modes or {}).get(path, 0o644)) for path, content in files.items()}
    new = write_pristine(
        repo_path,
        blobs,
        parent=previous,
        message="mlscaffold: pristine rendering (stages added)",
        base=previous,
    )
    set_pristine_ref(repo_path, new, previous or "0" * 40)
    return new


# ---------------------------------------------------------------------------------------------------
# What `mlscaffold update` needs from git


def uncommitted_paths(repo_path: Path) -> list[str]:
    """Tracked paths with staged, unstaged or unmerged changes (untracked files do not count)."""
    import git

    with _open_repo(repo_path) as repo:
        try:
            out = repo.git.status("--porcelain=v1", "-z", "--untracked-files=no", "--no-renames", "--")
        except git.GitCommandError as err:
            raise _git_error(repo_path, "status", err) from err
    return sorted({entry[3:] for entry in out.split("\0") if len(entry) > 3})


def tracked_set(repo_path: Path) -> set[str]:
    """Every path in git's index (any stage) of the repo at `repo_path`."""
    import git

    with _open_repo(repo_path) as repo:
        try:
            out = repo.git.ls_files("-z", "--full-name", "--")
        except git.GitCommandError as err:
            raise _git_error(repo_path, "ls-files", err) from err
    return {p for p in out.split("\0") if p}


def tree_files(repo_path: Path, commit: str) -> dict[str, Blob]:
    """Every file of a commit's tree with its bytes and mode (symlinks and submodules are skipped)."""
    import git

    files: dict[str, Blob] = {}
    with _open_repo(repo_path) as repo:
        try:
            tree = repo.commit(commit).tree
            for item in tree.traverse():
                if isinstance(item, git.Blob) and item.mode in (0o100644, 0o100755):
                    files[str(item.path)] = Blob(
                        item.data_stream.read(), 0o755 if item.mode & 0o111 else 0o644
                    )
        except (git.GitCommandError, ValueError) as err:
            raise _git_error(repo_path, f"reading commit {commit[:12]}", err) from err
    return files


@dataclass(frozen=True)
class MergeOutcome:
    content: bytes
    conflicts: int  # 0: merged cleanly


def merge_file(ours: bytes, base: bytes, theirs: bytes, labels: tuple[str, str, str]) -> MergeOutcome:
    """Three-way merge of one file's bytes with `git merge-file` (run outside any repository)."""
    import tempfile

    import git

    with tempfile.TemporaryDirectory(prefix="mlscaffold-merge-") as scratch:
        paths = []
        for name, content in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(scratch) / name
            path.write_bytes(content)
            paths.append(str(path))
        label_args = [arg for label in labels for arg in ("-L", label)]
        status, out, err = git.Git(scratch).execute(
            ["git", "merge-file", "-p", *label_args, "--", *paths],
            with_extended_output=True,
            with_exceptions=False,
            strip_newline_in_stdout=False,
            stdout_as_string=False,
        )
    if not isinstance(out, bytes) or status < 0 or status > 127:
        detail = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
        raise MlscaffoldError(f"git merge-file failed: {' '.join(detail.split())}")
    return MergeOutcome(out, status)


def mark_unmerged(repo_path: Path, entries: dict[str, tuple[Blob | None, Blob | None, Blob | None]]) -> None:
    """Record conflicts in git's index as stages 1 (base), 2 (ours) and 3 (theirs), as `git merge` does,
    so `git status` lists them as unmerged until the user resolves and adds them."""
    import git

    with _open_repo(repo_path) as repo:
        try:
            order = sorted(entries)
            blobs = [b for p in order for b in entries[p] if b is not None]
            shas = iter(store_blobs(repo, [b.content for b in blobs]))
            lines: list[str] = []
            for path in order:
                lines.append(f"0 {'0' * 40}\t{path}")
                for stage, blob in enumerate(entries[path], start=1):
                    if blob is not None:
                        lines.append(f"{_git_mode(blob.mode)} {next(shas)} {stage}\t{path}")
            _index_info(repo, lines)
        except git.GitCommandError as err:
            raise _git_error(repo_path, "update-index", err) from err


_REF_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-+")


def redact_url(url: str) -> str:
    """`https://user:token@host/x` -> `https://***@host/x` (promise P10)."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def clone_template(url: str, ref: str | None, dest: Path) -> str:
    """Clone a template repository into `dest` (a fresh folder) and check out `ref` (default: its
    HEAD); returns the commit id. Unsafe protocols and options stay refused (promise P9)."""
    import git

    shown = redact_url(url)
    if url.startswith("-") or "\n" in url or "\0" in url:
        raise UserError(f"template '{shown}': not a valid git URL")
    if ref is not None and (not ref or ref.startswith("-") or ".." in ref or not set(ref) <= _REF_OK):
        raise UserError(f"--to {ref!r}: not a valid git ref (letters, digits, '._/-+'; no leading '-')")
    try:
        repo = git.Repo.clone_from(
            url, dest, multi_options=["--quiet", "--no-checkout"], env={"GIT_TERMINAL_PROMPT": "0"}
        )
    except git.GitCommandError as err:
        raise UserError(f"template '{shown}': git clone failed (check the URL and your access)") from err
    with repo:
        try:
            sha = str(
                repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{ref or 'HEAD'}^{{commit}}")
            )
        except git.GitCommandError as err:
            raise UserError(f"template '{shown}': no such ref {ref!r}") from err
        try:
            repo.git.checkout("--quiet", "--detach", sha)
        except git.GitCommandError as err:
            raise _git_error(dest, "checkout", err) from err
    return sha


def init_repo(path: Path) -> None:
    """`git init` a folder (harmless when it is a repository already)."""
    import git

    try:
        git.Repo.init(path).close()
    except git.GitCommandError as err:
        raise _git_error(path, "init", err) from err
