"""Generated projects, for real: render each task type with the engine, run `make all` and `make test`
inside it, and check what the readiness gate decided. Slow: minutes, not seconds.

The projects' dependencies live in one virtual environment cached between runs (tests/project_env.py);
the first run creates it (a few minutes), later runs reuse it.
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from project_env import project_python, project_requirements, run_make

from mlscaffold import AnswerSources, new_project

pytestmark = pytest.mark.slow

TASK_TYPES = (
    "binary_classification",
    "multiclass_classification",
    "regression",
    "text_classification",
)


def render(dest: Path, *answers: str) -> Path:
    result = new_project(
        dest=dest,
        sources=AnswerSources(set_values=answers, defaults=True),
        git=False,
    )
    return result.dest


def assert_ok(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


def readiness(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project / "reports" / "readiness.json").read_text("utf-8"))
    return data


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_default_project_runs_end_to_end_and_is_ready(tmp_path: Path, task_type: str) -> None:
    project = render(tmp_path / "proj", f"task_type={task_type}")
    python = project_python(project_requirements(project))
    assert_ok(run_make(project, python, "all"), "make all")
    report = readiness(project)
    assert report["ready"] is True, report["failed"]
    assert report["task_type"] == task_type
    for name in ("train", "test", "serving"):
        assert (project / "data" / "processed" / f"{name}.parquet").is_file()
    for name in ("model.joblib", "model_meta.json", "reference/profile.json"):
        assert (project / "artifacts" / name).is_file()
    assert (project / "reports" / "model_card.md").is_file()
    primary = report["primary_metric"]
    better = max if primary["greater_is_better"] else min
    assert better(primary["value"], *primary["baselines"].values()) == primary["value"]
    tests = run_make(project, python, "test")
    assert_ok(tests, "make test")
    assert " passed" in tests.stdout


def write_churn_csv(path: Path, rows: int = 600) -> None:
    """A user's own CSV: numeric and categorical columns, a yes/no label, an id, some gaps."""
    rng = random.Random(3)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "tenure_months", "monthly_fee", "plan", "support_calls", "churned"])
        for i in range(rows):
            tenure = rng.randint(1, 72)
            plan = rng.choice(["basic", "standard", "premium"])
            fee = round({"basic": 20, "standard": 45, "premium": 80}[plan] + rng.gauss(0, 5), 2)
            calls = rng.randint(0, 8)
            risk = 1.2 - 0.04 * tenure + 0.35 * calls + (0.6 if plan == "basic" else 0.0)
            churned = "yes" if risk + rng.gauss(0, 0.8) > 0.9 else "no"
            fee_cell = "" if rng.random() < 0.02 else fee
            writer.writerow([f"c{i:05d}", tenure, fee_cell, plan, calls, churned])


def test_project_from_a_users_csv(tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    write_churn_csv(data)
    project = render(
        tmp_path / "churn",
        "task_type=binary_classification",
        "data_source=csv",
        f"data_path={data}",
        "target=churned",
        "positive_class=yes",
        "id_column=customer_id",
    )
    python = project_python(project_requirements(project))
    assert_ok(run_make(project, python, "all"), "make all")
    report = readiness(project)
    assert report["ready"] is True, report["failed"]
    meta = json.loads((project / "artifacts" / "model_meta.json").read_text(encoding="utf-8"))
    kinds = {f["name"]: f["kind"] for f in meta["features"]}
    assert kinds["plan"] == "categorical"
    assert "customer_id" not in kinds and "churned" not in kinds
    assert meta["positive_class"] == "yes"
