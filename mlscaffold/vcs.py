"""The only module that imports GitPython. Untrusted values never become git options (P9)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlscaffold.errors import MlscaffoldError, UserError

# git reads a file below core.bigFileThreshold (512 MiB) whole, to try deltas; above it, it streams the
# file into the object store. mlscaffold stores each file once, so streaming large ones costs nothing.
_STREAM_BIG_FILES = "core.bigFileThreshold=16m"


def init_and_commit(path: Path, message: str, force: Sequence[str] = ()) -> str:
    """`git init` a new project and commit every file in it; returns the commit id. `force`: files
    committed even when a .gitignore ignores them (`git add --force`)."""
    _git(path, "init", "--quiet")
    _git(path, "-c", _STREAM_BIG_FILES, "add", "--all", "--", ".")
    if force:
        _git(path, "-c", _STREAM_BIG_FILES, "add", "--force", "--", *force)
    _git(
        path,
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        message,
        env=_identity(path),
    )
    return _git(path, "rev-parse", "HEAD").stdout.decode().strip()


def _identity(path: Path) -> dict[str, str]:
    """A neutral author for a commit when the user has no git identity configured."""
    env: dict[str, str] = {}
    if not _git(path, "config", "user.name", ok=(0, 1)).stdout.strip():
        env.update(GIT_AUTHOR_NAME="mlscaffold", GIT_COMMITTER_NAME="mlscaffold")
    if not _git(path, "config", "user.email", ok=(0, 1)).stdout.strip():
        env.update(GIT_AUTHOR_EMAIL="mlscaffold@localhost", GIT_COMMITTER_EMAIL="mlscaffold@localhost")
    return env


def _in_work_tree(path: Path) -> bool:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            cwd=path,
            capture_output=True,
            env=_clean_environ(),
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == b"true"


def tracked_files(path: Path) -> list[str]:
    """Paths git tracks under `path` (relative, POSIX); [] when `path` is not the top of a work tree."""
    if not (path / ".git").exists() or not _in_work_tree(path):
        return []
    out = _git(path, "ls-files", "-z", "--").stdout.decode("utf-8", "surrogateescape")
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


def refuse_dirty(path: Path, paths: list[str]) -> None:
    """Refuse when uncommitted changes (untracked files too) touch any of `paths` (relative to `path`)."""
    if not _in_work_tree(path):
        return
    status = _git(path, "status", "--porcelain", "-z", "--untracked-files=all", "--", ".").stdout.decode()
    prefix = _git(path, "rev-parse", "--show-prefix").stdout.decode().strip()
    wanted = {prefix + p for p in paths}
    dirty = sorted({entry[3:] for entry in status.split("\0") if len(entry) > 3} & wanted)
    if dirty:
        listed = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise UserError(
            f"uncommitted changes touch files this would change ({listed}); commit or stash them first"
        )


def commit_paths(path: Path, paths: list[str], message: str) -> str:
    """Stage and commit exactly `paths`; returns the commit id."""
    if not _in_work_tree(path):
        raise UserError(f"{path}: --commit needs a git repository")
    existing = [p for p in paths if (path / p).exists()]
    if existing:
        _git(path, "add", "--", *existing)
    _git(
        path, "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", message, "--", *paths,
        env=_identity(path),
    )  # fmt: skip
    return _git(path, "rev-parse", "HEAD").stdout.decode().strip()


# ---------------------------------------------------------------------------------------------------
# The pristine rendering: the merge base of `mlscaffold update` (see docs/update.md).
#
# A pristine commit's tree is exactly what the templates rendered at the last generation (record
# included). It lives on no branch: `refs/mlscaffold/pristine` points at it and each one has the previous
# one as parent, so the history of renderings stays reachable and old template code is never needed.
#
# These local plumbing calls run git directly (argument lists, no shell, `--` or NUL-separated input
# before any path): `update` makes about a dozen of them and GitPython's import and version probe
# would cost more than the calls themselves. Clones still go through GitPython's guards (P9).

PRISTINE_REF = "refs/mlscaffold/pristine"
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_BOOKKEEPING_IDENTITY = {
    "GIT_AUTHOR_NAME": "mlscaffold",
    "GIT_AUTHOR_EMAIL": "mlscaffold@localhost",
    "GIT_COMMITTER_NAME": "mlscaffold",
    "GIT_COMMITTER_EMAIL": "mlscaffold@localhost",
}


@dataclass(frozen=True)
class Blob:
    """One file as git stores it: its bytes and its mode (0o644 or 0o755)."""

    content: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class FileBlob:
    """A file to store as it is on disk: git reads it from `source` (never held in memory, P11)."""

    source: Path
    mode: int = 0o644


# Variables that would point git at another repository, index or object store than `cwd`'s (set, for
# instance, when mlscaffold runs inside a git hook).
_REPO_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _REPO_VARS}


def _git(
    cwd: Path,
    *args: str,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    ok: tuple[int, ...] = (0,),
) -> subprocess.CompletedProcess[bytes]:
    """Run one git command in `cwd`; an unexpected exit becomes one MlscaffoldError line."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            env={**_clean_environ(), **(env or {})},
            check=False,
        )
    except OSError as err:
        raise MlscaffoldError(f"git could not be run ({err.strerror}); is git installed?") from err
    if done.returncode not in ok:
        detail = " ".join(done.stderr.decode("utf-8", "replace").split())
        raise MlscaffoldError(f"{cwd}: git {args[0]} failed: {detail}")
    return done


