"""A trusted template's own code: cookiecutter-style hooks and post-generation tasks (P3: --trust only)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlscaffold.engine.templates import Unit
from mlscaffold.errors import MlscaffoldError


def run_template_code(units: Sequence[Unit], which: str, cwd: Path, context: Mapping[str, Any]) -> None:
    """Run a trusted template's code for the units being applied: cookiecutter-style hooks
    (hooks/pre_gen_project.py, hooks/post_gen_project.py) and, after generation, each unit's `tasks`
    (argument lists split like a shell would, run without a shell)."""
    import json
    import shlex

    env = {**os.environ, "MLSCAFFOLD_ANSWERS": json.dumps(dict(context), default=str)}
    for unit in units:
        commands = [[sys.executable, str(unit.root / "hooks" / f"{which}.py")]]
        if not (unit.root / "hooks" / f"{which}.py").is_file():
            commands = []
        if which == "post_gen_project":
            commands += [shlex.split(task) for task in unit.tasks]
        for argv in commands:
            try:
                done = subprocess.run(argv, cwd=cwd, env=env, check=False)
            except OSError as err:
                raise MlscaffoldError(f"{unit.name}: cannot run {argv[0]}: {err.strerror}") from err
            if done.returncode != 0:
                shown = " ".join(argv[1:] if argv[0] == sys.executable else argv)
                raise MlscaffoldError(
                    f"{unit.name}: the template's code failed: {shown} (exit {done.returncode})"
                )
