"""The one unified-diff builder (add --dry-run, update --dry-run, diff)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

from mlscaffold.engine.render import Change


def is_text(content: bytes) -> bool:
    """UTF-8 without NUL bytes."""
    if b"\0" in content:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def unified(old: bytes, new: bytes, old_name: str, new_name: str) -> str:
    """A git-style unified diff of two versions; binary files are named, not shown."""
    if old == new:
        return ""
    if not (is_text(old) and is_text(new)):
        return f"Binary files {old_name} and {new_name} differ\n"
    lines = difflib.unified_diff(
        old.decode("utf-8").splitlines(keepends=True),
        new.decode("utf-8").splitlines(keepends=True),
        old_name if old else "/dev/null",
        new_name if new else "/dev/null",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def changes_diff(repo: Path, changes: Sequence[Change]) -> str:
    """What applying `changes` would do to the repo, as one unified diff (a/ = now, b/ = after)."""
    chunks = []
    for change in changes:
        target = repo / change.path
        old = target.read_bytes() if change.action != "create" and target.is_file() else b""
        new = b"" if change.action == "delete" else change.content
        chunks.append(unified(old, new, f"a/{change.path}", f"b/{change.path}"))
    return "".join(chunks)