def _git_error(path: Path, what: str, err: Exception) -> MlscaffoldError:
    detail = " ".join(str(getattr(err, "stderr", "") or err).split())
    return MlscaffoldError(f"{path}: git {what} failed: {detail}")


def _require_repo(path: Path) -> None:
    if not (path / ".git").exists() and not _in_work_tree(path):
        raise MlscaffoldError(f"{path}: not in a git repository")


def in_repository(path: Path) -> bool:
    """Whether `path` is the top folder of a git repository or a folder inside one's work tree."""
    return (path / ".git").exists() or _in_work_tree(path)


def repo_prefix(repo_path: Path) -> str:
    """Where a project sits in the git repository it belongs to: '' at the top, 'svc/p/' for a
    project in a monorepo's subfolder. Pristine trees and mlscaffold's refs are the project's own;
    git's index and HEAD are the whole repository's, so paths between the two get this prefix."""
    if (repo_path / ".git").exists():
        return ""
    return os.fsdecode(_git(repo_path, "rev-parse", "--show-prefix").stdout.strip())


def _scoped_ref(repo_path: Path, ref: str) -> str:
    """mlscaffold's refs for a project in a subfolder live under refs/mlscaffold/in/<folder>/, so
    several projects in one repository keep their own pristine renderings."""
    if not ref.startswith("refs/mlscaffold/"):
        return ref
    prefix = repo_prefix(repo_path).rstrip("/")
    if not prefix:
        return ref
    parts = [_ref_part(part) for part in prefix.split("/")]
    return f"refs/mlscaffold/in/{'/'.join(parts)}/{ref.removeprefix('refs/mlscaffold/')}"


def _ref_part(part: str) -> str:
    """A folder name as a valid ref component (git check-ref-format): odd characters %-escaped."""
    from urllib.parse import quote

    text = quote(part, safe="-_+@=,")
    text = "%2E" + text[1:] if text.startswith(".") else text
    return text[:-5] + "%2Elock" if text.endswith(".lock") else text


def pristine_ref_name(repo_path: Path) -> str:
    """The name of the project's pristine ref (for messages: how to fetch or push it)."""
    return _scoped_ref(repo_path, PRISTINE_REF)


def project_tree(repo_path: Path, commit: str) -> str:
    """The tree-ish of the project inside one of the repository's own commits (not a pristine one)."""
    prefix = repo_prefix(repo_path).rstrip("/")
    return f"{commit}:{prefix}" if prefix else commit


def _git_mode(mode: int) -> str:
    return "100755" if mode & 0o111 else "100644"


def _nul_list(paths: list[str]) -> bytes:
    return b"".join(os.fsencode(p) + b"\0" for p in paths)


def store_blobs(repo_path: Path, contents: Sequence[bytes | Path]) -> list[str]:
    """Write blobs into the object store with one `git hash-object` (no filters: bytes as given; a
    Path is stored from that file, read by git)."""
    if not contents:
        return []
    with tempfile.TemporaryDirectory(prefix="mlscaffold-blobs-") as scratch:
        names = []
        for i, content in enumerate(contents):
            if isinstance(content, Path):
                names.append(str(content.absolute()))
                continue
            name = Path(scratch) / str(i)
            name.write_bytes(content)
            names.append(str(name))
        out = _git(
            repo_path,
            "-c",
            _STREAM_BIG_FILES,
            "hash-object",
            "-w",
            "--no-filters",
            "--stdin-paths",
            stdin="\n".join(names).encode(),
        )
    shas = out.stdout.decode().split()
    if len(shas) != len(contents):
        raise MlscaffoldError(f"{repo_path}: git hash-object returned {len(shas)} ids for {len(contents)}")
    return shas


