"""`mlscaffold score`: the 28 tests judged from repo evidence and reports, the weakest section, output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fake_project import commit, make_project, write

from mlscaffold.score import TESTS, ItemScore, ScoreReport, format_score, interpret, score_repo

MONITOR_WORKFLOW = """\
name: monitor
on:
  schedule:
    - cron: "17 6 * * *"
jobs:
  monitor:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make data train deploy
      - run: python -m churn_model monitor --fail-on alert
"""


def readiness(*checks: tuple[str, str, str]) -> str:
    items = [
        {"id": i, "name": n, "status": s, "value": 1, "threshold": 0, "blocking": True} for i, n, s in checks
    ]
    return json.dumps({"ready": True, "checks": items})


READINESS = readiness(
    ("R1", "Data validated against the schema", "pass"),
    ("R3", "Forbidden features absent from the model", "pass"),
    ("R5a", "Beats the dummy baseline by baseline_margin", "pass"),
    ("R8", "Quality on every slice", "skipped"),
    ("R13", "Outputs numerically sane", "pass"),
    ("R14", "Retraining with the same data and seed reproduces the metric", "fail"),
    ("R16", "Robust to 1% noise on numeric features", "pass"),
)


def monitoring(*checks: tuple[str, str, str]) -> str:
    items = [{"id": i, "group": g, "method": m, "status": "ok", "value": 0, "n": 100} for i, g, m in checks]
    return json.dumps({"status": "ok", "checks": items})


MONITORING = monitoring(
    ("missing_share", "data_quality", "share_missing_vs_reference"),
    ("prediction_validity", "data_quality", "nan_inf_or_out_of_range"),
    ("performance_drop", "performance", "roc_auc_relative_drop_vs_reference"),
    ("performance_threshold", "performance", "roc_auc_vs_ready_threshold"),
    ("model_age", "operations", "days_since_training"),
    ("latency_p95", "operations", "p95_latency_ms"),
)

REPORTS: dict[str, str | bytes] = {
    "reports/readiness.json": READINESS,
    "reports/monitoring/latest.json": MONITORING,
    "reports/skew.json": '{"status": "pass"}',
    "reports/latency.json": '{"status": "pass"}',
    "data/processed/train.parquet": b"PAR1",
    "artifacts/model.joblib": b"x",
}


def by_id(report: ScoreReport) -> dict[str, ItemScore]:
    return {t.id: t for s in report.sections for t in s.tests}


def totals(report: ScoreReport) -> dict[str, float]:
    return {s.name: s.total for s in report.sections}


def test_the_rubric_has_28_tests_in_4_sections_of_7() -> None:
    assert len(TESTS) == 28 and len({t.id for t in TESTS}) == 28
    for section in ("data", "model", "infrastructure", "monitoring"):
        assert sum(t.section == section for t in TESTS) == 7


def test_an_empty_folder_scores_zero_everywhere(tmp_path: Path) -> None:
    report = score_repo(repo=tmp_path)
    assert report.final == 0 and totals(report) == dict.fromkeys(totals(report), 0.0)
    assert report.interpretation == interpret(0)
    assert all(t.how == "not found" and not t.evidence for t in by_id(report).values())
    assert len(report.to_raise) == 3 and all(t.to_raise for t in report.to_raise)
    # a four-way tie: one test from each of the first three weakest sections
    assert [t.id for t in report.to_raise] == ["D1", "M1", "I1"]


def test_static_evidence_before_the_pipeline_ran(tmp_path: Path) -> None:
    tests = by_id(score_repo(repo=make_project(tmp_path / "p")))
    assert tests["D1"].score == 1.0  # a schema, and CI runs the data step that validates
    assert any("runs `make all` (reaches `data`)" in e for e in tests["D1"].evidence)
    assert tests["D6"].score == 0.5 and tests["D6"].how.startswith("static")
    assert tests["D7"].score == 1.0  # tests of the feature module, run by `make test` in CI
    assert tests["M1"].score == 0.5
    assert (tests["D5"].score, tests["D5"].evidence) == (
        0.5,
        ("docs/formulation.md states privacy controls",),
    )
    assert tests["M5"].score == 0.0  # no report yet: a gate that never ran proves nothing
    assert tests["Mo2"].score == 0.0


def test_reports_of_a_run_count_and_ci_makes_them_automated(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, REPORTS)  # ignored by git, as a pipeline run leaves them
    tests = by_id(score_repo(repo=root))
    assert tests["M5"].score == 1.0 and "R5a" in tests["M5"].evidence[0]
    assert tests["D4"].score == 1.0
    assert tests["I1"].score == 1.0  # a failing check still shows the test is in place
    assert tests["M6"].score == 0.0  # R8 was skipped: no slices configured
    assert "slices" in tests["M6"].to_raise
    assert (tests["M7"].score, tests["M7"].how) == (0.5, "invariance only, no per-group check (0.5 at most)")
    assert tests["I4"].score == 1.0
    assert "`make all` runs the gate before the deploy step" in tests["I4"].evidence
    # monitoring ran by hand: documented, but no schedule runs it
    for test_id in ("M2", "Mo2", "Mo3", "Mo4", "Mo5", "Mo6", "Mo7"):
        assert tests[test_id].score == 0.5, test_id
        assert tests[test_id].how.startswith("documented (no schedule"), test_id
    assert "performance_drop" in tests["M2"].evidence[0]


def test_the_lifecycle_checks_count_for_m5_m7_and_i4(tmp_path: Path) -> None:
    """R6 (simpler model), R9 (groups) and R7 (the champion) as the generated gate writes them."""
    root = make_project(tmp_path / "p")
    lifecycle = readiness(
        ("R6", "A simpler model is not as good", "warn"),
        ("R7", "No regression against the champion (paired bootstrap)", "pass"),
        ("R9", "Sensitive groups: metric gap, selection rates and equalized odds within bounds", "pass"),
    )
    write(root, {**REPORTS, "reports/readiness.json": lifecycle})
    tests = by_id(score_repo(repo=root))
    assert tests["M5"].score == 1.0 and "R6" in tests["M5"].evidence[0]
    assert tests["M7"].score == 1.0 and "R9" in tests["M7"].evidence[0]
    assert any("R7" in e and "serving model" in e for e in tests["I4"].evidence)


def test_a_skipped_champion_check_is_no_evidence(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    first = readiness(("R7", "No regression against the champion (paired bootstrap)", "skipped"))
    write(root, {**REPORTS, "reports/readiness.json": first})
    assert not any("R7" in e for e in by_id(score_repo(repo=root))["I4"].evidence)


def test_a_scheduled_monitor_makes_monitoring_automated(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {".github/workflows/monitor.yml": MONITOR_WORKFLOW})
    write(root, REPORTS)
    tests = by_id(score_repo(repo=root))
    for test_id in ("M2", "Mo2", "Mo3", "Mo4", "Mo5", "Mo6", "Mo7"):
        assert tests[test_id].score == 1.0, test_id
    assert any("a schedule in .github/workflows/monitor.yml" in e for e in tests["Mo4"].evidence)


def test_pipeline_integration_needs_every_step_in_ci(tmp_path: Path) -> None:
    ci = "on: [push]\njobs:\n  x:\n    steps:\n      - run: make data train\n"
    root = make_project(tmp_path / "p", {".github/workflows/ci.yml": ci})
    write(root, REPORTS)
    i3 = by_id(score_repo(repo=root))["I3"]
    assert (i3.score, i3.how) == (0.5, "documented")
    assert "CI runs only data, train" in i3.evidence[0]


def test_dependabot_codeowners_and_search_raise_their_tests(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    before = by_id(score_repo(repo=root))
    assert before["Mo1"].score == 0 and before["M3"].score == 0 and before["M1"].score == 0.5
    commit(
        root,
        {
            ".github/dependabot.yml": "version: 2\nupdates: []\n",
            ".github/CODEOWNERS": "* @ml-team\n",
            "src/churn_model/models.py": "from sklearn.model_selection import GridSearchCV\n",
        },
    )
    after = by_id(score_repo(repo=root))
    assert after["Mo1"].score == 1 and after["M3"].score == 1 and after["M1"].score == 1


def test_final_is_the_weakest_section_and_names_tests_to_raise_it(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {".github/workflows/monitor.yml": MONITOR_WORKFLOW})
    write(root, REPORTS)
    report = score_repo(repo=root)
    assert report.final == min(totals(report).values())
    weakest = [s for s in report.sections if s.total == report.final]
    assert report.weakest == tuple(s.name for s in weakest)
    assert report.to_raise and all(t.section in report.weakest and t.score < 1 for t in report.to_raise)
    assert [t.score for t in report.to_raise] == sorted(t.score for t in report.to_raise)
    assert report.interpretation == interpret(report.final)


@pytest.mark.parametrize(
    ("final", "start"),
    [(0, "a research project"), (0.5, "not untested"), (1, "not untested"), (2, "a first pass"),
     (2.5, "reasonably tested"), (4, "strong"), (5.5, "exceptional")],
)  # fmt: skip
def test_interpretation_follows_table_v(final: float, start: str) -> None:
    assert interpret(final).startswith(start)


def test_text_and_json_output(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    write(root, REPORTS)
    report = score_repo(repo=root)
    data = json.loads(format_score(report, "json"))
    assert data["final"] == report.final and [s["name"] for s in data["sections"]] == [
        "data", "model", "infrastructure", "monitoring",
    ]  # fmt: skip
    assert sum(len(s["tests"]) for s in data["sections"]) == 28
    assert {"id", "title", "score", "how", "evidence", "to_raise"} <= set(data["sections"][0]["tests"][0])
    text = format_score(report, "text")
    assert f"Final score: {report.final:g}" in text
    assert "To raise the weakest section:" in text
    assert "  M5     1  A simpler model is not better  [automated]" in text


# ------------------------------------------------------------------------------ a generated project


def _new_project(tmp_path: Path) -> Path:
    dest = tmp_path / "fresh"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [sys.executable, "-m", "mlscaffold", "new", str(dest), "--defaults"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return dest


GENV = Path("/work/genv/bin/python")


@pytest.mark.slow
@pytest.mark.skipif(not GENV.exists(), reason="needs the generated-project environment /work/genv")
def test_fresh_project_scores_at_least_2_in_every_section_after_make_all(tmp_path: Path) -> None:
    root = _new_project(tmp_path)
    before = score_repo(repo=root)
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "MPLBACKEND": "Agg"}
    make = shutil.which("make")
    assert make is not None
    proc = subprocess.run(
        [make, "all", f"PYTHON={GENV}"], cwd=root, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    after = score_repo(repo=root)
    assert all(total >= 2 for total in totals(after).values()), format_score(after, "text")
    assert after.final > before.final


def test_cli_score(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [sys.executable, "-m", "mlscaffold", "score", "--format", "json", str(root)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["final"] == score_repo(repo=root).final
    missing = subprocess.run(
        [sys.executable, "-m", "mlscaffold", "score", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert missing.returncode == 2 and missing.stderr.startswith("error:")


def test_reports_are_found_where_config_yaml_puts_them(tmp_path: Path) -> None:
    config = "paths: {reports: out/reports, logs: ../../elsewhere}\n"
    root = make_project(tmp_path / "p", {"config.yaml": config})
    write(root, {("out/" + k if k.startswith("reports/") else k): v for k, v in REPORTS.items()})
    tests = by_id(score_repo(repo=root))
    assert tests["M5"].score == 1.0 and tests["M5"].evidence[0].startswith("out/reports/readiness.json")
    assert tests["Mo6"].evidence[-1] == "out/reports/latency.json"
