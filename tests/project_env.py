"""One cached virtual environment for running generated projects in the slow tests.

`project_python(deps)` returns the Python of a venv holding exactly `deps` (plus setuptools), created
once without the system site-packages under `<repo>/.cache/test-venvs/venv-<hash>` (or under
$MLSCAFFOLD_TEST_CACHE) and reused by later runs. Projects then run from their source folders
(`run_env(project)` sets PYTHONPATH=src), so the shared environment never collects editable installs
of throwaway folders. The cache lives outside HOME because tests/conftest.py isolates HOME per test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("MLSCAFFOLD_TEST_CACHE") or REPO / ".cache" / "test-venvs")
INSTALL_TIMEOUT = 1800


def project_requirements(project: Path) -> list[str]:
    """[project].dependencies plus the dev extra of a generated project's pyproject.toml."""
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    found = list(data["project"]["dependencies"])
    found += data["project"].get("optional-dependencies", {}).get("dev", [])
    return sorted(set(found))


def project_python(deps: list[str]) -> Path:
    """The interpreter of the cached environment for `deps`, created on first use."""
    wanted = sorted(set(deps))
    key = hashlib.sha256("\n".join([sys.version, *wanted]).encode()).hexdigest()[:12]
    venv = CACHE / f"venv-{key}"
    python = venv / "bin" / "python"
    if (venv / ".complete").is_file():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    building = CACHE / f"building-{key}-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, timeout=600)
    install = subprocess.run(
        [str(building / "bin" / "python"), "-m", "pip", "install", "-q", "setuptools>=64", *wanted],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if install.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        pytest.fail(f"could not install the generated project's dependencies:\n{install.stderr[-3000:]}")
    (building / ".complete").write_text("\n".join(wanted) + "\n", encoding="utf-8")
    try:
        building.rename(venv)
    except OSError:  # another run finished first: use theirs
        shutil.rmtree(building, ignore_errors=True)
    return python


def run_env(project: Path) -> dict[str, str]:
    """Environment for running a generated project from its source folder."""
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(CACHE / "matplotlib"),
    }
    env.pop("VIRTUAL_ENV", None)
    return env


def run_make(
    project: Path, python: Path, target: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`make TARGET PYTHON=<python>` in `project` (the project's own slow tests are left out: the
    callers run `make all` themselves)."""
    env = run_env(project)
    env["PYTEST_ADDOPTS"] = "-q -p no:cacheprovider -m 'not slow'"
    return subprocess.run(
        ["make", target, f"PYTHON={python}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_python(
    project: Path, python: Path, *args: str, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """The project's Python with ARGS (`-m pkg ...`, `-c CODE`), in `project`, its source importable."""
    return subprocess.run(
        [str(python), *args],
        cwd=project,
        env=run_env(project),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def require_ok(done: subprocess.CompletedProcess[str], what: str) -> None:
    """Fail with the tail of both streams when a step of a generated project failed."""
    assert done.returncode == 0, f"{what} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def default_project_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cached environment holding everything a default project (all stages) depends on."""
    from mlscaffold import AnswerSources, new_project

    full = new_project(
        dest=tmp_path_factory.mktemp("full") / "p", sources=AnswerSources(defaults=True), git=False
    )
    return project_python([*project_requirements(full.dest), "numpy>=1.24"])
