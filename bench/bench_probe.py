"""Time the wizard's feasibility probe on a 1,000,000-row CSV (target: about 10 s at most).

    python bench/bench_probe.py [--rows N] [--keep]

Writes a CSV of N rows (an id, six numeric and two categorical features, a binary target with signal)
to a temporary folder, then times `probe_file` on it: once with the one-time import of pandas and
scikit-learn, which the budget does not count, and once warm. Prints the file size, the rows the probe
read and modelled, each time in seconds and the peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlscaffold.wizard.probe import BUDGET_SECONDS, MODEL_ROWS, probe_file


def write(path: Path, rows: int) -> None:
    rng = random.Random(0)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", *(f"x{i}" for i in range(6)), "plan", "region", "churn"])
        for i in range(rows):
            label = int(rng.random() < 0.3)
            numbers = [round(rng.gauss(0.4 * label * (j % 2), 1.0), 4) for j in range(6)]
            writer.writerow([i, *numbers, rng.choice("abcd"), rng.choice(["n", "s", "e", "w"]), label])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-probe-"))
    data = folder / "big.csv"
    write(data, args.rows)
    answers = {"data_source": "csv", "data_path": str(data), "task_type": "binary_classification",
               "target": "churn", "primary_metric": "roc_auc", "ready_threshold": 0.6,
               "baseline_margin": 0.02, "id_column": "id"}  # fmt: skip
    print(f"file: {args.rows} rows, {data.stat().st_size / 1e6:.0f} MB; budget {BUDGET_SECONDS:.0f} s")
    for label in ("cold (with imports)", "warm"):
        started = time.perf_counter()
        report = probe_file(answers, data)
        elapsed = time.perf_counter() - started
        modelled = min(report.rows, MODEL_ROWS)
        print(f"{label}: {elapsed:.2f} s; read {report.rows} rows (sampled: {report.sampled}), "
              f"modelled {modelled}; model: {report.model}; findings: {len(report.findings)}")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")
    if args.keep:
        print(f"kept {folder}")
    else:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
