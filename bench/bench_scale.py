"""Benchmark batch scoring (and monitoring) of a generated project at scale: rows/s and peak memory.

Builds an N-row input from the project's shipped sample (rows resampled with replacement, Gaussian
noise of 5% of each numeric column's standard deviation, fresh ids), then times
`python -m <pkg> batch big.csv` and `python -m <pkg> monitor` over the prediction log it wrote,
each in its own process, and reports wall time, rows/s and the child's peak RSS
(getrusage(RUSAGE_CHILDREN) of a wrapper process that runs only that command).

    python bench/bench_scale.py                  # 10,000,000 rows (minutes, GBs of disk)
    python bench/bench_scale.py 1000000 --python /path/to/venv/bin/python
    python bench/bench_scale.py 200000 --no-log --chunk-rows 20000 --project /tmp/proj
    python bench/bench_scale.py 3000000 --data-stage --in-memory-too   # the data stage instead
    python bench/bench_scale.py 1000000 --data-stage --spark-too       # and on the Spark engine

Without --project, a binary classification project is rendered with `--defaults` into a temporary
folder and trained with `make all`. The project runs with `--python` (default:
$MLSCAFFOLD_PROJECT_PYTHON, else this interpreter), which must have its dependencies; nothing is
installed. tests/test_scale_slow.py uses make_input() and peak_rss() from here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BLOCK_ROWS = 200_000

# Runs one command as a child and prints the child's peak RSS in KiB (Linux ru_maxrss unit). A fresh
# wrapper per command, so RUSAGE_CHILDREN covers that command alone.
RSS_WRAPPER = r"""
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print("PEAK_RSS_KIB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float
    returncode: int
    stderr: str


def peak_rss(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `command` in `cwd`; its wall time and peak resident memory (MiB)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RSS_WRAPPER, *command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK_RSS_KIB")]
    kib = int(peak[-1].split()[1]) if peak else 0
    return Run(seconds, kib / 1024, done.returncode, done.stderr)


def make_input(sample: Path, dest: Path, rows: int, id_column: str | None = "id", seed: int = 0) -> Path:
    """Write `rows` rows resampled from `sample` (CSV) with noise on the numeric columns to `dest`
    (.csv or .parquet), a block at a time (memory does not grow with `rows`)."""
    import numpy as np
    import pandas as pd

    source = pd.read_csv(sample)
    rng = np.random.default_rng(seed)
    numeric = [c for c in source.select_dtypes("number").columns if c != id_column]
    spread = source[numeric].std().fillna(0).to_numpy() * 0.05
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    writer = None
    written = 0
    try:
        while written < rows:
            n = min(BLOCK_ROWS, rows - written)
            block = source.iloc[rng.integers(0, len(source), n)].reset_index(drop=True)
            if numeric:
                block[numeric] = block[numeric].to_numpy(dtype=float) + rng.normal(
                    0, spread, (n, len(numeric))
                )
            if id_column and id_column in block.columns:
                block[id_column] = np.arange(written, written + n)
            if dest.suffix == ".parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.Table.from_pandas(block, preserve_index=False)
                writer = writer or pq.ParquetWriter(dest, table.schema)
                writer.write_table(table)
            else:
                block.to_csv(dest, mode="a", header=written == 0, index=False)
            written += n
    finally:
        if writer is not None:
            writer.close()
    return dest


def render_trained_project(dest: Path, python: Path, engine: str = "local") -> Path:
    """A binary classification project on the shipped sample, trained and evaluated (`make all`)."""
    from mlscaffold import AnswerSources, new_project

    answers = ("task_type=binary_classification", "probe=false", f"engine={engine}")
    project = new_project(dest=dest, sources=AnswerSources(set_values=answers, defaults=True), git=False).dest
    done = subprocess.run(
        ["make", "all", f"PYTHON={python}"],
        cwd=project,
        env=project_env(project),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"make all failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return project


def project_env(project: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "MPLBACKEND": "Agg"}
    env.pop("VIRTUAL_ENV", None)
    return env


def package_of(project: Path) -> str:
    found = [p.name for p in (project / "src").iterdir() if (p / "__main__.py").is_file()]
    if len(found) != 1:
        sys.exit(f"{project}/src: expected one package with a __main__.py, found {found}")
    return found[0]


# Rows and bytes of the prediction log's Parquet parts, counted from their footers (pyarrow lives in
# the project's environment).
LOG_SIZE = r"""
import sys
from pathlib import Path
import pyarrow.parquet as pq
parts = list(Path(sys.argv[1]).glob("date=*/*.parquet"))
print(sum(pq.ParquetFile(p).metadata.num_rows for p in parts), sum(p.stat().st_size for p in parts))
"""


def clear_log(project: Path) -> None:
    """Remove the prediction log (parts and online buffer), e.g. the window `make all` logged."""
    shutil.rmtree(project / "logs" / "predictions", ignore_errors=True)
    (project / "logs" / "predictions.jsonl").unlink(missing_ok=True)


def log_size(python: Path, project: Path) -> tuple[int, int]:
    """(rows, bytes) in the prediction log's Parquet parts."""
    done = subprocess.run(
        [str(python), "-c", LOG_SIZE, str(project / "logs" / "predictions")],
        capture_output=True,
        text=True,
        check=True,
    )
    rows, size = done.stdout.split()
    return int(rows), int(size)


def bench_data_stage(
    project: Path, python: Path, big: Path, work: Path, chunk_rows: int, engine: str = "local"
) -> Run:
    """`python -m <pkg> data` over `big` (CSV or Parquet) with a copy of the project's config whose
    relative paths (processed data, the contract) land in `work`: the project is left as it was."""
    import yaml

    config = yaml.safe_load((project / "config.yaml").read_text(encoding="utf-8"))
    config["data"].update(source=big.suffix.lstrip("."), path=str(big), chunk_rows=chunk_rows)
    config.setdefault("engine", {})["name"] = engine
    folder = work / f"data-stage-{engine}-{chunk_rows}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {**project_env(project), "MLPIPE_CONFIG": str(folder / "config.yaml")}
    return peak_rss([str(python), "-m", package_of(project), "data"], project, env)


def sample_of(project: Path) -> Path:
    found = sorted((project / "data" / "sample").glob("*.csv"))
    if not found:
        sys.exit(f"{project}/data/sample: no sample CSV to resample")
    return found[0]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("rows", nargs="?", type=int, default=10_000_000)
    parser.add_argument("--project", type=Path, help="a trained generated project (default: render one)")
    parser.add_argument(
        "--python", type=Path, default=Path(os.environ.get("MLSCAFFOLD_PROJECT_PYTHON", sys.executable))
    )
    parser.add_argument(
        "--chunk-rows", type=int, default=None, help="batch --chunk-rows (default: the project's)"
    )
    parser.add_argument("--no-log", action="store_true", help="score without appending to the prediction log")
    parser.add_argument("--no-monitor", action="store_true", help="skip `monitor` over the log")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument(
        "--data-stage",
        action="store_true",
        help="bench the data stage (check and split) over the input instead: in chunks, and with"
        " --in-memory-too also the whole-frame path (data.chunk_rows above the input's rows)",
    )
    parser.add_argument("--in-memory-too", action="store_true")
    parser.add_argument(
        "--spark-too",
        action="store_true",
        help="with --data-stage, also the data stage on the Spark engine (local[*]; renders the project"
        " with engine=spark; --python needs pyspark). Peak memory is the largest single process (the"
        " driver's JVM, usually), not the sum of the JVM and its Python workers",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        engine = "spark" if args.spark_too else "local"
        project = args.project or render_trained_project(work / "proj", args.python, engine)
        package = package_of(project)
        env = project_env(project)
        big = work / f"big.{args.format}"
        started = time.perf_counter()
        make_input(sample_of(project), big, args.rows)
        made = time.perf_counter() - started
        size_mib = big.stat().st_size / 2**20
        print(f"input: {args.rows:,} rows, {size_mib:,.0f} MiB {args.format}, made in {made:.1f} s")
        if args.data_stage:
            paths = [("chunks of 250,000", 250_000, "local")]
            if args.in_memory_too:
                paths.append(("whole frame", args.rows + 1, "local"))
            if args.spark_too:
                paths.append(("Spark, local[*], batches of 250,000", 250_000, "spark"))
            for label, chunk_rows, engine in paths:
                run = bench_data_stage(project, args.python, big, work, chunk_rows, engine)
                if run.returncode != 0:
                    sys.exit(f"data stage failed:\n{run.stderr[-3000:]}")
                print(
                    f"data stage ({label}): {run.seconds:.1f} s, {args.rows / run.seconds:,.0f}"
                    f" rows/s, peak {run.peak_mib:,.0f} MiB"
                )
            return 0
        clear_log(project)
        command = [str(args.python), "-m", package, "batch", str(big), "--name", "bench"]
        command += ["--no-log"] if args.no_log else []
        command += ["--chunk-rows", str(args.chunk_rows)] if args.chunk_rows else []
        batch = peak_rss(command, project, env)
        if batch.returncode != 0:
            sys.exit(f"batch failed:\n{batch.stderr[-3000:]}")
        results = {
            "rows": args.rows,
            "batch_seconds": round(batch.seconds, 1),
            "batch_rows_per_s": round(args.rows / batch.seconds),
            "batch_peak_mib": round(batch.peak_mib),
        }
        logged, log_bytes = log_size(args.python, project)
        results.update(logged_rows=logged, log_mib=round(log_bytes / 2**20))
        print(
            f"batch:   {batch.seconds:.1f} s, {args.rows / batch.seconds:,.0f} rows/s,"
            f" peak {batch.peak_mib:,.0f} MiB; log {results['log_mib']:,} MiB"
        )
        if not args.no_log and not args.no_monitor:
            monitor = peak_rss([str(args.python), "-m", package, "monitor"], project, env)
            results.update(
                monitor_seconds=round(monitor.seconds, 1),
                monitor_peak_mib=round(monitor.peak_mib),
                monitor_exit=monitor.returncode,
            )
            print(
                f"monitor: {monitor.seconds:.1f} s, peak {monitor.peak_mib:,.0f} MiB"
                f" (exit {monitor.returncode}: 0 ok, 1 alert, 2 error)"
            )
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
