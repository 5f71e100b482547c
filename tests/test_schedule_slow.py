"""The schedule stage, for real: Airflow's own `dag.test()` runs the generated pipeline DAG (every stage
a task, in order) and then the monitor DAG, in a separate environment that holds Airflow (it pins its
own dependencies); the tasks run the project with the project's interpreter. Slow: the first run
builds the Airflow environment (minutes), each DAG run takes about a minute."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from project_env import project_python, project_requirements

from mlscaffold import AnswerSources, new_project

pytestmark = pytest.mark.slow

AIRFLOW = ["apache-airflow>=3.0"]

# Runs in the Airflow environment: loads the DAG file, runs one DAG with dag.test(), prints its tasks.
RUN_DAG = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("generated_dags", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
run = getattr(module, sys.argv[2]).test()
tasks = sorted(run.get_task_instances(), key=lambda ti: (ti.start_date is None, ti.start_date))
print("RESULT", json.dumps({"state": str(run.state), "tasks": [[t.task_id, str(t.state)] for t in tasks]}))
"""


def run_dag(airflow: Path, project: Path, env: dict[str, str], dag: str) -> dict[str, object]:
    dag_file = next((project / "dags").glob("*_pipeline.py"))
    done = subprocess.run(
        [str(airflow), "-c", RUN_DAG, str(dag_file), dag],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    result: dict[str, object] = json.loads(lines[-1][len("RESULT ") :])
    return result


def test_the_generated_dags_run_every_stage_in_order_with_airflow(tmp_path: Path) -> None:
    answers = (
        "task_type=binary_classification",
        "probe=false",
        "retraining=on_alert",
        "stages=data,baseline,evaluate,deploy,monitor,schedule",
    )
    project = new_project(
        dest=tmp_path / "proj", sources=AnswerSources(set_values=answers, defaults=True), git=False
    ).dest
    python = project_python(project_requirements(project))
    airflow = project_python(AIRFLOW)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(project / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "MLPIPE_PYTHON": str(python),
        "MPLCONFIGDIR": str(tmp_path / "mpl"),
    }
    migrated = subprocess.run(
        [str(airflow), "-m", "airflow", "db", "migrate"],  # the venv was moved: no console scripts
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]

    pipeline = run_dag(airflow, project, env, "pipeline")
    assert pipeline["state"] == "success", pipeline
    assert pipeline["tasks"] == [
        [step, "success"] for step in ("data", "train", "evaluate", "deploy", "monitor")
    ]
    assert (project / "reports" / "readiness.json").is_file()
    assert list((project / "logs" / "predictions").glob("date=*/*.parquet"))

    monitor = run_dag(airflow, project, env, "monitor")
    # the window deploy logged is fine: no alert, so retraining is not triggered
    assert monitor["tasks"] == [["monitor", "success"], ["retrain_on_alert", "skipped"]], monitor
