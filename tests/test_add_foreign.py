"""`add` on repos mlscaffold did not write (fast tier, the built-in templates, nothing run): the package
from the packaging metadata, the documented merges and nothing else, conflicts, CI and the next step."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from foreign_repos import SHAPES, flat_two_packages, git, src_subpackages, tracked_processed_data
from helpers import cli_in_process, snapshot

from mlscaffold import AnswerSources, check_repo
from mlscaffold.engine.layout import detect_packaging, find_packages
from mlscaffold.engine.tomledit import include_packages
from mlscaffold.errors import UserError
from mlscaffold.score import score_repo
from mlscaffold.verbs.add import add_stages

STAGES = ["data", "baseline", "evaluate", "deploy", "monitor"]
DEFAULTS = AnswerSources(defaults=True)


def _toml(text: str) -> dict[str, object]:
    import tomllib

    return tomllib.loads(text)


# ------------------------------------------------------------------------------ package detection


@pytest.mark.parametrize(
    ("pyproject", "paths", "packages", "layout"),
    [
        (
            '[tool.setuptools]\npackages = ["b", "a"]\n',
            ["a/__init__.py", "b/__init__.py"],
            ("b", "a"),
            "flat",
        ),
        (
            '[tool.setuptools.packages.find]\nwhere = ["src"]\ninclude = ["core*"]\n',
            ["src/core/__init__.py", "src/other/__init__.py"],
            ("core",),
            "src",
        ),
        (
            '[build-system]\nbuild-backend = "hatchling.build"\n'
            '[tool.hatch.build.targets.wheel]\npackages = ["src/x"]\n',
            ["src/x/__init__.py", "src/y/__init__.py"],
            ("x",),
            "src",
        ),
        (
            '[build-system]\nbuild-backend = "poetry.core.masonry.api"\n'
            '[tool.poetry]\npackages = [{include = "p", from = "src"}]\n',
            ["src/p/__init__.py"],
            ("p",),
            "src",
        ),
        (
            '[build-system]\nbuild-backend = "flit_core.buildapi"\n[tool.flit.module]\nname = "f"\n',
            ["f/__init__.py"],
            ("f",),
            "flat",
        ),
        (
            "[tool.ruff]\nline-length = 100\n",
            ["tests/__init__.py", "scorer/__init__.py"],
            ("scorer",),
            "flat",
        ),
        (None, ["src/acme/models/__init__.py", "src/acme/models/x.py"], ("acme.models",), "src"),
        # `src/__init__.py`: `src` is the package itself (eugeneyan/testing-ml imports `src.tree`)
        (None, ["src/__init__.py", "src/tree/__init__.py", "src/utils/__init__.py"], ("src",), "flat"),
    ],
)
def test_the_package_comes_from_the_packaging_metadata(
    pyproject: str | None, paths: list[str], packages: tuple[str, ...], layout: str
) -> None:
    found = detect_packaging(paths, _toml(pyproject) if pyproject else None)
    assert (found.packages, found.layout) == (packages, layout)


def test_the_package_named_after_the_project_wins_over_subpackages() -> None:
    paths = ["src/fraud/__init__.py", "src/fraud/models/__init__.py", "src/aaa/__init__.py"]
    found = detect_packaging(paths, _toml('[project]\nname = "fraud"\n'))
    assert found.packages[0] == "fraud" and not found.ambiguous
    assert "fraud.models" not in find_packages(paths)  # a subpackage is not a package of its own


def test_hatch_poetry_and_setuptools_lists_learn_the_pipeline_package() -> None:
    pipeline = ["x_pipeline", "x_pipeline.stages"]
    hatch = '[tool.hatch.build.targets.wheel]\npackages = ["src/x"]\n'
    text, _ = include_packages(hatch, "hatch", True, "src", ["x"], pipeline)
    assert _toml(text)["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/x",
        "src/x_pipeline",
    ]  # type: ignore[index]
    poetry = '[tool.poetry]\npackages = [{include = "x", from = "src"}]\n'
    text, _ = include_packages(poetry, "poetry", True, "src", ["x"], pipeline)
    assert _toml(text)["tool"]["poetry"]["packages"][-1] == {"include": "x_pipeline", "from": "src"}  # type: ignore[index]
    listed = '[tool.setuptools]\npackages = ["x"]\n'
    text, _ = include_packages(listed, "setuptools", True, "flat", ["x"], pipeline)
    assert _toml(text)["tool"]["setuptools"]["packages"] == ["x", *pipeline]  # type: ignore[index]
    assert include_packages('[project]\nname = "x"\n', "setuptools", False, "src", ["x"], pipeline)[1] is None


# ------------------------------------------------------------------------------ add on each shape


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_only_the_listed_merges_change_tracked_files(shape: str, tmp_path: Path) -> None:
    repo = SHAPES[shape](tmp_path / shape)
    before = {p: (repo / p).read_bytes() for p in git(repo, "ls-files").split()}
    result = add_stages(repo=repo, stages=STAGES, sources=DEFAULTS, skip_existing=True)
    changed = {p for p, v in before.items() if (repo / p).read_bytes() != v}
    assert changed <= {m.split(":")[0] for m in result.merges}
    assert result.next_step and "pip install -e '.[dev]'" in result.next_step
    workflow = (repo / ".github" / "workflows" / "ml-pipeline.yml").read_text()
    assert "make lint" not in workflow and ("python -m pytest" in workflow or "make test" in workflow)
    pyproject = _toml((repo / "pyproject.toml").read_text())
    assert "pandera>=0.24" in pyproject["project"]["dependencies"]  # type: ignore[index]


def test_a_makefile_of_the_users_gets_namespaced_targets_and_ci_uses_them(tmp_path: Path) -> None:
    repo = flat_two_packages(tmp_path / "flat")
    own = (repo / "Makefile").read_text()
    result = add_stages(repo=repo, stages=STAGES, sources=DEFAULTS, skip_existing=True)
    makefile = (repo / "Makefile").read_text()
    assert makefile.startswith(own)  # theirs first, untouched
    assert "ml-data:\n\t$(MAKE) -f mlscaffold.mk data" in makefile and "\ndata:" not in makefile[len(own) :]
    assert "run: make ml-all" in (repo / ".github/workflows/ml-pipeline.yml").read_text()
    assert "make ml-all" in result.next_step and "python -m churnkit_pipeline all" in result.next_step
    pyproject = _toml((repo / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["packages"] == [  # type: ignore[index]
        "churnkit", "helpers", "churnkit_pipeline", "churnkit_pipeline.stages"
    ]  # fmt: skip
    done = subprocess.run(["make", "-n", "ml-evaluate"], cwd=repo, capture_output=True, text=True)
    assert "-m churnkit_pipeline evaluate" in done.stdout  # the user's PKG := churnkit does not leak in
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "add stages")
    gate = [f for f in check_repo(repo=repo).findings if f.rule_id == "ci-readiness-gate"]
    assert gate == []  # the CI command reaches evaluate through ml-all -> mlscaffold.mk
    i3 = next(t for sec in score_repo(repo=repo).sections for t in sec.tests if t.id == "I3")
    assert (i3.score, i3.evidence) == (
        1.0,
        ("CI runs every pipeline step: data, train, evaluate, deploy, monitor",),
    )


def test_an_ambiguous_package_needs_a_choice(tmp_path: Path) -> None:
    repo = flat_two_packages(tmp_path / "flat")
    (repo / "pyproject.toml").write_text(
        (repo / "pyproject.toml").read_text().replace('name = "churnkit"', 'name = "retention"')
    )
    git(repo, "commit", "-qam", "rename")
    before = snapshot(repo)
    with pytest.raises(UserError, match=r"cannot tell which package.*churnkit, helpers.*--package NAME"):
        add_stages(repo=repo, stages=["data"], sources=DEFAULTS)
    with pytest.raises(UserError, match="not an importable package name"):
        add_stages(repo=repo, stages=["data"], sources=DEFAULTS, package="../helpers")
    with pytest.raises(UserError, match="--package nope: no such package"):
        add_stages(repo=repo, stages=["data"], sources=DEFAULTS, package="nope")
    assert snapshot(repo) == before
    asked: list[list[str]] = []

    def pick(question: str, choices: list[str]) -> str:
        asked.append(choices)
        return "helpers"

    add_stages(repo=repo, stages=["data"], sources=DEFAULTS, choose=pick, dry_run=True)
    assert asked == [["churnkit", "helpers"]]
    result = add_stages(repo=repo, stages=["data"], sources=DEFAULTS, package="helpers")
    assert (repo / "helpers_pipeline" / "stages" / "data.py").is_file() and result.added == ("data",)


def test_tracked_outputs_are_never_hidden_nor_cleaned(tmp_path: Path) -> None:
    repo = tracked_processed_data(tmp_path / "demand")
    result = add_stages(repo=repo, stages=STAGES, sources=DEFAULTS)
    ignore = (repo / ".gitignore").read_text()
    assert "data/processed/\n" not in ignore and "/data/processed/train.parquet" in ignore
    assert any("would hide 1 tracked file(s) (data/processed/features.csv)" in m for m in result.merges)
    assert git(repo, "ls-files", "-ci", "--exclude-standard") == ""  # no tracked file is ignored
    (repo / "data" / "processed" / "train.parquet").write_text("output")
    (repo / "reports" / "readiness.json").write_text("{}")
    done = subprocess.run(["make", "clean"], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not (repo / "data" / "processed" / "train.parquet").exists()
    assert not (repo / "reports" / "readiness.json").exists()
    assert (repo / "data/processed/features.csv").is_file() and (repo / "reports/.gitkeep").is_file()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command in this process, with no terminal (helpers.cli_in_process): the plan, the conflicts
    and the exit code are the subject here."""
    return cli_in_process(*args, cwd=cwd)


