"""Bench: peak memory of `mlscaffold new` when a template ships a large binary file (P11, issue 10).

A template with one small rendered file and one SIZE-MiB binary file (random bytes, so git cannot
compress it) is generated with `python -m mlscaffold new`, once with --no-git (mlscaffold's process
alone) and once with git (the peak then includes the git processes mlscaffold runs). Peak RSS comes
from wait4()'s rusage of the child, which on Linux covers the child and the processes it waited for.
The copy is checked byte for byte afterwards.

Run:
    python bench/bench_large_copy.py [--size-mib 384] [--pythonpath /work/main]
`--pythonpath` measures another checkout of mlscaffold with the same interpreter (e.g. before a fix).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SET = "name: bench\nversion: '1'\nbase: base\nstages: []\nquestions: []\n"


def make_template(root: Path, size_mib: int) -> Path:
    files = root / "tpl" / "base" / "files"
    (files / "models").mkdir(parents=True)
    (root / "tpl" / "template.yaml").write_text(SET)
    (root / "tpl" / "base" / "manifest.yaml").write_text("kind: base\n")
    (files / "README.md.jinja").write_text("# {{ project_slug }}\n")
    chunk = os.urandom(1 << 20)
    with (files / "models" / "big.bin").open("wb") as handle:
        for i in range(size_mib):
            handle.write(chunk[i % 7 :] + chunk[: i % 7])  # not one repeated MiB
    return root / "tpl"


def peak_rss_mib(args: list[str], cwd: Path, pythonpath: str | None) -> float:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.Popen([sys.executable, "-m", "mlscaffold", *args], cwd=cwd, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"mlscaffold {' '.join(args)} failed with exit {proc.returncode}")
    return usage.ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=384)
    parser.add_argument("--pythonpath", default=None, help="another mlscaffold checkout to measure")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-large-copy-") as scratch:
        root = Path(scratch)
        tpl = make_template(root, options.size_mib)
        source = tpl / "base" / "files" / "models" / "big.bin"
        print(
            f"template file: {options.size_mib} MiB binary; "
            f"mlscaffold from {options.pythonpath or 'installed'}"
        )
        for label, extra in (("new --no-git", ["--no-git"]), ("new (git)", [])):
            dest = root / label.replace(" ", "_").replace("(", "").replace(")", "")
            rss = peak_rss_mib(
                ["new", str(dest), "--template", str(tpl), "--defaults", *extra], root, options.pythonpath
            )
            same = filecmp.cmp(source, dest / "models" / "big.bin", shallow=False)
            print(f"{label:<14} peak RSS {rss:8.1f} MiB   copy identical: {same}")


if __name__ == "__main__":
    main()
