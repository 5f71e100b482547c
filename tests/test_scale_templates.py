"""Scale in generated projects, as rendered (issue 17): the `engine` answer decides the Spark files and
dependencies; the optional `schedule` stage writes Airflow DAGs whose steps and schedule follow the
chosen stages and the `retraining` answer; `batch` has its chunk size."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlscaffold import AnswerSources, add_stages, new_project

ALL_STAGES = "stages=data,baseline,evaluate,deploy,monitor,schedule"
SPARK_FILES = (
    "src/p/spark.py",
    "src/p/spark_data.py",
    "jobs/spark_submit.py",
    "docs/spark.md",
    "tests/test_spark.py",
    "tests/test_data_spark.py",
)


def render(dest: Path, *answers: str) -> Path:
    sources = AnswerSources(set_values=("probe=false", *answers), defaults=True)
    return new_project(dest=dest, sources=sources, git=False).dest


def dependencies(project: Path) -> list[str]:
    found: list[str] = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    return found


def dag_constants(project: Path) -> dict[str, Any]:
    """The module-level constants of the generated DAG file (read without Airflow)."""
    source = (project / "dags" / "p_pipeline.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("STEPS", "SCHEDULE", "PACKAGE"):
                found[name] = ast.literal_eval(node.value)
    return found


def test_the_local_engine_is_the_default_and_adds_nothing(tmp_path: Path) -> None:
    project = render(tmp_path / "p")
    assert yaml.safe_load((project / "config.yaml").read_text(encoding="utf-8"))["engine"] == {
        "name": "local",
        "master": "local[*]",
    }
    assert not any(d.startswith("pyspark") for d in dependencies(project))
    assert not any((project / name).exists() for name in SPARK_FILES)
    assert not (project / "jobs").exists()
    assert "setup-java" not in (project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")


def test_the_spark_engine_adds_pyspark_its_module_docs_tests_and_java_in_ci(tmp_path: Path) -> None:
    project = render(tmp_path / "p", "engine=spark")
    assert yaml.safe_load((project / "config.yaml").read_text(encoding="utf-8"))["engine"]["name"] == "spark"
    assert "pyspark>=3.5" in dependencies(project) and "pandas<3" in dependencies(project)
    for name in SPARK_FILES:
        assert (project / name).is_file(), name
    compile((project / "src/p/spark.py").read_text(encoding="utf-8"), "spark.py", "exec")
    assert 'run_module("p"' in (project / "jobs/spark_submit.py").read_text(encoding="utf-8")
    ci = (project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert 'java-version: "17"' in ci
    assert "docs/spark.md" in (project / "README.md").read_text(encoding="utf-8")


def test_an_unknown_engine_is_refused(tmp_path: Path) -> None:
    from mlscaffold.errors import UserError

    with pytest.raises(UserError, match="engine"):
        render(tmp_path / "p", "engine=dask")


def test_without_deploy_the_engine_is_not_asked(tmp_path: Path) -> None:
    project = render(tmp_path / "p", "stages=data,baseline,evaluate", "engine=spark")
    assert not (project / "src/p/spark.py").exists()


def test_schedule_is_not_a_default_stage(tmp_path: Path) -> None:
    project = render(tmp_path / "p")
    assert not (project / "dags").exists()


@pytest.mark.parametrize(
    ("retraining", "schedule"),
    [
        ("daily", "@daily"),
        ("weekly", "@weekly"),
        ("monthly", "@monthly"),
        ("quarterly", "0 0 1 */3 *"),
        ("manual", None),
        ("on_alert", None),
    ],
)
def test_the_dag_follows_the_stages_and_the_retraining_answer(
    tmp_path: Path, retraining: str, schedule: str | None
) -> None:
    project = render(tmp_path / "p", ALL_STAGES, f"retraining={retraining}")
    constants = dag_constants(project)
    assert constants == {
        "PACKAGE": "p",
        "STEPS": ["data", "train", "evaluate", "deploy", "monitor"],
        "SCHEDULE": schedule,
    }
    source = (project / "dags" / "p_pipeline.py").read_text(encoding="utf-8")
    compile(source, "p_pipeline.py", "exec")
    assert 'dag_id="p_monitor"' in source
    assert ("TriggerDagRunOperator(" in source) == (retraining == "on_alert")
    assert "retries=RETRIES" in source
    assert (project / "tests" / "test_schedule.py").is_file()
    assert "dag-test:" in (project / "mk" / "60-schedule.mk").read_text(encoding="utf-8")


def test_a_dag_without_monitoring_has_no_monitor_dag(tmp_path: Path) -> None:
    project = render(tmp_path / "p", "stages=data,baseline,evaluate,schedule")
    assert dag_constants(project)["STEPS"] == ["data", "train", "evaluate"]
    assert "p_monitor" not in (project / "dags" / "p_pipeline.py").read_text(encoding="utf-8")


def test_add_schedule_writes_the_dag_for_the_stages_there(tmp_path: Path) -> None:
    project = new_project(
        dest=tmp_path / "p",
        sources=AnswerSources(set_values=("probe=false", "retraining=weekly"), defaults=True),
    ).dest
    result = add_stages(repo=project, stages=["schedule"], sources=AnswerSources(defaults=True))
    assert result.added == ("schedule",)
    assert dag_constants(project)["STEPS"] == ["data", "train", "evaluate", "deploy", "monitor"]
    assert dag_constants(project)["SCHEDULE"] == "@weekly"


def test_batch_takes_a_chunk_size_in_make(tmp_path: Path) -> None:
    project = render(tmp_path / "p")
    deploy_mk = (project / "mk" / "40-deploy.mk").read_text(encoding="utf-8")
    assert "$(if $(CHUNK_ROWS),--chunk-rows $(CHUNK_ROWS),)" in deploy_mk
    assert (project / "tests" / "test_batch.py").is_file()
