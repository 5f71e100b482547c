"""A read-only view of a repository for `check` and `score`: what git tracks, read lazily.

Only tracked files are considered, so data folders, virtual environments and build outputs that
git ignores cost nothing. Outside git (or before the first `git add`) the view walks the folder
instead, skipping `.git`, data, artefacts, virtual environments, `node_modules` and caches.
"""

from __future__ import annotations

import bisect
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlscaffold import vcs
from mlscaffold.errors import UserError
from mlscaffold.repoview.globs import compile_glob

if TYPE_CHECKING:
    from concurrent.futures import Future

    from mlscaffold.engine.record import Record

MAX_TEXT_BYTES = 2_000_000
SKIP_ANYWHERE = frozenset(
    {
        ".git",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        ".ipynb_checkpoints",
    }
)
SKIP_AT_ROOT = frozenset({"data", "artifacts", "logs", "predictions", "build", "dist"})


@dataclass(frozen=True)
class Line:
    """A line of a text file that a scan picked out."""

    path: str
    number: int
    text: str


class RepoView:
    """The files of one repo, relative POSIX paths, with cached reads."""

    def __init__(self, root: Path, *, worktree: bool = False) -> None:
        """`worktree`: judge the files on disk (tracked plus untracked ones git does not ignore) rather
        than only what git tracks; `check` and `score` take the same choice, so they judge one snapshot."""
        if not root.exists():
            raise UserError(f"{root}: no such folder")
        if not root.is_dir():
            raise UserError(f"{root}: not a folder")
        self.root = root
        listed = vcs.listed_files(root) if worktree else None
        tracked = listed or vcs.tracked_files(root)
        self.git_tracked = bool(tracked) and not worktree
        self.files: list[str] = sorted(tracked if tracked else _walk(root))  # sorted: prefix lookups
        self._texts: dict[str, str | None] = {}
        self._pending: tuple[tuple[tuple[str, ...], ...], Future[list[vcs.GrepHit] | None]] | None = None

    @cached_property
    def file_set(self) -> frozenset[str]:
        return frozenset(self.files)

    def has(self, rel: str) -> bool:
        return rel in self.file_set

    def glob(self, pattern: str) -> list[str]:
        literal = pattern.removeprefix("./").removeprefix("/")
        anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
        if anchored and not any(ch in literal for ch in "*?[") and literal in self.file_set:
            return [literal]  # the common case, a file named by its path: no scan needed
        rx = compile_glob(pattern)
        return [p for p in self._candidates(pattern) if rx.match(p) is not None]

    def glob_any(self, patterns: Iterable[str]) -> list[str]:
        chosen: set[str] = set()
        for pattern in patterns:
            chosen.update(self.glob(pattern))
        return sorted(chosen)

    def _candidates(self, pattern: str) -> list[str]:
        """Files that can match: those starting with an anchored pattern's literal part, else all."""
        prefix = _literal_prefix(pattern)
        if not prefix:
            return self.files
        lo = bisect.bisect_left(self.files, prefix)
        return self.files[lo : bisect.bisect_left(self.files, prefix + "\U0010ffff", lo)]

    def start_scan(self, needles: list[tuple[str, ...]]) -> None:
        """Start `scan(needles)` in the background (git grep is another process) to overlap it."""
        if self.git_tracked and self._pending is None:
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(max_workers=1)
            self._pending = (tuple(needles), pool.submit(vcs.grep_tracked, self.root, needles))
            pool.shutdown(wait=False)

    def read_text(self, rel: str) -> str | None:
        """The text of a file in the snapshot, or None when it is not in it (untracked, by default),
        binary, not UTF-8 or too large."""
        if rel not in self.file_set:
            return None
        return self.read_output(rel)

    def read_output(self, rel: str) -> str | None:
        """The text of a file on disk, in the snapshot or not: for what a pipeline run wrote (reports)."""
        if rel not in self._texts:
            self._texts[rel] = _read_text(self.root / rel)
        return self._texts[rel]

    def exists_on_disk(self, rel: str) -> bool:
        """For outputs a pipeline writes (reports, artefacts), tracked or not; not through symlinks."""
        try:
            return stat.S_ISREG((self.root / rel).lstat().st_mode)
        except OSError:
            return False

    @cached_property
    def record(self) -> Record | None:
        from mlscaffold.engine.record import RECORD_NAME, read_record

        if not (self.root / RECORD_NAME).is_file():
            return None
        return read_record(self.root)

    @cached_property
    def pyproject(self) -> dict[str, Any] | None:
        from mlscaffold.yamlio import load_mapping

        path = self.root / "pyproject.toml"
        return load_mapping(path) if path.is_file() else None

    def scan(self, needles: list[tuple[str, ...]]) -> list[Line]:
        """Lines of text files holding every string of any needle (case-insensitive).

        Uses git grep when the files are tracked, else reads each file.
        """
        if self.git_tracked:
            pending, self._pending = self._pending, None
            if pending is not None and pending[0] == tuple(needles):
                hits = pending[1].result()
            else:
                hits = vcs.grep_tracked(self.root, needles)
            if hits is not None:
                return [Line(h.path, h.line, h.text) for h in hits]
        return self._scan_files(needles)

    def _scan_files(self, needles: list[tuple[str, ...]]) -> list[Line]:
        lowered = [tuple(part.lower() for part in needle) for needle in needles]
        first = re.compile("|".join(re.escape(n[0]) for n in lowered), re.IGNORECASE)
        found: list[Line] = []
        for rel in self.files:
            text = self.read_text(rel)
            if text is None or first.search(text) is None:
                continue
            for number, line in enumerate(text.splitlines(), start=1):
                low = line.lower()
                if any(all(part in low for part in needle) for needle in lowered):
                    found.append(Line(rel, number, line))
        return found


def _literal_prefix(pattern: str) -> str:
    """`.github/workflows/*.yml` -> `.github/workflows/`; '' when the pattern is not anchored."""
    pat = pattern.removeprefix("./")
    if not (pat.startswith("/") or "/" in pat.rstrip("/")):
        return ""
    pat = pat.lstrip("/")
    cut = min((pat.index(ch) for ch in "*?[" if ch in pat), default=len(pat))
    return pat[:cut]


def _read_text(path: Path) -> str | None:
    """A regular file's text; symlinks are not followed, so nothing outside the repo is read."""
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_TEXT_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _walk(root: Path) -> list[str]:
    """Every file under root, skipping folders that hold data, outputs or environments."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        at_root = rel_dir == "."
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_ANYWHERE
            and not (at_root and d in SKIP_AT_ROOT)
            and not os.path.isfile(os.path.join(dirpath, d, "pyvenv.cfg"))
        )
        prefix = "" if at_root else rel_dir.replace(os.sep, "/") + "/"
        found.extend(prefix + name for name in sorted(filenames))
    return found
