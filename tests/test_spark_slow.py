"""The Spark engine, for real: a project of each task type generated with `engine=spark` passes `make all` on
the sample (the data stage, and batch scoring of the serving window, as Spark jobs on local[*]), its
predictions equal those of the same project on the local engine, the readiness verdicts are the same,
and its own Spark tests pass. Slow: Java starts, and the first run builds a venv with pyspark (minutes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from project_env import project_python, project_requirements, run_make, run_python

from mlscaffold import AnswerSources, new_project

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17"),
]


# Spark infers 32-bit integers where pandas reads 64-bit ones: values are compared, not dtypes
COMPARE = """
import sys
import pandas as pd
spark, local = (pd.read_parquet(f"{root}/predictions/serving.parquet") for root in sys.argv[1:])
ids = ["prediction_id"]  # each run's ids carry its own request id
pd.testing.assert_frame_equal(spark.drop(columns=ids), local.drop(columns=ids), check_dtype=False)
print(len(spark), "equal")
"""


def render(dest: Path, task_type: str, *answers: str) -> Path:
    sources = AnswerSources(set_values=(f"task_type={task_type}", "probe=false", *answers), defaults=True)
    return new_project(dest=dest, sources=sources, git=False).dest


def verdicts(project: Path) -> dict[str, Any]:
    report = json.loads((project / "reports" / "readiness.json").read_text(encoding="utf-8"))
    return {"ready": report["ready"], "checks": {c["id"]: c["verdict"] for c in report["checks"]}}


@pytest.mark.parametrize(
    "task_type",
    ["binary_classification", "multiclass_classification", "regression", "text_classification"],
)
def test_spark_project_runs_and_predicts_as_the_local_engine(tmp_path: Path, task_type: str) -> None:
    on_spark = render(tmp_path / "spark", task_type, "engine=spark")
    on_pandas = render(tmp_path / "local", task_type)
    assert "pyspark" in (on_spark / "pyproject.toml").read_text(encoding="utf-8")
    assert "pyspark" not in (on_pandas / "pyproject.toml").read_text(encoding="utf-8")
    python = project_python(project_requirements(on_spark))  # both run on it: same library versions
    logs = {}
    for project in (on_spark, on_pandas):
        made = run_make(project, python, "all")
        assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
        logs[project] = made.stdout + made.stderr
    assert "(spark engine" in logs[on_spark] and "(local engine" in logs[on_pandas]
    assert "Spark read" in logs[on_spark] and "Spark read" not in logs[on_pandas]  # the data stage
    assert verdicts(on_spark) == verdicts(on_pandas)
    assert verdicts(on_spark)["ready"] is True
    # pandas and pyarrow live in the project's environment
    compared = run_python(on_spark, python, "-c", COMPARE, str(on_spark), str(on_pandas))
    assert compared.returncode == 0, compared.stderr[-3000:]
    served, equal = compared.stdout.split()
    assert equal == "equal" and int(served) > 0  # the sample's serving window, row for row
    # the project's own Spark tests; the data stage's and the monitor's (a Spark session each) once,
    # on binary
    files = ["tests/test_spark.py"]
    if task_type == "binary_classification":
        files += ["tests/test_data_spark.py", "tests/test_monitor_spark.py"]
    tests = run_python(on_spark, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files)
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout and " failed" not in tests.stdout
