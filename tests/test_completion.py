"""Shell completion, as the README documents it: typer's completion scripts and the completions they ask
the CLI for (commands, options, the choices of an option)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The CLI as the `mlscaffold` script runs it: typer names the completion after the program's name.
AS_SCRIPT = "import sys; sys.argv[0] = 'mlscaffold'; from mlscaffold.cli import main; main()"


def mlscaffold(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", AS_SCRIPT, *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def complete(words: str, cword: int) -> list[str]:
    """What bash completion gets back for `words` with the cursor on word number `cword`."""
    env = {
        **os.environ,
        "_MLSCAFFOLD_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    done = mlscaffold(env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_commands_options_and_choices_complete() -> None:
    assert complete("mlscaffold up", 1) == ["update"]
    assert {"--dry-run", "--set", "--to", "--conflict"} <= set(complete("mlscaffold update --", 2))
    assert complete("mlscaffold check --format ", 3) == ["text", "json", "sarif"]


# typer detects the shell it runs under (shellingham); this switch of typer's makes the shell an
# argument instead, so the tests do not depend on the process that started them.
NAMED_SHELL = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o default -F"), ("zsh", "#compdef"), ("fish", "complete --command")],
)
def test_the_completion_script_is_shown_for_each_shell(shell: str, marker: str) -> None:
    done = mlscaffold("--show-completion", shell, env={**os.environ, **NAMED_SHELL})
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout and "_MLSCAFFOLD_COMPLETE" in done.stdout


def test_install_completion_writes_the_bash_script_and_sources_it(tmp_path: Path) -> None:
    env = {**os.environ, **NAMED_SHELL, "HOME": str(tmp_path)}
    done = mlscaffold("--install-completion", "bash", env=env)
    assert done.returncode == 0, done.stderr
    script = tmp_path / ".bash_completions" / "mlscaffold.sh"
    assert "_MLSCAFFOLD_COMPLETE=complete_bash" in script.read_text()
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()
    assert "mlscaffold --install-completion" in (REPO / "README.md").read_text()
