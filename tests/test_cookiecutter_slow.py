"""`new` on a cookiecutter base (slow): in a fresh clone of the generated project, the printed next step
works with the commands the project has: its install ships the pipeline package, the whole pipeline runs
(`make ml-all` beside the template's own targets, or `make all`), and every test passes, the template's
own and the stages'."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from project_env import CACHE, default_project_python, require_ok

from mlscaffold import AnswerSources, new_project

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures" / "cookiecutters"
CASES = {"package": "Acme Fraud Tools", "datascience": "churn study"}


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return default_project_python(tmp_path_factory)


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_the_next_step_runs_the_pipeline_and_the_tests_in_a_fresh_clone(
    fixture: str, tmp_path: Path, python: Path
) -> None:
    sources = AnswerSources(defaults=True, set_values=(f"project_name={CASES[fixture]}",))
    result = new_project(dest=tmp_path / "made", template=str(FIXTURES / fixture), sources=sources)
    clone = tmp_path / "clone"
    cloned = ["git", "clone", "-q", str(result.dest), str(clone)]
    require_ok(subprocess.run(cloned, capture_output=True, text=True, check=False), "git clone")
    assert list((clone / "data" / "sample").glob("*.csv"))  # committed although the template ignores data/

    steps = [s.strip() for s in result.next_step.split("   (")[0].split("&&")]
    installs = [s for s in steps if s.startswith("pip install")]
    assert installs[-1] == "pip install -e '.[dev]'" and len(steps) == len(installs) + 2
    site = tmp_path / "site"  # `pip install -e '.[dev]'`, without the network: the cached venv has the deps
    built = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(clone)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    require_ok(built, "pip install of the project")

    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "PYTHONPATH": str(site), "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": str(CACHE / "matplotlib"), "HOME": str(tmp_path),
           "PYTEST_ADDOPTS": "-q -p no:cacheprovider -m 'not slow'"}  # fmt: skip
    for step in steps[len(installs) :]:  # the whole pipeline, then the project's tests
        argv = [*shlex.split(step), *([f"PYTHON={python}"] if step.startswith("make ") else [])]
        if argv[0] == "python":
            argv[0] = str(python)
        done = subprocess.run(
            argv, cwd=clone, env=env, capture_output=True, text=True, timeout=1500, check=False
        )
        require_ok(done, step)
    assert (clone / "reports" / "readiness.json").is_file()
    assert (clone / "reports" / "monitoring" / "latest.json").is_file()
