"""Helpers shared by the tests: tree snapshots and tiny template sets."""

from __future__ import annotations

import os
from pathlib import Path


def snapshot(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Every path under root with its kind, bytes or link target, and mode (for P1/P4/P5 checks)."""
    result: dict[str, tuple[str, bytes | str, int]] = {}
    if not root.exists():
        return result
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if path.is_symlink():
                result[rel] = ("link", os.readlink(path), st.st_mode)
            elif path.is_dir():
                result[rel] = ("dir", b"", st.st_mode)
            else:
                result[rel] = ("file", path.read_bytes(), st.st_mode)
    return result


def make_template_set(
    root: Path,
    files: dict[str, bytes | str],
    *,
    set_manifest: str = "name: test-set\nversion: '1.0'\nbase: base\nstages: []\nquestions: []\n",
    base_manifest: str = "kind: base\nname: base\n",
    stages: dict[str, tuple[str, dict[str, bytes | str]]] | None = None,
) -> Path:
    """Write a small template set: base files plus optional stages {name: (manifest, files)}."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "template.yaml").write_text(set_manifest)
    _write_unit(root / "base", base_manifest, files)
    for name, (manifest, stage_files) in (stages or {}).items():
        _write_unit(root / "stages" / name, manifest, stage_files)
    return root


def _write_unit(unit: Path, manifest: str, files: dict[str, bytes | str]) -> None:
    (unit / "files").mkdir(parents=True, exist_ok=True)
    (unit / "manifest.yaml").write_text(manifest)
    for rel, content in files.items():
        path = unit / "files" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
