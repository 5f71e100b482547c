"""`add` on hand-made repos of the shapes teams have (slow): every stage added, the repo's install ships
the pipeline package, the pipeline and the tests run, `clean` keeps tracked files, and the user's
tracked files are byte-identical except the merges `add` listed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from foreign_repos import PIPELINES, SHAPES, git
from project_env import CACHE, default_project_python, require_ok

from mlscaffold import AnswerSources
from mlscaffold.verbs.add import add_stages

pytestmark = pytest.mark.slow
STAGES = ["data", "baseline", "evaluate", "deploy", "monitor"]


def _tracked(repo: Path) -> dict[str, bytes]:
    return {p: (repo / p).read_bytes() for p in git(repo, "ls-files").split()}


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return default_project_python(tmp_path_factory)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_stage_runs_in_a_repo_mlscaffold_did_not_write(
    shape: str, tmp_path: Path, python: Path
) -> None:
    repo = SHAPES[shape](tmp_path / shape)
    before = _tracked(repo)
    result = add_stages(repo=repo, stages=STAGES, sources=AnswerSources(defaults=True), skip_existing=True)
    merged = {m.split(":")[0] for m in result.merges}
    after = {p: (repo / p).read_bytes() for p in before}
    assert {p for p in before if after[p] != before[p]} <= merged, result.merges
    assert {p for p, _ in result.kept} <= set(before)

    site = tmp_path / "site"  # the repo's own install, as a fresh clone gets it
    built = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(repo)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    require_ok(built, "pip install of the repo")
    pipeline = PIPELINES[shape].rsplit("/", 1)[-1]
    assert (site / pipeline / "__main__.py").is_file() and (site / pipeline / "stages" / "data.py").is_file()

    env = {"PATH": f"{Path(python).parent}:/usr/bin:/bin", "PYTHONPATH": str(site), "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": str(CACHE / "matplotlib"), "HOME": str(tmp_path),
           "PYTEST_ADDOPTS": "-q -p no:cacheprovider -m 'not slow'"}  # fmt: skip
    run = "ml-all" if (repo / "mlscaffold.mk").is_file() else "all"
    make = ["make", run, f"PYTHON={python}"]
    require_ok(
        subprocess.run(make, cwd=repo, env=env, capture_output=True, text=True, timeout=1200), "the pipeline"
    )
    assert (repo / "reports" / "readiness.json").is_file()
    assert (repo / "reports" / "monitoring" / "latest.json").is_file()

    kept_conftest = any(p == "tests/conftest.py" for p, _ in result.kept)
    tests = [str(python), "-m", "pytest", *([str(repo / "tests" / "test_fraud.py")] if kept_conftest else [])]
    require_ok(
        subprocess.run(tests, cwd=repo, env=env, capture_output=True, text=True, timeout=1200), "the tests"
    )

    clean = ["make", "ml-clean" if run == "ml-all" else "clean", f"PYTHON={python}"]
    require_ok(
        subprocess.run(clean, cwd=repo, env=env, capture_output=True, text=True, timeout=120), "make clean"
    )
    assert not (repo / "reports" / "readiness.json").exists()
    assert {p: (repo / p).read_bytes() for p in before if p not in merged} == {
        p: v for p, v in before.items() if p not in merged
    }
    assert sys.version_info >= (3, 11)
