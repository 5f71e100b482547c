"""Helpers shared by the tests: tree snapshots and tiny template sets."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
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


def cli_in_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`mlscaffold ARGS` run by `cli.main` in this process, as `python -m mlscaffold ARGS` would run it
    in `cwd` with no terminal: the exit code, stdout and stderr. For tests about what a command does; the
    tests about the process itself (the console script, signals, a terminal) keep a real subprocess. It
    saves the interpreter's start and the imports (pandas and scikit-learn, when `new` probes the data)."""
    from mlscaffold import cli

    out, err = io.StringIO(), io.StringIO()
    before = os.getcwd(), sys.argv, sys.stdin
    code: int | str | None = 0
    try:
        os.chdir(cwd)
        sys.argv, sys.stdin = ["mlscaffold", *args], io.StringIO("")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as done:
                code = done.code
    finally:
        os.chdir(before[0])
        sys.argv, sys.stdin = before[1], before[2]
    returncode = code if isinstance(code, int) else (0 if code is None else 1)
    return subprocess.CompletedProcess(["mlscaffold", *args], returncode, out.getvalue(), err.getvalue())