def _index_info(repo_path: Path, lines: list[str], env: dict[str, str] | None = None) -> None:
    """Feed `git update-index -z --index-info` (NUL-terminated, so any path is safe)."""
    feed = b"".join(os.fsencode(line) + b"\0" for line in lines)
    _git(repo_path, "update-index", "-z", "--index-info", stdin=feed, env=env)


def _build_tree(repo_path: Path, base: str | None, files: Mapping[str, Blob | FileBlob]) -> str:
    """A tree object: `base` (a tree-ish, or empty) with `files` added or replaced. Index untouched."""
    with tempfile.TemporaryDirectory(prefix="mlscaffold-index-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _git(repo_path, "read-tree", base or _EMPTY_TREE, env=env)
        paths = sorted(files)
        shas = store_blobs(repo_path, [_stored(files[p]) for p in paths])
        lines = [f"{_git_mode(files[p].mode)} {sha}\t{p}" for p, sha in zip(paths, shas, strict=True)]
        if lines:
            _index_info(repo_path, lines, env=env)
        return _git(repo_path, "write-tree", env=env).stdout.decode().strip()


def _stored(blob: Blob | FileBlob) -> bytes | Path:
    return blob.source if isinstance(blob, FileBlob) else blob.content


def read_ref(repo_path: Path, ref: str) -> str | None:
    """The commit a ref points at, or None when the ref does not exist."""
    _require_repo(repo_path)
    ref = _scoped_ref(repo_path, ref)
    done = _git(
        repo_path, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", ok=(0, 1)
    )
    return done.stdout.decode().strip() if done.returncode == 0 else None


def pristine_commit(repo_path: Path) -> str | None:
    """The commit `refs/mlscaffold/pristine` points at, or None."""
    return read_ref(repo_path, PRISTINE_REF)


def set_ref(repo_path: Path, ref: str, new: str | None) -> None:
    """Point one of mlscaffold's own refs at `new`, or delete it (None; fine when it is absent)."""
    ref = _scoped_ref(repo_path, ref)
    if new is None:
        if read_ref(repo_path, ref) is not None:
            _git(repo_path, "update-ref", "-d", ref)
    else:
        _git(repo_path, "update-ref", "-m", "mlscaffold", ref, new)


def ignored_paths(repo_path: Path, paths: list[str]) -> set[str]:
    """Which of `paths` git ignores (`git check-ignore`, NUL-separated)."""
    if not paths:
        return set()
    done = _git(repo_path, "check-ignore", "-z", "--stdin", stdin=_nul_list(paths), ok=(0, 1))
    return {os.fsdecode(p) for p in done.stdout.split(b"\0") if p}


def listed_files(path: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files under the top of a work tree; None when `path` is not
    one."""
    if not (path / ".git").exists() or not _in_work_tree(path):
        return None
    out = _git(path, "ls-files", "-z", "-c", "-o", "--exclude-standard", "--").stdout
    return sorted({os.fsdecode(p) for p in out.split(b"\0") if p})


def tracked_covered_by(repo_path: Path, pattern: str) -> list[str]:
    """Tracked files that the .gitignore line `pattern` would match (`git ls-files -ci --exclude`);
    [] outside a git work tree."""
    if not (repo_path / ".git").exists() or not _in_work_tree(repo_path):
        return []
    out = _git(repo_path, "ls-files", "-z", "-c", "-i", f"--exclude={pattern}", "--").stdout
    return sorted(os.fsdecode(p) for p in out.split(b"\0") if p)


def has_commit(repo_path: Path, sha: str) -> bool:
    """Whether `sha` (40 hex digits) names a commit present in the repo."""
    if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha.lower()):
        return False
    return _git(repo_path, "cat-file", "-e", f"{sha}^{{commit}}", ok=(0, 1, 128)).returncode == 0


def write_pristine(
    repo_path: Path,
    files: Mapping[str, Blob | FileBlob],
    *,
    parent: str | None,
    message: str,
    base: str | None = None,
) -> str:
    """Store a pristine commit whose tree is `base`'s tree (or nothing) plus `files`; returns its id.
    The ref is not moved: call `set_pristine_ref` once the change it describes has been applied.
    Pristine commits are mlscaffold's bookkeeping, so mlscaffold is their author and they are unsigned."""
    _require_repo(repo_path)
    tree = _build_tree(repo_path, base, files)
    args = [
        "-c",
        "commit.gpgsign=false",
        "commit-tree",
        tree,
        *(["-p", parent] if parent else []),
        "-m",
        message,
    ]
    return _git(repo_path, *args, env=_BOOKKEEPING_IDENTITY).stdout.decode().strip()


def set_pristine_ref(repo_path: Path, new: str, old: str | None = None) -> None:
    """Point `refs/mlscaffold/pristine` at `new`. With `old` (40 zeros: "must not exist yet") the
    move happens only if the ref still is `old`, so two runs cannot silently overwrite each other."""
    _git(
        repo_path,
        "update-ref",
        "-m",
        "mlscaffold: pristine rendering",
        _scoped_ref(repo_path, PRISTINE_REF),
        new,
        *([old] if old else []),
    )


# ---------------------------------------------------------------------------------------------------
# What `mlscaffold update` needs from git


def uncommitted_paths(repo_path: Path) -> list[str]:
    """Tracked paths with staged, unstaged or unmerged changes (untracked files do not count)."""
    _require_repo(repo_path)
    out = _git(
        repo_path, "status", "--porcelain=v1", "-z", "--untracked-files=no", "--no-renames", "--", "."
    ).stdout
    prefix = repo_prefix(repo_path)
    return sorted(
        {os.fsdecode(entry[3:]).removeprefix(prefix) for entry in out.split(b"\0") if len(entry) > 3}
    )


def tracked_set(repo_path: Path) -> set[str]:
    """Every path in git's index (any stage) under `repo_path`, relative to it."""
    _require_repo(repo_path)
    out = _git(repo_path, "ls-files", "-z", "--").stdout
    return {os.fsdecode(p) for p in out.split(b"\0") if p}


def _tree_entries(repo_path: Path, commit: str) -> list[tuple[str, str, str]]:
    """(path, blob id, git mode) for every entry of a commit's tree, recursively."""
    listing = _git(repo_path, "ls-tree", "-r", "-z", "--full-tree", commit, "--").stdout
    entries = []
    for record in listing.split(b"\0"):
        if record:
            meta, _, raw_path = record.partition(b"\t")
            git_mode, _kind, sha = meta.decode().split()
            entries.append((os.fsdecode(raw_path), sha, git_mode))
    return entries


def _read_blobs(repo_path: Path, entries: list[tuple[str, str, int]]) -> dict[str, Blob]:
    """The bytes of many blobs with one `git cat-file --batch`."""
    out = _git(
        repo_path, "cat-file", "--batch", stdin="".join(sha + "\n" for _, sha, _ in entries).encode()
    ).stdout
    files: dict[str, Blob] = {}
    offset = 0
    for name, _sha, mode in entries:
        header_end = out.index(b"\n", offset)
        size = int(out[offset:header_end].split()[2])
        files[name] = Blob(out[header_end + 1 : header_end + 1 + size], mode)
        offset = header_end + 1 + size + 1
    return files


def tree_files(repo_path: Path, commit: str) -> dict[str, Blob]:
    """Every file of a commit's tree with its bytes and mode (symlinks and submodules are skipped):
    one `git ls-tree` and one `git cat-file --batch`."""
    entries = [
        (path, sha, 0o755 if mode == "100755" else 0o644)
        for path, sha, mode in _tree_entries(repo_path, commit)
        if mode in ("100644", "100755")
    ]
    return _read_blobs(repo_path, entries)


def _check_ref(ref: str | None) -> None:
    if ref is not None and (not ref or ref.startswith("-") or ".." in ref or not set(ref) <= _REF_OK):
        raise UserError(f"--to {ref!r}: not a valid git ref (letters, digits, '._/-+'; no leading '-')")


def export_tree(repo_path: Path, ref: str, dest: Path) -> str:
    """Write the files of a local repository's `ref` into `dest` (a new folder) without cloning:
    for a template kept in a local git repository. Returns the commit id. A symlink or submodule in
    the template is an error (templates may contain neither)."""
    from mlscaffold.errors import TemplateError

    _check_ref(ref)
    _require_repo(repo_path)
    done = _git(
        repo_path, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", ok=(0, 1)
    )
    if done.returncode != 0:
        raise UserError(f"template '{repo_path}': no such ref {ref!r}")
    sha = done.stdout.decode().strip()
    entries = []
    for path, blob, mode in _tree_entries(repo_path, sha):
        if path.startswith("/") or any(part in ("", ".", "..", ".git") for part in path.split("/")):
            raise TemplateError(f"{repo_path}@{ref}: unsafe path {path!r} in the template's tree")
        if mode not in ("100644", "100755"):
            raise TemplateError(
                f"{repo_path}@{ref}: {path}: templates may not contain symlinks or submodules"
            )
        entries.append((path, blob, 0o755 if mode == "100755" else 0o644))
    for path, file in _read_blobs(repo_path, entries).items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.content)
        target.chmod(file.mode)
    return sha


@dataclass(frozen=True)
class MergeOutcome:
    content: bytes
    conflicts: int  # 0: merged cleanly


def merge_file(ours: bytes, base: bytes, theirs: bytes, labels: tuple[str, str, str]) -> MergeOutcome:
    """Three-way merge of one file's bytes with `git merge-file` (run outside any repository)."""
    with tempfile.TemporaryDirectory(prefix="mlscaffold-merge-") as scratch:
        paths = []
        for name, content in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(scratch) / name
            path.write_bytes(content)
            paths.append(str(path))
        label_args = [arg for label in labels for arg in ("-L", label)]
        done = _git(Path(scratch), "merge-file", "-p", *label_args, "--", *paths, ok=tuple(range(128)))
    return MergeOutcome(done.stdout, done.returncode)


def mark_unmerged(repo_path: Path, entries: dict[str, tuple[Blob | None, Blob | None, Blob | None]]) -> None:
    """Record conflicts in git's index as stages 1 (base), 2 (ours) and 3 (theirs), as `git merge` does,
    so `git status` lists them as unmerged until the user resolves and adds them."""
    order = sorted(entries)
    blobs = [b for p in order for b in entries[p] if b is not None]
    shas = iter(store_blobs(repo_path, [b.content for b in blobs]))
    prefix = repo_prefix(repo_path)  # the index holds the whole repository's paths
    lines: list[str] = []
    for path in order:
        lines.append(f"0 {'0' * 40}\t{prefix}{path}")
        for stage, blob in enumerate(entries[path], start=1):
            if blob is not None:
                lines.append(f"{_git_mode(blob.mode)} {next(shas)} {stage}\t{prefix}{path}")
    _index_info(repo_path, lines)


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
    _check_ref(ref)
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
    _git(path, "init", "--quiet")


def commits_adding(repo_path: Path, path: str) -> list[str]:
    """Commits in HEAD's history that added `path`, oldest first (none without a HEAD)."""
    _require_repo(repo_path)
    done = _git(
        repo_path, "log", "--format=%H", "--diff-filter=A", "--reverse", "HEAD", "--", path, ok=(0, 128)
    )
    return done.stdout.decode().split() if done.returncode == 0 else []


def commit_message(repo_path: Path, sha: str) -> str:
    """The full message of a commit."""
    return _git(repo_path, "log", "-1", "--format=%B", sha, "--").stdout.decode("utf-8", "replace")


def index_entries(repo_path: Path, paths: list[str]) -> list[str]:
    """git's index entries for `paths` as `update-index --index-info` lines, to put back later."""
    if not paths:
        return []
    out = _git(repo_path, "ls-files", "-s", "-z", "--full-name", "--", *paths).stdout
    return [os.fsdecode(entry) for entry in out.split(b"\0") if entry]


def restore_index_entries(repo_path: Path, paths: list[str], entries: list[str]) -> None:
    """Put back the index entries `index_entries` returned (dropping whatever is there now)."""
    if paths:
        prefix = repo_prefix(repo_path)
        _index_info(repo_path, [f"0 {'0' * 40}\t{prefix}{p}" for p in paths] + entries)


def renames_since(repo_path: Path, commit: str) -> dict[str, str]:
    """Files git sees as moved between `commit` and HEAD (rename detection at its default 50%
    similarity): {old path: new path}."""
    head = project_tree(repo_path, "HEAD")
    out = _git(repo_path, "diff", "--find-renames", "--name-status", "-z", commit, head, "--").stdout
    tokens = [os.fsdecode(t) for t in out.split(b"\0")]
    moved: dict[str, str] = {}
    i = 0
    while i < len(tokens) and tokens[i]:
        status = tokens[i]
        if status.startswith(("R", "C")):
            if status.startswith("R"):
                moved[tokens[i + 1]] = tokens[i + 2]
            i += 3
        else:
            i += 2
    return moved


def files_with_line_start(repo_path: Path, start: str) -> list[str]:
    """Tracked text files with a line that begins with `start` (letters, spaces and `<>=` only)."""
    if not set(start) <= set("abcdefghijklmnopqrstuvwxyz <>="):
        raise ValueError(f"not a plain line start: {start!r}")
    done = _git(repo_path, "grep", "-l", "-z", "-I", "-e", f"^{start}", "--", ok=(0, 1))
    return sorted(os.fsdecode(p) for p in done.stdout.split(b"\0") if p)
