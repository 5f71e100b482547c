"""The release path: `python -m build` makes the sdist and, from it, the wheel; both pass `twine check`;
the wheel installs into a fresh virtual environment with pip and with pipx, and the installed package
(not the checkout) generates a project from any folder: the templates ship inside the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built as a release builds them (the wheel from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "-o", str(out), str(REPO)], check=True, timeout=900)
    return out


def only(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def generates_a_project(cli: Path, work: Path) -> None:
    """`mlscaffold --version` and `new --defaults --no-git`, run from a folder outside the checkout."""
    work.mkdir()
    version = subprocess.run([str(cli), "--version"], cwd=work, capture_output=True, text=True, check=True)
    assert version.stdout.startswith("mlscaffold ")
    done = subprocess.run(
        [str(cli), "new", "demo", "--defaults", "--no-git"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for name in ("config.yaml", "Makefile", "LICENSE", ".github/workflows/ci.yml"):
        assert (work / "demo" / name).is_file(), name


def test_the_distributions_pass_twine_check_and_carry_the_licence(dist: Path) -> None:
    wheel, sdist = only(dist, "mlscaffold-*.whl"), only(dist, "mlscaffold-*.tar.gz")
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("PASSED") == 2
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "mlscaffold/_templates/template.yaml" in names
    assert "mlscaffold/schemas/manifest.schema.json" in names  # read by engine/schema.py at run time
    assert "License-Expression: MIT" in metadata
    with tarfile.open(sdist) as tf:
        top = {Path(m.name).relative_to(Path(m.name).parts[0]).as_posix() for m in tf.getmembers()}
    assert {"LICENSE", "CONTRIBUTING.md", "README.md", "CHANGELOG.md", "templates/template.yaml"} <= top


def test_the_wheel_installs_with_pip_into_a_fresh_venv(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    wheel = only(dist, "mlscaffold-*.whl")
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, timeout=900)
    generates_a_project(venv / "bin" / "mlscaffold", tmp_path / "elsewhere")
    work = tmp_path / "elsewhere"
    module = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "mlscaffold", "stages"], cwd=work, capture_output=True, text=True
    )
    assert "monitor" in module.stdout
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import mlscaffold; print(mlscaffold.__file__)"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "site-packages" in where.stdout


def test_the_wheel_installs_with_pipx(dist: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(tmp_path / "bin"),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
    }
    env.pop("VIRTUAL_ENV", None)
    wheel = only(dist, "mlscaffold-*.whl")
    installed = subprocess.run(
        [sys.executable, "-m", "pipx", "install", "--python", sys.executable, str(wheel)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    cli = tmp_path / "bin" / "mlscaffold"
    assert cli.exists()
    assert str(tmp_path / "pipx" / "venvs" / "mlscaffold") in os.path.realpath(cli)
    generates_a_project(cli, tmp_path / "elsewhere")
