"""The iteration loop of a generated project, for real: `make all` records a run, `make experiments`
shows it, `make analyze` writes the report and the review file. Slow: one project, minutes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from project_env import project_python, project_requirements, run_make

from mlscaffold import AnswerSources, new_project

pytestmark = pytest.mark.slow


def test_make_all_records_a_run_and_analyze_says_what_to_do_next(tmp_path: Path) -> None:
    project = new_project(dest=tmp_path / "loop", sources=AnswerSources(defaults=True), git=False).dest
    python = project_python(project_requirements(project))
    for target in ("all", "experiments", "analyze"):
        done = run_make(project, python, target)
        assert done.returncode == 0, f"make {target}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        if target == "experiments":
            shown = done.stdout
    meta = json.loads((project / "artifacts" / "model_meta.json").read_text(encoding="utf-8"))
    assert meta["tracking_run_id"][:8] in shown
    assert "linear" in shown and "yes" in shown  # the chosen model, and ready
    assert (project / "mlruns.db").is_file()
    analysis = json.loads((project / "reports" / "analysis.json").read_text(encoding="utf-8"))
    assert analysis["next_steps"][0]["rank"] == 1
    review = (project / "reports" / "label_review.csv").read_text(encoding="utf-8")
    assert review.splitlines()[0] == "row_id,split,given_label,suggested_label,label_quality,wrong"
