"""A small fake generated project for `check` and `score` tests, independent of templates/."""

from __future__ import annotations

import subprocess
from pathlib import Path

FORMULATION = """\
# Formulation: churn-model

## 1. Value proposition
- End user: retention team. Goal: call the customers most likely to leave this month.

## 2. Prediction task
| Entity | Prediction time | Outcome | Wait | Task type |
|---|---|---|---|---|
| customer | 1st of month | churned | 30 days | binary_classification |

## 8. Features
| Feature | Source | Available at prediction time? | Cost | Owner | Allowed? |
|---|---|---|---|---|---|
| tenure | CRM | yes | 1 ms | crm-team | yes |
- Forbidden features: gender; privacy controls: customer ids are hashed before training.

## 12. Sign-off and decision log
| Date | Decision | By |
|---|---|---|
"""

RECORD = """\
mlscaffold_version: 0.1.0
template:
  name: mlscaffold-default
  source: builtin
  version: 0.1.0
answers:
  project_name: churn-model
  package_name: churn_model
  task_type: binary_classification
  target: churned
  primary_metric: roc_auc
  ready_threshold: 0.75
stages:
  data: {version: 0.1.0}
  baseline: {version: 0.1.0}
  evaluate: {version: 0.1.0}
"""

CI = """\
name: ci
on:
  push:
  pull_request:
jobs:
  pipeline:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Install
        run: |
          python -m pip install -e ".[dev]"
      - run: make all
      - run: make test
"""

MAKEFILE = """\
PYTHON ?= python
PKG := churn_model
PIPELINE :=
.DEFAULT_GOAL := all
include $(sort $(wildcard mk/*.mk))

all: $(PIPELINE) ## run the whole pipeline

test:
\t$(PYTHON) -m pytest
"""

MK = {
    "mk/10-data.mk": "PIPELINE += data\ndata:\n\t$(PYTHON) -m $(PKG) data\n",
    "mk/20-baseline.mk": "PIPELINE += train\ntrain:\n\t$(PYTHON) -m $(PKG) train\n",
    "mk/30-evaluate.mk": "PIPELINE += evaluate\nevaluate:\n\t$(PYTHON) -m $(PKG) evaluate\n",
}

FILES: dict[str, str] = {
    "README.md": "# churn-model\n\nPredicts churn.\n",
    "pyproject.toml": '[project]\nname = "churn-model"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n',
    "config.yaml": "task: {type: binary_classification, target: churned}\nfeatures: {forbidden: [gender]}\n",
    ".mlscaffold.yaml": RECORD,
    ".gitignore": "data/processed/\nartifacts/\nreports/\nlogs/\n",
    "docs/formulation.md": FORMULATION,
    ".github/workflows/ci.yml": CI,
    "Makefile": MAKEFILE,
    **MK,
    "src/churn_model/__init__.py": "",
    "src/churn_model/features.py": "def build(frame):\n    return frame\n",
    "src/churn_model/schema.py": "import pandera as pa\n\nSCHEMA = pa.DataFrameSchema({})\n",
    "src/churn_model/models.py": "def build_model():\n    return None\n",
    "tests/test_features.py": (
        "from churn_model import features\n\n\ndef test_build():\n    assert features\n"
    ),
    "data/sample/churn.csv": "tenure,churned\n1,0\n",
}


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def make_project(
    root: Path,
    extra: dict[str, str | bytes] | None = None,
    *,
    drop: tuple[str, ...] = (),
    use_git: bool = True,
) -> Path:
    """Write the fake project (plus `extra`, minus `drop`) and commit it when `use_git`."""
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, str | bytes] = {k: v for k, v in FILES.items() if k not in drop}
    files.update(extra or {})
    write(root, files)
    if use_git:
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "init")
    return root


def commit(root: Path, files: dict[str, str | bytes]) -> None:
    write(root, files)
    git(root, "add", "-A")
    git(root, "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "change")
