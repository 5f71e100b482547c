"""The installed package (not the checkout) works from any folder: templates ship inside the wheel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def test_a_wheel_installed_in_a_fresh_venv_generates_a_project(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)],
        check=True,
        timeout=600,
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    wheel = next(wheels.glob("mlscaffold-*.whl"))
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, timeout=900)
    work = tmp_path / "elsewhere"
    work.mkdir()
    cli = str(venv / "bin" / "mlscaffold")
    version = subprocess.run([cli, "--version"], cwd=work, capture_output=True, text=True, check=True)
    assert version.stdout.startswith("mlscaffold ")
    done = subprocess.run(
        [cli, "new", "demo", "--defaults", "--no-git"], cwd=work, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (work / "demo" / "config.yaml").is_file() and (work / "demo" / "Makefile").is_file()
    module = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "mlscaffold", "stages"], cwd=work, capture_output=True, text=True
    )
    assert "monitor" in module.stdout
    assert (
        "site-packages"
        in subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import mlscaffold; print(mlscaffold.__file__)"],
            cwd=work,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
