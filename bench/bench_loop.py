"""Benchmark the iteration loop of generated projects: label-noise recall of `analyze`, and `make all`
wall time with experiment tracking on and off.

Label noise: for the binary and the multiclass sample, 5% of the labels of the shipped sample are
flipped to another class (fixed seed) before `data`, `train` and `analyze` run. With k = the flipped
rows that land in the labelled splits (train and test), the recall is the share of them among the
first 2k rows of analyze's ranked label issues. The issue's bar is 60%; the generated project's own
test holds a lower floor.

    python bench/bench_loop.py                          # recall for binary and multiclass
    python bench/bench_loop.py --make-all               # also `make all` seconds per task type,
                                                        # tracking on (mlflow) and off (none)
    python bench/bench_loop.py --python /path/to/python # the generated project's interpreter

The project runs with `--python` (default: $MLSCAFFOLD_PROJECT_PYTHON, else this interpreter), which
must hold the generated project's dependencies (mlflow-skinny, cleanlab, optuna, scikit-learn...).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOISE_TASKS = ("binary_classification", "multiclass_classification")
ALL_TASKS = (*NOISE_TASKS, "regression", "text_classification")
FLIP_SHARE = 0.05
SEED = 0
TARGET_RECALL = 0.6
TARGET_MAKE_SECONDS = 60.0


def render(task: str, dest: Path, tracking: str) -> str:
    """A --defaults project for `task` in `dest`; returns its package name."""
    from mlscaffold import AnswerSources, new_project

    sources = AnswerSources(set_values=(f"task_type={task}", f"tracking={tracking}"), defaults=True)
    new_project(dest=dest, sources=sources, git=False)
    for line in (dest / "config.yaml").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("package:"):
            return line.split(":", 1)[1].strip().strip('"')
    raise RuntimeError(f"{dest}/config.yaml: no project.package")


def env_for(dest: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(dest / "src"), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def run(python: str, dest: Path, pkg: str, *args: str) -> None:
    done = subprocess.run(
        [python, "-m", pkg, *args], cwd=dest, env=env_for(dest), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{pkg} {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def flip_labels(dest: Path) -> set[str]:
    """Flip FLIP_SHARE of the sample's labels to another class; return the flipped ids."""
    sample = next((dest / "data" / "sample").glob("*.csv"))
    with sample.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    rng = random.Random(SEED)
    classes = sorted({row["target"] for row in rows})
    chosen = rng.sample(range(len(rows)), round(FLIP_SHARE * len(rows)))
    for index in chosen:
        rows[index]["target"] = rng.choice([c for c in classes if c != rows[index]["target"]])
    with sample.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return {rows[i]["id"] for i in chosen}


LABELLED_IDS = (
    "import json, pandas as pd; print(json.dumps(sorted(set().union(*("
    "set(pd.read_parquet(f'data/processed/{s}.parquet')['id'].astype(str)) "
    "for s in ('train', 'test'))))))"
)


def recall(task: str, python: str, root: Path) -> dict[str, float]:
    dest = root / task.split("_")[0]
    pkg = render(task, dest, tracking="none")
    flipped = flip_labels(dest)
    started = time.perf_counter()
    for command in ("data", "train", "analyze"):
        run(python, dest, pkg, command)
    seconds = time.perf_counter() - started
    ids = subprocess.run([python, "-c", LABELLED_IDS], cwd=dest, capture_output=True, text=True, check=True)
    target = flipped & set(json.loads(ids.stdout))
    analysis = json.loads((dest / "reports" / "analysis.json").read_text(encoding="utf-8"))
    ranked = [row["row_id"] for row in analysis["label_issues"]["issues"]]
    top = set(ranked[: 2 * len(target)])
    return {
        "flipped_in_labelled": len(target),
        "flagged": len(ranked),
        "recall_top_2k": len(top & target) / max(len(target), 1),
        "seconds_data_train_analyze": seconds,
    }


def make_all(task: str, python: str, root: Path, tracking: str) -> tuple[float, float, bool]:
    """`make all` in a fresh project: wall seconds, CPU seconds (user + system of the children; on a
    shared machine the wall time also counts waiting for a core) and whether it passed."""
    dest = root / f"{task.split('_')[0]}-{tracking}"
    render(task, dest, tracking=tracking)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        ["make", "all", f"PYTHON={python}"], cwd=dest, env=env_for(dest), capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-2000:] + done.stderr[-2000:])
    return wall, cpu, done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=os.environ.get("MLSCAFFOLD_PROJECT_PYTHON", sys.executable))
    parser.add_argument("--make-all", action="store_true", help="also time `make all` per task type")
    parser.add_argument("--keep", action="store_true", help="keep the rendered projects")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-loop-"))
    try:
        print(f"label noise: {FLIP_SHARE:.0%} flipped (seed {SEED}); bar: recall >= {TARGET_RECALL:.0%}")
        for task in NOISE_TASKS:
            found = recall(task, args.python, root)
            verdict = "ok" if found["recall_top_2k"] >= TARGET_RECALL else "BELOW BAR"
            print(
                f"  {task:<27} k={found['flipped_in_labelled']:<3} flagged={found['flagged']:<4} "
                f"recall@2k={found['recall_top_2k']:.2f} {verdict}  "
                f"(data+train+analyze {found['seconds_data_train_analyze']:.1f} s)"
            )
        if args.make_all:
            print(f"make all (bar: < {TARGET_MAKE_SECONDS:.0f} s per task type with tracking on)")
            for task in ALL_TASKS:
                for tracking in ("mlflow", "none"):
                    wall, cpu, ok = make_all(task, args.python, root, tracking)
                    state = "ok" if ok else "FAILED"
                    print(f"  {task:<27} tracking={tracking:<6} {wall:6.1f} s wall {cpu:6.1f} s cpu {state}")
    finally:
        if args.keep:
            print(f"projects kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
