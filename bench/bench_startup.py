"""Start-up time of `mlscaffold --help` beside `cookiecutter --help` and `copier --help`, in one run.

Usage: python bench/bench_startup.py [--runs N]
The peers are installed in the bench's own virtual environment (bench/.venv-peers), created on the first
run; mlscaffold is the one on PATH (install it first: pip install .). Prints the median of N runs each.
Target (issue 2): mlscaffold at most half of cookiecutter.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".venv-peers"


def peers_env() -> Path:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "cookiecutter", "copier"],
            check=True,
        )
    return PEERS / "bin"


def median_seconds(argv: list[str], runs: int) -> float:
    subprocess.run(argv, capture_output=True, check=True)  # warm the file cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    ours = shutil.which("mlscaffold")
    if ours is None:
        sys.exit("error: mlscaffold is not on PATH; pip install . first")
    bin_dir = peers_env()
    rows = [
        ("mlscaffold --help", [ours, "--help"]),
        ("cookiecutter --help", [str(bin_dir / "cookiecutter"), "--help"]),
        ("copier --help", [str(bin_dir / "copier"), "--help"]),
    ]
    results = {name: median_seconds(argv, args.runs) for name, argv in rows}
    for name, seconds in results.items():
        print(f"{name:<22} median {seconds * 1000:7.1f} ms over {args.runs} runs")
    ratio = results["mlscaffold --help"] / results["cookiecutter --help"]
    print(f"mlscaffold / cookiecutter = {ratio:.2f} (target <= 0.50)")


if __name__ == "__main__":
    main()
