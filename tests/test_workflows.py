"""GitHub Actions workflows, ours and the generated projects', validated against the GitHub workflow
JSON schema that check-jsonschema ships (`--builtin-schema vendor.github-workflows`: no network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlscaffold import AnswerSources, new_project
from mlscaffold.engine.templates import load_template_set

REPO = Path(__file__).resolve().parents[1]
OUR_WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
ALL_STAGES = list(load_template_set(None).stages)
# Every stage, and every stage but deploy (the monitor workflow has a branch for projects without it).
CONFIGURATIONS = {
    "every-stage": ALL_STAGES,
    "no-deploy": [s for s in ALL_STAGES if s != "deploy"],
}


def check_workflows(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def workflows_in(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.y*ml"))


def test_our_workflows_follow_the_github_schema() -> None:
    assert {p.name for p in OUR_WORKFLOWS} >= {"ci.yml", "release.yml"}
    done = check_workflows(*OUR_WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_refuses_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    runs_on: ubuntu-latest\n    steps:\n      - run: true\n")
    done = check_workflows(broken)
    assert done.returncode == 1
    assert "broken.yml" in done.stdout + done.stderr


def readme_test_command() -> str:
    """The line under `<!-- test-command -->` in README.md, found the way .ci/run finds it."""
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("<!-- test-command"))
    fence = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    return lines[fence + 1]


def test_ci_runs_the_readme_test_command_on_every_declared_python() -> None:
    ci = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    jobs = ci["jobs"]
    # fast tier: the README command's install and fast-tier steps, on every push
    fast = jobs["fast"]
    assert "if" not in fast
    assert readme_test_command().startswith(fast["steps"][-1]["run"] + " && ")
    assert '-m "not slow"' in fast["steps"][-1]["run"]
    # slow tier: the same command unfiltered, on main only
    slow = jobs["slow"]
    assert "refs/heads/main" in slow["if"]
    assert slow["steps"][-1]["run"] == "bash .ci/run" and "env" not in slow["steps"][-1]
    assert "python -m pytest" in readme_test_command()
    assert 'bash -c "$cmd"' in (REPO / ".ci" / "run").read_text()
    # the matrix is exactly the versions the classifiers declare
    declared = sorted(
        line.split("::")[-1].strip().rstrip('",')
        for line in (REPO / "pyproject.toml").read_text().splitlines()
        if '"Programming Language :: Python :: 3.' in line
    )
    assert fast["strategy"]["matrix"]["python"] == declared == slow["strategy"]["matrix"]["python"]
    # lint and types in their own job
    lint_steps = " ".join(step.get("run", "") for step in jobs["lint"]["steps"])
    for command in ("ruff check .", "ruff format --check .", "mypy", "vendor.github-workflows"):
        assert command in lint_steps


@pytest.mark.parametrize("configuration", sorted(CONFIGURATIONS))
def test_generated_workflows_follow_the_github_schema(tmp_path: Path, configuration: str) -> None:
    stages = ",".join(CONFIGURATIONS[configuration])
    sources = AnswerSources(defaults=True, set_values=(f"stages={stages}",))
    project = new_project(dest=tmp_path / "demo", sources=sources, git=False).dest
    files = workflows_in(project)
    assert files, "the generated project ships no workflow"
    done = check_workflows(*files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_workflow_a_template_ships_is_among_those_validated(tmp_path: Path) -> None:
    shipped = {
        path.name.removesuffix(".jinja")
        for path in (REPO / "templates").glob("**/files/.github/workflows/*")
        if "{" not in path.name
    }
    sources = AnswerSources(defaults=True, set_values=(f"stages={','.join(ALL_STAGES)}",))
    project = new_project(dest=tmp_path / "full", sources=sources, git=False).dest
    assert shipped and shipped <= {p.name for p in workflows_in(project)}
