"""Hand-made repos of the shapes teams have, for `add`, `check` and `score` on repos mlscaffold did not
write. Each reproduces a shape met in real public ML repos (see the CHANGELOG entry of issue 13):
a flat layout with two top-level packages and its own Makefile, a src/ package with subpackages, a
pyproject.toml with only [tool.*] tables, requirements.txt only, and processed data committed to git.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

USER_TEST = """from {pkg}.{module} import {func}


def test_{func}() -> None:
    assert {func}(2) == 3
"""
USER_CODE = "def {func}(x: int) -> int:\n    return x + 1\n"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _commit(root: Path, files: dict[str, str]) -> Path:
    _write(root, files)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the team's repo")
    return root


def flat_two_packages(root: Path) -> Path:
    """`churnkit/` and `helpers/` side by side, setuptools listing both, and a Makefile with targets
    named like the pipeline's (`data`, `test`, `clean`) and a PKG variable of its own."""
    return _commit(
        root,
        {
            "pyproject.toml": (
                '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n\n'
                '[project]\nname = "churnkit"\nversion = "1.4.0"\n# pinned by the platform team\n'
                'dependencies = ["numpy>=1.24"]\n\n[tool.setuptools]\npackages = ["churnkit", "helpers"]\n'
            ),
            "churnkit/__init__.py": '"""The team\'s churn model."""\n',
            "churnkit/features.py": USER_CODE.format(func="add_one"),
            "helpers/__init__.py": "",
            "helpers/io.py": USER_CODE.format(func="bump"),
            "tests/test_churnkit.py": USER_TEST.format(pkg="churnkit", module="features", func="add_one"),
            "tests/test_helpers.py": USER_TEST.format(pkg="helpers", module="io", func="bump"),
            "Makefile": (
                "PKG := churnkit\n\n.PHONY: data test clean\n"
                "data:\n\t@echo the team's own data step for $(PKG)\n"
                "test:\n\tpython -m pytest tests\n"
                "clean:\n\trm -rf build\n"
            ),
            "README.md": "# churnkit\n\nOur own README.\n",
        },
    )


def src_subpackages(root: Path) -> Path:
    """`src/fraud/` with subpackages `models` and `features`, hatchling, tests of its own and a
    `tests/conftest.py` and a `.pre-commit-config.yaml` of its own (both also written by the base)."""
    return _commit(
        root,
        {
            "pyproject.toml": (
                '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
                '[project]\nname = "fraud"\nversion = "0.3.0"\ndependencies = []\n\n'
                "[tool.hatch.build.targets.wheel]\n"
                'packages = ["src/fraud"]\n'
            ),
            "src/fraud/__init__.py": "",
            "src/fraud/models/__init__.py": "",
            "src/fraud/models/linear.py": USER_CODE.format(func="score"),
            "src/fraud/features/__init__.py": "",
            "tests/conftest.py": (
                "import sys\nfrom pathlib import Path\n\n"
                "sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'src'))\n"
            ),
            "tests/test_fraud.py": USER_TEST.format(pkg="fraud.models", module="linear", func="score"),
            ".pre-commit-config.yaml": "repos: []  # the team's own hooks\n",
        },
    )


def tool_only_pyproject(root: Path) -> Path:
    """A pyproject.toml with only [tool.*] tables, a flat package, and requirements.txt for installs."""
    return _commit(
        root,
        {
            "pyproject.toml": '[tool.ruff]\nline-length = 100\n\n[tool.pytest.ini_options]\naddopts = "-q"\n',
            "requirements.txt": "numpy>=1.24\n",
            "scorer/__init__.py": "",
            "scorer/core.py": USER_CODE.format(func="rank"),
            "tests/test_scorer.py": USER_TEST.format(pkg="scorer", module="core", func="rank"),
        },
    )


def requirements_only(root: Path) -> Path:
    """No pyproject.toml at all: requirements.txt and a src/ package run with PYTHONPATH."""
    return _commit(
        root,
        {
            "requirements.txt": "numpy>=1.24\n",
            "src/recsys/__init__.py": "",
            "src/recsys/rank.py": USER_CODE.format(func="top"),
            "tests/test_recsys.py": (
                "import sys\nfrom pathlib import Path\n\n"
                "sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'src'))\n\n"
                "from recsys.rank import top  # noqa: E402\n\n\n"
                "def test_top() -> None:\n    assert top(2) == 3\n"
            ),
        },
    )


def tracked_processed_data(root: Path) -> Path:
    """Processed data and placeholder files committed on purpose, where the pipeline writes too."""
    return _commit(
        root,
        {
            "pyproject.toml": (
                '[project]\nname = "demand"\nversion = "0.1.0"\ndependencies = []\n\n'
                '[tool.setuptools.packages.find]\nwhere = ["src"]\n'
            ),
            "src/demand/__init__.py": "",
            "src/demand/model.py": USER_CODE.format(func="forecast"),
            "tests/test_demand.py": (
                "import sys\nfrom pathlib import Path\n\n"
                "sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'src'))\n\n"
                "from demand.model import forecast  # noqa: E402\n\n\n"
                "def test_forecast() -> None:\n    assert forecast(2) == 3\n"
            ),
            "data/processed/features.csv": "week,units\n1,10\n2,12\n",
            "data/raw/.gitkeep": "",
            "reports/.gitkeep": "",
            ".gitignore": "*.pyc\n",
        },
    )


SHAPES: dict[str, Callable[[Path], Path]] = {
    "flat-two-packages": flat_two_packages,
    "src-subpackages": src_subpackages,
    "tool-only-pyproject": tool_only_pyproject,
    "requirements-only": requirements_only,
    "tracked-processed-data": tracked_processed_data,
}
# The package each shape's pipeline is wired to, and where its pipeline package goes.
PIPELINES = {
    "flat-two-packages": "churnkit_pipeline",
    "src-subpackages": "src/fraud_pipeline",
    "tool-only-pyproject": "scorer_pipeline",
    "requirements-only": "src/recsys_pipeline",
    "tracked-processed-data": "src/demand_pipeline",
}
