"""`score` recognises the field's forms of evidence, not only mlscaffold's own, naming file and line;
and `check` and `score` judge the same snapshot (tracked files; `--worktree` for the disk)."""

from __future__ import annotations

from pathlib import Path

import pytest
from foreign_repos import git

from mlscaffold import check_repo
from mlscaffold.score import score_repo

CI_TESTS = (
    "on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m pytest -q\n"
)
REPOS: dict[str, dict[str, str]] = {
    "validated": {
        "churn/__init__.py": "",
        "churn/validate.py": "import pandas\nimport pandera as pa\n\nSCHEMA = pa.DataFrameSchema({})\n",
        "churn/rows.py": "from pydantic import BaseModel\n\n\nclass Row(BaseModel):\n    age: int\n",
        "tests/test_expectations.py": "import great_expectations as gx\n",
        "tests/test_quality.py": (
            "def helper():\n    pass\n\n\ndef test_no_missing_values():\n    assert True\n"
        ),
        ".github/workflows/tests.yml": CI_TESTS,
    },
    "tuned": {
        "src/fraud/__init__.py": "",
        "src/fraud/train.py": "import optuna\n\nstudy = optuna.create_study()\n",
        "src/fraud/tune.py": "from ray import tune\n\ntuner = tune.Tuner(lambda c: c)\n",
        "src/fraud/grid.py": "from sklearn.model_selection import RandomizedSearchCV\n",
    },
    "behavioural": {
        "nlp/__init__.py": "",
        "tests/test_behaviour.py": "def test_invariance_to_typos():\n    assert True\n",
        "tests/test_slices.py": "\n\ndef test_accuracy_per_slice():\n    assert True\n",
        "tests/test_model.py": "def test_overfits_one_batch():\n    assert True\n",
        ".github/workflows/ci.yml": CI_TESTS,
    },
    "monitored": {
        "svc/__init__.py": "",
        "svc/drift.py": "from evidently import Report\n",
        "svc/estimate.py": "import nannyml as nml\n\nestimator = nml.CBPE()\n",
        "svc/metrics.py": "from prometheus_client import Histogram\n",
        "Dockerfile": "FROM python:3.11-slim\n",
    },
}
# repo, test, score, how, evidence (a substring naming the file and line)
TABLE = [
    ("validated", "D1", 1.0, "automated", "churn/validate.py:2: pandera validates data against a schema"),
    ("validated", "D1", 1.0, "automated", "churn/rows.py:1: pydantic validates data against a schema"),
    ("validated", "D1", 1.0, "automated", "tests/test_expectations.py:1: Great Expectations validates data"),
    ("validated", "D1", 1.0, "automated", "tests/test_quality.py:5: a pytest test over the data"),
    ("tuned", "M3", 0.5, "documented (not run by CI or a schedule)", "src/fraud/train.py:1: Optuna"),
    ("tuned", "M3", 0.5, "documented (not run by CI or a schedule)", "src/fraud/tune.py:1: Ray Tune"),
    ("tuned", "M3", 0.5, "documented (not run by CI or a schedule)", "src/fraud/grid.py:1: scikit-learn"),
    ("behavioural", "M6", 1.0, "automated", "tests/test_slices.py:3: a test of quality per slice"),
    ("behavioural", "M7", 0.5, "invariance only, no per-group check (0.5 at most)", "test_behaviour.py:1"),
    ("behavioural", "I2", 1.0, "automated", "tests/test_model.py:1: a test fits the model code"),
    ("monitored", "Mo2", 0.5, "documented (no schedule runs monitor)", "svc/drift.py:1: Evidently"),
    ("monitored", "Mo2", 0.5, "documented (no schedule runs monitor)", "svc/estimate.py:1: NannyML"),
    (
        "monitored",
        "Mo7",
        0.5,
        "documented (no schedule runs monitor)",
        "svc/estimate.py:3: tracks prediction",
    ),
    (
        "monitored",
        "Mo6",
        0.5,
        "documented (no schedule runs monitor or deploy)",
        "svc/metrics.py:1: Prometheus",
    ),
    ("monitored", "I6", 0.5, "static evidence only (0.5 at most)", "Dockerfile: a container image"),
    ("tuned", "D1", 0.0, "not found", None),
    ("monitored", "M7", 0.0, "not found", None),
]


def _repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "x")
    return root


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    out = {}
    for name, files in REPOS.items():
        report = score_repo(repo=_repo(tmp_path_factory.mktemp(name), files))
        out[name] = {t.id: t for s in report.sections for t in s.tests}
    return out


@pytest.mark.parametrize(("repo", "test", "score", "how", "evidence"), TABLE)
def test_the_fields_evidence_is_recognised(
    scored: dict[str, dict[str, object]], repo: str, test: str, score: float, how: str, evidence: str | None
) -> None:
    item = scored[repo][test]
    assert (item.score, item.how) == (score, how), item  # type: ignore[attr-defined]
    if evidence is None:
        assert item.evidence == ()  # type: ignore[attr-defined]
    else:
        assert any(evidence in e for e in item.evidence), item.evidence  # type: ignore[attr-defined]


def test_check_and_score_judge_the_same_snapshot(tmp_path: Path) -> None:
    root = _repo(tmp_path / "r", {"README.md": "# r\n"})
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text(CI_TESTS)  # written, not committed
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("def test_model_fit():\n    assert '.fit('\n")

    def ci_finding(worktree: bool) -> bool:
        found = check_repo(repo=root, worktree=worktree).findings
        return any(f.message.startswith("no CI workflow found") for f in found)

    def i2(worktree: bool) -> float:
        report = score_repo(repo=root, worktree=worktree)
        return next(t.score for s in report.sections for t in s.tests if t.id == "I2")

    assert ci_finding(False) and i2(False) == 0  # tracked files: neither sees the new workflow
    assert not ci_finding(True) and i2(True) == 1  # the disk: both see it
