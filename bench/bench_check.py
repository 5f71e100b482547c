"""Time `mlscaffold check` on a repo with 100,000 tracked files (target: under 2 s).

    python bench/bench_check.py [--files N] [--keep]

Builds a git repo in a temporary folder: a generated-project skeleton plus N small tracked files
spread over folders (Python modules, notebooks' exports, CSV fixtures, Markdown), commits them,
then times the check three times through the command line (or through the API when the CLI is not
installed) and prints the best wall-clock time in seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SKELETON = {
    "README.md": "# bench\n\nA repo for timing `mlscaffold check`.\n",
    "pyproject.toml": '[project]\nname = "bench"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n',
    ".github/workflows/ci.yml": (
        "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: make all\n"
    ),
    "docs/formulation.md": "# Formulation\n\n## 1. Value proposition\n\nAnalysts get churn alerts.\n",
    "Makefile": "all:\n\tpython -m bench all\n",
}
KINDS = (
    ("py", 'import os\n\n\ndef f{i}(x: int) -> int:\n    """Return x plus {i}."""\n    return x + {i}\n'),
    ("md", "# Note {i}\n\nSee https://example.org/{i} for the source.\n"),
    ("csv", "id,value,label\n{i},0.{i},1\n"),
    ("json", '{{"id": {i}, "token": null, "url": "https://example.org/{i}"}}\n'),
)


def make_repo(root: Path, n_files: int) -> None:
    for rel, text in SKELETON.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    per_dir = 500
    for i in range(n_files - len(SKELETON)):
        ext, body = KINDS[i % len(KINDS)]
        folder = root / "src" / f"pkg{i // per_dir:04d}"
        if i % per_dir == 0:
            folder.mkdir(parents=True)
        (folder / f"m{i:06d}.{ext}").write_text(body.format(i=i), encoding="utf-8")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
    }
    git = ["git", "-C", str(root), "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True, env=env)
    subprocess.run([*git, "add", "-A"], check=True, env=env)
    subprocess.run([*git, "commit", "-q", "--no-verify", "-m", "bench"], check=True, env=env)


def time_cli(root: Path) -> float | None:
    exe = shutil.which("mlscaffold") or str(Path(sys.executable).with_name("mlscaffold"))
    if not Path(exe).exists():
        return None
    start = time.perf_counter()
    proc = subprocess.run([exe, "check", str(root)], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1) or "checked" not in proc.stdout:
        return None  # no working `check` command yet
    return elapsed


def time_api(root: Path) -> float:
    start = time.perf_counter()
    code = (
        "import sys; from pathlib import Path; from mlscaffold.conventions import check_repo, format_report;"
        "r = check_repo(repo=Path(sys.argv[1])); sys.stdout.write(format_report(r, 'text'))"
    )
    subprocess.run([sys.executable, "-c", code, str(root)], check=True, capture_output=True)
    return time.perf_counter() - start


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the repo and print its path")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mlscaffold-bench-"))
    try:
        t0 = time.perf_counter()
        make_repo(tmp, args.files)
        print(
            f"built a repo with {args.files} tracked files in {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        how = "mlscaffold check" if time_cli(tmp) is not None else "check_repo (python -c)"
        runs: list[float] = []
        cpu: list[float] = []
        for _ in range(3):
            before = _children_cpu()
            runs.append((time_cli(tmp) if how == "mlscaffold check" else None) or time_api(tmp))
            cpu.append(_children_cpu() - before)
        best = min(runs)
        load = os.getloadavg()[0]
        print(
            f"{how} on {args.files} tracked files: best of 3 = {best:.2f} s wall "
            f"(runs: {', '.join(f'{r:.2f}' for r in runs)}; target < 2 s); "
            f"CPU {min(cpu):.2f} s (user+sys, with git); load average {load:.1f} on {os.cpu_count()} cores",
            file=sys.stderr,
        )
        print(f"{best:.3f}")
        if args.keep:
            print(f"repo kept at {tmp}", file=sys.stderr)
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