def test_dry_run_shows_the_whole_plan_and_every_conflict_then_exits_2(tmp_path: Path) -> None:
    repo = src_subpackages(tmp_path / "fraud")
    before = snapshot(repo)
    done = _cli("add", *STAGES, "--defaults", "--dry-run", cwd=repo)
    assert done.returncode == 2, done.stderr
    assert "+++ b/src/fraud_pipeline/stages/monitor.py" in done.stdout  # the plan goes on past conflicts
    assert (
        "# CONFLICT tests/conftest.py" in done.stdout and "# CONFLICT .pre-commit-config.yaml" in done.stdout
    )
    assert "-sys.path.insert" in done.stdout  # the diff --overwrite would apply to the user's file
    assert (
        "would merge: pyproject.toml: [tool.hatch.build.targets.wheel] packages += src/fraud_pipeline"
        in done.stdout
    )
    assert done.stderr.strip().splitlines()[0].startswith("error: 2 file(s) exist with other content")
    assert snapshot(repo) == before
    kept = _cli("add", *STAGES, "--defaults", "--skip-existing", cwd=repo)
    assert kept.returncode == 0, kept.stderr
    assert "kept yours: tests/conftest.py: the stage's tests use fixtures from it" in kept.stdout
    assert "next: pip install -e '.[dev]' && make all" in kept.stdout
    assert (repo / "tests" / "conftest.py").read_bytes() == before["tests/conftest.py"][1]


def test_a_later_add_refreshes_the_namespaced_block_and_touches_nothing_else(tmp_path: Path) -> None:
    repo = flat_two_packages(tmp_path / "flat")
    add_stages(repo=repo, stages=["data"], sources=DEFAULTS, commit=True)
    pyproject = (repo / "pyproject.toml").read_text()
    later = add_stages(repo=repo, stages=["baseline"], sources=DEFAULTS, commit=True)
    makefile = (repo / "Makefile").read_text()
    assert (
        makefile.count("# >>> mlscaffold") == 1 and "ml-train:\n\t$(MAKE) -f mlscaffold.mk train" in makefile
    )
    assert [m.split(":")[0] for m in later.merges] == ["Makefile", "pyproject.toml"]
    assert "joblib>=1.3" in later.merges[1] and "joblib>=1.3" in (repo / "pyproject.toml").read_text()
    assert "pandas" not in later.merges[1] and "pandas>=2.0" in pyproject  # only what is new is listed
    again = add_stages(repo=repo, stages=["baseline"], sources=DEFAULTS)
    assert again.changed == ()
