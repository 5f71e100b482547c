"""Applying planned files, all-or-nothing: a staging folder for new projects, backups and rollback for
changes to a repo, a lock per destination.

Promises kept here: P1 (never write outside the destination or through a symlink), P5 (all-or-nothing,
Ctrl-C included), P7 (modes), P15 (one run per destination; no leftovers).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from mlscaffold.engine.render import Change, FileSpec, safe_relative_path
from mlscaffold.errors import ConflictError, MlscaffoldError, UserError

_COPY_CHUNK = 1 << 20


@contextlib.contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Refuse a second mlscaffold run on the same folder at the same time (promise P15)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"{folder}: another mlscaffold run is using this folder; retry when it ends"
            ) from None
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C back for a few system calls: it then lands between two files, where callers roll
    back, never between creating a temporary file and cleaning it up (P5, P15)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _write_file(path: Path, content: bytes | Path, mode: int) -> None:
    """Write one file atomically: `content` is its bytes, or a file to copy them from in chunks (P11).
    Tests replace this to inject failures at the k-th write."""
    with _sigint_held():
        fd, tmp = tempfile.mkstemp(prefix=".mlscaffold-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                if isinstance(content, Path):
                    with content.open("rb") as source:
                        shutil.copyfileobj(source, handle, _COPY_CHUNK)
                else:
                    handle.write(content)
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def _refuse_links(dest: Path, rel: str) -> Path:
    """Return dest/rel after checking that no existing part of it is a symlink (promise P1)."""
    current = dest
    for part in rel.split("/"):
        current = current / part
        if current.is_symlink():
            raise ConflictError(f"refusing to write through a symlink: {current.relative_to(dest)}")
    return current


def check_target(dest: Path, rel: str) -> None:
    """Refuse, before anything is written, a target reached through a symlink or under a file."""
    _refuse_links(dest, rel)
    current = dest
    for part in rel.split("/")[:-1]:
        current = current / part
        if current.exists() and not current.is_dir():
            raise ConflictError(f"'{current.relative_to(dest)}' is a file, but the plan needs a folder there")


def _make_parents(dest: Path, rel: str, created: list[Path]) -> None:
    current = dest
    for part in rel.split("/")[:-1]:
        current = current / part
        if current.is_symlink():
            raise ConflictError(f"refusing to write through a symlink: {current.relative_to(dest)}")
        if not current.exists():
            current.mkdir()
            created.append(current)
        elif not current.is_dir():
            raise ConflictError(f"'{current.relative_to(dest)}' is a file, but the plan needs a folder there")


def _write_failed(err: OSError, rel: str, dest: Path) -> MlscaffoldError:
    """A write the system refused (disk full, file too large, permissions), naming the file and the
    destination (P8): the caller has already rolled back, so nothing was changed."""
    return MlscaffoldError(f"{rel}: cannot write it in {dest}: {err.strerror or err}; nothing was changed")


def write_tree(root: Path, files: Iterable[FileSpec], shown_as: Path | None = None) -> None:
    """Write files into a fresh folder that nothing else can see yet (a staging folder). Errors name
    `shown_as`, the destination the staging folder will become."""
    created: list[Path] = []
    for spec in files:
        safe_relative_path(spec.path, spec.origin or spec.path)
        try:
            _make_parents(root, spec.path, created)
            content = spec.source if spec.source is not None else spec.data
            _write_file(_refuse_links(root, spec.path), content, spec.mode)
        except OSError as err:
            raise _write_failed(err, spec.path, shown_as or root) from err


STAGING_INFIX = ".mlscaffold-"  # staging folders are `.<dest name>.mlscaffold-XXXXXXXX`
OWNER_SUFFIX = ".owner"  # beside each: `<staging>.owner`, locked by the live run, holding its pid


@contextlib.contextmanager
def staging_beside(dest: Path) -> Iterator[Path]:
    """A temporary folder next to `dest` (same file system, so the final move is one rename).
    It is removed on any error or interruption; one that a killed run left behind is removed by the
    next run in the same folder (P15)."""
    parent = dest.parent
    if not parent.is_dir():
        raise UserError(f"{parent}: the folder to create the project in does not exist")
    remove_stale_staging(parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}{STAGING_INFIX}", dir=parent))
    owner: int | None = None
    try:
        owner = _claim(staging)
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        _release(staging, owner)


def _owner_marker(staging: Path) -> Path:
    return staging.with_name(staging.name + OWNER_SUFFIX)


def _claim(staging: Path) -> int:
    """Mark `staging` as this run's: a file beside it holding our pid and locked while we live. It is
    made and locked inside the staging folder, then renamed beside it, so no other run ever sees an
    unlocked marker of a live run."""
    with _sigint_held():
        fd = os.open(staging / OWNER_SUFFIX, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, f"pid {os.getpid()}\n".encode())
            os.rename(staging / OWNER_SUFFIX, _owner_marker(staging))
        except BaseException:
            os.close(fd)
            raise
    return fd


def _release(staging: Path, owner: int | None) -> None:
    with contextlib.suppress(FileNotFoundError):
        _owner_marker(staging).unlink()
    if owner is not None:
        os.close(owner)


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove the staging folders in `parent` whose run died (SIGKILL, power cut): those with an
    owner marker that nobody holds locked any more. A folder without a marker, or whose owner still
    runs, is never touched. Returns what was removed."""
    removed = []
    for marker in sorted(parent.glob(f".*{STAGING_INFIX}*{OWNER_SUFFIX}")):
        staging = marker.with_name(marker.name.removesuffix(OWNER_SUFFIX))
        try:
            fd = os.open(marker, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:  # gone already, a symlink, or not ours to read
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # its run is alive
            os.close(fd)
            continue
        try:
            if staging.is_dir() and not staging.is_symlink():
                shutil.rmtree(staging, ignore_errors=True)
                removed.append(staging)
            with contextlib.suppress(FileNotFoundError):
                marker.unlink()
        finally:
            os.close(fd)
    return removed


def move_into_place(staging: Path, dest: Path) -> None:
    """Move a finished staging folder to `dest`, which must be absent or an empty folder."""
    if dest.is_symlink():
        raise ConflictError(f"{dest}: the destination is a symlink; refusing to replace it")
    if dest.exists():
        if not dest.is_dir() or any(dest.iterdir()):
            raise ConflictError(f"{dest}: the destination already exists and is not empty")
        dest.rmdir()
    try:
        os.rename(staging, dest)
    except OSError as err:
        raise MlscaffoldError(f"{dest}: cannot move the new project into place: {err.strerror}") from err


def apply_changes(repo: Path, changes: Iterable[Change]) -> None:
    """Apply changes to an existing repo all-or-nothing (promise P5): originals are backed up first,
    and any error or Ctrl-C restores every file and removes what was created."""
    changes = list(changes)
    backup_dir = Path(tempfile.mkdtemp(prefix="mlscaffold-backup-"))
    backups: list[tuple[Path, Path | None, int]] = []  # (target, backup copy or None if new, mode)
    created_dirs: list[Path] = []
    try:
        for i, change in enumerate(changes):
            safe_relative_path(change.path, change.path)
            try:
                _apply_one(repo, change, backup_dir / str(i), backups, created_dirs)
            except OSError as err:
                raise _write_failed(err, change.path, repo) from err
    except BaseException:
        _roll_back(backups, created_dirs)
        raise
    finally:
        shutil.rmtree(backup_dir, ignore_errors=True)


def _apply_one(
    repo: Path,
    change: Change,
    copy: Path,
    backups: list[tuple[Path, Path | None, int]],
    created_dirs: list[Path],
) -> None:
    target = _refuse_links(repo, change.path)
    mode = change.mode
    if target.exists():
        shutil.copy2(target, copy)
        current = stat.S_IMODE(target.stat().st_mode)
        backups.append((target, copy, current))
        mode = kept_mode(current, change.mode)
    else:
        backups.append((target, None, 0))
    if change.action == "delete":
        if target.exists():
            target.unlink()
        return
    _make_parents(repo, change.path, created_dirs)
    _write_file(target, change.content, mode)


def kept_mode(current: int, wanted: int) -> int:
    """The mode for a file that is rewritten: the user's own (a `chmod 600` stays 600, P6/P7); only
    the executable bit follows `wanted` (git's modes, 0o644 or 0o755, carry nothing else), and is
    given where the file can be read, as git does."""
    if bool(wanted & 0o111) == bool(current & 0o111):
        return current
    if wanted & 0o111:
        return current | ((current & 0o444) >> 2)
    return current & ~0o111


def _roll_back(backups: list[tuple[Path, Path | None, int]], created_dirs: list[Path]) -> None:
    for target, copy, mode in reversed(backups):
        if copy is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        else:
            shutil.copy2(copy, target)
            os.chmod(target, mode)
    for folder in reversed(created_dirs):
        with contextlib.suppress(OSError):
            folder.rmdir()
