"""`mlscaffold add` for real (slow): stages added one by one to a generated project, and the built-in
stages added to a repo mlscaffold did not make; after each step the pipeline and the tests pass."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import snapshot
from project_env import (
    project_python,
    project_requirements,
    require_ok,
    run_env,
    run_make,
)

from mlscaffold import AnswerSources, new_project
from mlscaffold.engine.record import read_record
from mlscaffold.verbs.add import add_stages

pytestmark = pytest.mark.slow


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def test_stages_added_one_by_one_keep_the_project_running(tmp_path: Path) -> None:
    full = new_project(dest=tmp_path / "full", sources=AnswerSources(defaults=True), git=False).dest
    python = project_python(project_requirements(full))  # a superset serves every step
    sources = AnswerSources(defaults=True, set_values=("stages=data,baseline",))
    project = new_project(dest=tmp_path / "grows", sources=sources).dest
    assert not (project / "mk" / "30-evaluate.mk").exists()
    for stage in (None, "evaluate", "deploy", "monitor"):
        if stage is not None:
            result = add_stages(
                repo=project, stages=[stage], sources=AnswerSources(defaults=True), commit=True
            )
            assert result.added == (stage,)
            assert stage in read_record(project).stages
            assert _git(project, "status", "--porcelain", "--untracked-files=no") == ""
        assert set(project_requirements(project)) <= set(project_requirements(full))
        require_ok(run_make(project, python, "all"), f"make all after adding {stage}")
        require_ok(run_make(project, python, "test"), f"make test after adding {stage}")
    assert (project / "reports" / "readiness.json").is_file()
    assert (project / "reports" / "monitoring" / "latest.json").is_file()
    again = add_stages(repo=project, stages=["monitor"], sources=AnswerSources(defaults=True))
    assert again.changed == ()


def _hand_made_repo(root: Path) -> Path:
    (root / "src" / "legacy_model").mkdir(parents=True)
    (root / "src" / "legacy_model" / "__init__.py").write_text('"""The team\'s own model code."""\n')
    (root / "src" / "legacy_model" / "features.py").write_text(
        "def add_one(x: int) -> int:\n    return x + 1\n"
    )
    (root / "pyproject.toml").write_text(
        "[project]\n"
        'name = "legacy-model"\n'
        'version = "2.3.0"\n'
        "# pinned by the platform team\n"
        'dependencies = ["numpy>=1.24"]\n'
        "\n[tool.setuptools.packages.find]\n"
        'where = ["src"]\n'
    )
    (root / "Makefile").write_text("hello:\n\t@echo hello from the team\n")
    (root / "README.md").write_text("# Legacy model\n\nOur own README.\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "the team's repo")
    return root


def test_a_hand_made_repo_gets_a_monitor_stage(tmp_path: Path) -> None:
    repo = _hand_made_repo(tmp_path / "legacy")
    own = {p: v for p, v in snapshot(repo).items() if p.startswith("src/legacy_model/") or p == "README.md"}
    result = add_stages(
        repo=repo, stages=["data", "baseline", "monitor"], sources=AnswerSources(defaults=True), commit=True
    )
    assert result.added == ("data", "baseline", "monitor")
    after = snapshot(repo)
    assert {p: after[p] for p in own} == own  # the team's code and README are untouched
    assert read_record(repo).answers["package_name"] == "legacy_model_pipeline"
    pyproject = (repo / "pyproject.toml").read_text()
    assert 'version = "2.3.0"' in pyproject and "# pinned by the platform team" in pyproject
    assert "scipy" in pyproject and "pandera" in pyproject
    makefile = (repo / "Makefile").read_text()
    assert makefile.startswith("hello:\n") and "ml-all:\n\t$(MAKE) -f mlscaffold.mk all" in makefile
    full = new_project(dest=tmp_path / "full", sources=AnswerSources(defaults=True), git=False).dest
    python = project_python(sorted({*project_requirements(full), *project_requirements(repo)}))
    require_ok(run_make(repo, python, "ml-all"), "make ml-all")
    assert (repo / "reports" / "monitoring" / "latest.json").is_file()
    hello = subprocess.run(["make", "hello"], cwd=repo, env=run_env(repo), capture_output=True, text=True)
    assert hello.stdout.strip() == "hello from the team"
