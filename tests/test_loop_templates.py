"""The iteration loop in generated projects, as rendered: the `tracking` and `data_versioning` answers
decide config.yaml, the dependencies and the DVC files; the loop's commands are wired into make."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlscaffold import AnswerSources, new_project


def render(dest: Path, *answers: str) -> Path:
    return new_project(dest=dest, sources=AnswerSources(set_values=answers, defaults=True), git=False).dest


def config(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((project / "config.yaml").read_text(encoding="utf-8"))
    return data


def dependencies(project: Path) -> tuple[list[str], dict[str, list[str]]]:
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return data["dependencies"], data.get("optional-dependencies", {})


def test_tracking_is_on_by_default_with_a_local_store(tmp_path: Path) -> None:
    project = render(tmp_path / "p")
    tracking = config(project)["tracking"]
    assert tracking["backend"] == "mlflow"
    assert tracking["db"] == "mlruns.db" and tracking["artifacts"] == "mlartifacts"
    required, _ = dependencies(project)
    assert any(d.startswith("mlflow-skinny") for d in required)
    assert any(d.startswith("alembic") for d in required)
    ignored = (project / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "mlruns.db" in ignored and "mlartifacts/" in ignored
    assert (project / "src" / "p" / "tracking.py").is_file()
    assert "experiments:" in (project / "Makefile").read_text(encoding="utf-8")


def test_tracking_none_leaves_mlflow_out(tmp_path: Path) -> None:
    project = render(tmp_path / "p", "tracking=none")
    assert config(project)["tracking"]["backend"] == "none"
    required, _ = dependencies(project)
    assert not any(d.startswith("mlflow") for d in required)


def test_an_unknown_tracking_answer_is_refused(tmp_path: Path) -> None:
    from mlscaffold.errors import UserError

    with pytest.raises(UserError, match="tracking"):
        render(tmp_path / "p", "tracking=wandb")
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    ("task_type", "expected"),
    [
        ("binary_classification", ["linear", "random_forest", "gradient_boosting"]),
        ("regression", ["linear", "random_forest", "gradient_boosting"]),
        ("text_classification", ["linear", "naive_bayes"]),
    ],
)
def test_candidates_per_task_type(tmp_path: Path, task_type: str, expected: list[str]) -> None:
    project = render(tmp_path / "p", f"task_type={task_type}")
    data = config(project)
    assert data["models"]["candidates"] == expected
    assert data["search"] == {"enabled": False, "n_trials": 20, "timeout_s": 120}
    analyze = (project / "mk" / "30-evaluate.mk").read_text(encoding="utf-8")
    assert "analyze:" in analyze
    required, _ = dependencies(project)
    assert any(d.startswith("cleanlab") for d in required)
    assert any(d.startswith("optuna") for d in required)


def test_no_dvc_files_by_default(tmp_path: Path) -> None:
    project = render(tmp_path / "p")
    assert not (project / "dvc.yaml").exists()
    assert not (project / ".dvc").exists()
    assert "dvc" not in dependencies(project)[1]


def test_data_versioning_dvc_mirrors_the_stages_with_a_local_remote(tmp_path: Path) -> None:
    project = render(tmp_path / "p", "data_versioning=dvc")
    dvc = yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8"))
    stages = dvc["stages"]
    assert list(stages) == ["data", "train", "evaluate", "deploy", "monitor"]
    assert stages["data"]["cmd"] == "python -m p data"
    assert "data/sample/breast_cancer.csv" in stages["data"]["deps"]
    assert stages["data"]["outs"] == ["data/processed"]
    assert "data/processed" in stages["train"]["deps"]
    assert stages["train"]["outs"] == ["artifacts"]
    assert {"reports/readiness.json": {"cache": False}} in stages["evaluate"]["metrics"]
    remote = (project / ".dvc" / "config").read_text(encoding="utf-8")
    assert "remote = local" in remote and "url = ../dvc-storage" in remote
    assert "dvc-storage/" in (project / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert any(d.startswith("dvc") for d in dependencies(project)[1]["dvc"])


def test_dvc_stages_follow_the_chosen_stages(tmp_path: Path) -> None:
    project = render(tmp_path / "p", "data_versioning=dvc", "stages=data,baseline")
    stages = yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    assert list(stages) == ["data", "train"]
