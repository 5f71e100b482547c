"""THE engine: turn (template units, answers) into a Plan of file writes, then apply it all-or-nothing.

`plan_*` functions only read; `apply_*` functions only write what the plan says. Promises kept here:
P1 (never write outside the destination), P4 (never overwrite without consent: callers pass the
decision in), P5 (all-or-nothing), P7 (byte fidelity) and P12 (a plan can be shown without applying).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import jinja2

from .errors import ConflictError, MlscaffoldError, TemplateError, UserError
from .jinja_env import make_environment, render_text
from .templates import Unit

BOM = "\ufeff"
_FORBIDDEN_PARTS = {"", ".", "..", ".git"}
# Folders that tools leave in a template checkout (not part of any template).
_TOOL_CACHES = frozenset({"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache", ".hypothesis"})


@dataclass(frozen=True)
class FileSpec:
    """One file to write: its path relative to the destination (POSIX), its bytes and its mode."""

    path: str
    content: bytes
    mode: int = 0o644
    origin: str = ""


@dataclass(frozen=True)
class Change:
    """One change to an existing repo."""

    path: str
    action: Literal["create", "modify", "delete"]
    content: bytes = b""
    mode: int = 0o644


def safe_relative_path(path: str, where: str) -> str:
    """Validate a rendered relative path: no absolute paths, no '..', no '.git', no odd characters."""
    if "\\" in path or "\x00" in path or path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise TemplateError(f"{where}: unsafe file name {path!r} (absolute or with a backslash)")
    parts = PurePosixPath(path).parts
    if not parts or any(p in _FORBIDDEN_PARTS for p in path.split("/")):
        raise TemplateError(f"{where}: unsafe file name {path!r} (empty, '.', '..' or '.git' in it)")
    return path


# ---------------------------------------------------------------------------------------------------
# rendering


def _line_ending(text: str) -> str:
    if "\r\n" in text:
        return "\r\n"
    if "\r" in text:
        return "\r"
    return "\n"


def render_file_text(env: jinja2.Environment, raw: bytes, context: Mapping[str, Any], where: str) -> bytes:
    """Render one template file, keeping its BOM, line endings and final newline (promise P7)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TemplateError(
            f"{where}: a template file must be UTF-8 text (binary or other encoding)"
        ) from err
    if "\x00" in text:
        raise TemplateError(f"{where}: a template file must be text, not binary")
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    newline = _line_ending(text)
    env.newline_sequence = newline  # type: ignore[assignment]
    out = render_text(env, text, context, where)
    return ((BOM if bom else "") + out).encode("utf-8")


def _is_binary(raw: bytes) -> bool:
    if b"\x00" in raw:
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _walk(root: Path) -> Iterator[Path]:
    """Every file under root, sorted; symlinks in a template are refused (P1, P2)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        here = Path(dirpath)
        for name in [*sorted(dirnames), *sorted(filenames)]:
            if (here / name).is_symlink():
                raise TemplateError(f"{here / name}: templates may not contain symlinks")
        dirnames[:] = [d for d in dirnames if d not in _TOOL_CACHES]
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")) or name == ".DS_Store":
                continue
            yield here / name


def _render_path(env: jinja2.Environment, rel: str, context: Mapping[str, Any], where: str) -> str | None:
    """Render each segment of a path; a segment that renders empty drops the file."""
    parts = []
    for segment in rel.split("/"):
        rendered = render_text(env, segment, context, where) if "{" in segment else segment
        if rendered.strip() == "":
            return None
        parts.append(rendered)
    return safe_relative_path("/".join(parts), where)


def render_unit(unit: Unit, context: Mapping[str, Any], *, trusted: bool = False) -> list[FileSpec]:
    """Render the `files/` tree of one base or stage."""
    root = unit.files_root
    if not root.is_dir():
        return []
    env = make_environment(unit.root, trusted=trusted, extensions=unit.jinja_extensions)
    suffix = unit.templates_suffix
    specs = []
    for source in _walk(root):
        rel = source.relative_to(root).as_posix()
        where = f"{unit.name}: {rel}"
        verbatim = any(fnmatch.fnmatch(rel, pat) for pat in unit.copy_without_render)
        is_template = not verbatim and (suffix == "" or rel.endswith(suffix))
        target_rel = rel[: -len(suffix)] if is_template and suffix else rel
        target = _render_path(env, target_rel, context, where)
        if target is None:
            continue
        raw = source.read_bytes()
        if is_template and suffix == "" and _is_binary(raw):
            is_template = False  # cookiecutter's habit: binary files are copied as they are
        content = render_file_text(env, raw, context, where) if is_template else raw
        mode = stat.S_IMODE(source.stat().st_mode) | 0o600
        specs.append(FileSpec(target, content, mode, f"{unit.name}/{rel}"))
    return specs


def merge_specs(groups: Iterable[list[FileSpec]]) -> dict[str, FileSpec]:
    """Merge the outputs of several units; two units may not write different bytes to one path."""
    merged: dict[str, FileSpec] = {}
    for group in groups:
        for spec in group:
            previous = merged.get(spec.path)
            if previous is not None and previous.content != spec.content:
                raise TemplateError(
                    f"{spec.origin}: writes '{spec.path}', which {previous.origin} writes too; "
                    "a stage must add files of its own"
                )
            merged[spec.path] = spec
    return merged


# ---------------------------------------------------------------------------------------------------
# applying


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


def _write_file(path: Path, content: bytes, mode: int) -> None:
    """Write one file atomically. Tests replace this to inject failures at the k-th write."""
    with _sigint_held():
        fd, tmp = tempfile.mkstemp(prefix=".mlscaffold-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
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


def write_tree(root: Path, files: Iterable[FileSpec]) -> None:
    """Write files into a fresh folder that nothing else can see yet (a staging folder)."""
    created: list[Path] = []
    for spec in files:
        safe_relative_path(spec.path, spec.origin or spec.path)
        _make_parents(root, spec.path, created)
        _write_file(_refuse_links(root, spec.path), spec.content, spec.mode)


@contextlib.contextmanager
def staging_beside(dest: Path) -> Iterator[Path]:
    """A temporary folder next to `dest` (same file system, so the final move is one rename).
    It is removed on any error or interruption."""
    parent = dest.parent
    if not parent.is_dir():
        raise UserError(f"{parent}: the folder to create the project in does not exist")
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.mlscaffold-", dir=parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)


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
            target = _refuse_links(repo, change.path)
            if target.exists():
                copy = backup_dir / str(i)
                shutil.copy2(target, copy)
                backups.append((target, copy, stat.S_IMODE(target.stat().st_mode)))
            else:
                backups.append((target, None, 0))
            if change.action == "delete":
                if target.exists():
                    target.unlink()
                continue
            _make_parents(repo, change.path, created_dirs)
            _write_file(target, change.content, change.mode)
    except BaseException:
        _roll_back(backups, created_dirs)
        raise
    finally:
        shutil.rmtree(backup_dir, ignore_errors=True)


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
