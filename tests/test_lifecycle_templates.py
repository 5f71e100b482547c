"""The lifecycle loop in generated projects, as rendered (issue 16): the `sensitive_columns` answer,
the registry and retraining settings, fairlearn, the make targets and the scheduled retrain."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlscaffold import AnswerSources, new_project


def render(dest: Path, *answers: str) -> Path:
    sources = AnswerSources(set_values=("probe=false", *answers), defaults=True)
    return new_project(dest=dest, sources=sources, git=False).dest


def config(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((project / "config.yaml").read_text(encoding="utf-8"))
    return data


def test_defaults_render_the_lifecycle_settings(tmp_path: Path) -> None:
    project = render(tmp_path / "p")
    settings = config(project)
    assert settings["evaluate"]["sensitive_columns"] == []
    assert settings["evaluate"]["champion_tolerance"] > 0
    assert settings["evaluate"]["fairness_blocking"] is False
    assert settings["registry"] == {"backend": "auto", "model_name": None, "feedback": "logs/feedback.jsonl"}
    assert settings["retrain"]["policy"] == "append"
    required = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    assert any(d.startswith("fairlearn") for d in required)
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    for target in ("versions:", "promote:", "rollback:"):
        assert target in makefile
    assert "retrain:" in (project / "mk" / "50-monitor.mk").read_text(encoding="utf-8")
    package = project / "src" / "p"
    for module in ("registry.py", "feedback.py", "challenger.py", "retraining.py", "stages/retrain.py"):
        assert (package / module).is_file(), module


def test_sensitive_columns_answer_reaches_the_gate(tmp_path: Path) -> None:
    project = render(tmp_path / "p", "sensitive_columns=mean_radius,mean_texture")
    assert config(project)["evaluate"]["sensitive_columns"] == ["mean_radius", "mean_texture"]


@pytest.mark.parametrize(
    ("stages", "retrains"),
    [("data,baseline,evaluate,deploy,monitor", True), ("data,baseline,deploy,monitor", False)],
)
def test_the_scheduled_workflow_retrains_on_an_alert_only_with_a_gate(
    tmp_path: Path, stages: str, retrains: bool
) -> None:
    project = render(tmp_path / "p", f"stages={stages}")
    workflow = yaml.safe_load((project / ".github" / "workflows" / "monitor.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["monitor"]["steps"]
    monitor = next(s for s in steps if s.get("id") == "monitor")
    assert "monitor --fail-on alert" in monitor["run"]
    on_alert = [s for s in steps if s.get("if") == "steps.monitor.outputs.code == '1'"]
    assert len(on_alert) == 1
    assert (on_alert[0]["run"] == "make retrain") is retrains
    if not retrains:
        assert on_alert[0]["run"] == "exit 1"  # no gate to decide a promotion: the alert fails the run
