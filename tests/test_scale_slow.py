"""A generated project at scale, for real: batch scoring streams its input (CSV and Parquet), so its
peak memory at 1,000,000 rows is within 30% of its peak at 100,000 rows. Slow (a few minutes, about
1.5 GB of disk for the input and the prediction log); bench/bench_scale.py prints the same figures.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from project_env import project_python, project_requirements, run_env, run_make

from mlscaffold import AnswerSources, new_project

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_scale.py"
MAKE_INPUT = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bench_scale import make_input
make_input(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
"""


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = module
    spec.loader.exec_module(module)
    return module


def test_batch_peak_memory_does_not_grow_with_the_input(tmp_path: Path) -> None:
    scale = bench()
    project = new_project(
        dest=tmp_path / "proj",
        sources=AnswerSources(set_values=("task_type=binary_classification", "probe=false"), defaults=True),
        git=False,
    ).dest
    python = project_python(project_requirements(project))
    made = run_make(project, python, "all")
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    sample = next((project / "data" / "sample").glob("*.csv"))
    peaks: dict[tuple[str, int], float] = {}
    # CSV with the prediction log; Parquet without it
    for suffix, extra in (("csv", []), ("parquet", ["--no-log"])):
        for rows in (100_000, 1_000_000):
            scale.clear_log(project)  # `make all` logged the serving window
            source = tmp_path / f"in-{rows}.{suffix}"
            made_input = subprocess.run(  # pandas and pyarrow live in the project's environment
                [str(python), "-c", MAKE_INPUT, str(BENCH.parent), str(sample), str(source), str(rows)],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert made_input.returncode == 0, made_input.stderr[-3000:]
            command = [str(python), "-m", scale.package_of(project), "batch", str(source), "--name", "big"]
            run = scale.peak_rss(command + extra, project, run_env(project))
            assert run.returncode == 0, run.stderr[-3000:]
            peaks[suffix, rows] = run.peak_mib
            logged, _ = scale.log_size(python, project)
            assert logged == (0 if extra else rows)  # every row logged, chunk by chunk
            source.unlink()
    for suffix in ("csv", "parquet"):
        small, large = peaks[suffix, 100_000], peaks[suffix, 1_000_000]
        assert small > 0
        assert abs(large - small) / small < 0.30, peaks
