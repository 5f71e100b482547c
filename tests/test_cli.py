"""The CLI as users run it (subprocesses): exit codes and one `error:` line (P8), trust (P3), consent
(P4), dry runs (P12), no leftovers (P15)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers import make_template_set, snapshot

from mlscaffold.engine.write import exclusive
from mlscaffold.errors import UserError

SET = """name: tiny
version: '1.0'
base: base
stages: [extra]
questions:
  - name: project_name
    prompt: Project name?
    default: tiny-project
  - name: size
    prompt: How big?
    type: int
    default: 3
    validation: {min: 1, max: 10}
"""


def _tiny(root: Path) -> Path:
    return make_template_set(
        root,
        {"README.md.jinja": "# {{ project_name }} ({{ size }})\n", "src/{{ package_name }}/__init__.py": ""},
        set_manifest=SET,
        stages={"extra": ("kind: stage\nname: extra\npurpose: An extra stage.\n", {"extra.txt": "x\n"})},
    )


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlscaffold", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=os.environ.copy(),
        timeout=60,
    )


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if not line.startswith(("warning:", "  "))]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_new_with_a_local_template_writes_the_project_and_the_record(tmp_path: Path) -> None:
    tpl = _tiny(tmp_path / "tpl")
    done = run("new", "my-model", "--template", str(tpl), "--defaults", "--set", "size=5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "my-model"
    assert (out / "README.md").read_text() == "# my-model (5)\n"  # the folder names the project
    assert (out / "src" / "my_model" / "__init__.py").exists()
    assert (out / "extra.txt").exists()
    record = (out / ".mlscaffold.yaml").read_text()
    assert "size: 5" in record and "extra:" in record
    assert (out / ".git").is_dir()
    log = subprocess.run(["git", "log", "--oneline"], cwd=out, capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["new", "x", "--set", "size=11"], 2, "size"),
        (["new", "x", "--set", "sise=3"], 2, "did you mean 'size'"),
        (["new", "x", "--set", "noequals"], 2, "noequals"),
        (["new", "x", "--answers", "missing.yaml"], 2, "missing.yaml"),
        (["new", "x", "--answers", "bad.yaml"], 2, "bad.yaml"),
        (["new", "x", "--template", "no-such-folder"], 2, "no-such-folder"),
        (["new", "x", "--bogus"], 2, "--bogus"),
        (["add", "nonstage", "--project", "."], 2, "nonstage"),
        (["update", "."], 2, ".mlscaffold.yaml"),
    ],
)
def test_bad_input_is_one_error_line_and_the_right_exit_code(
    tmp_path: Path, args: list[str], code: int, fragment: str
) -> None:
    tpl = _tiny(tmp_path / "tpl")
    (tmp_path / "bad.yaml").write_text("a: [unclosed\n")
    if "--template" not in args and args[0] == "new":
        args = [*args, "--template", str(tpl), "--defaults"]
    if args[0] == "add":
        args = [*args, "--template", str(tpl), "--defaults"]
    before = snapshot(tmp_path)
    done = run(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert fragment in _one_error_line(done)
    assert snapshot(tmp_path) == before


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = run("new", "x", "--template", "nope", "--defaults", "--debug", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" in done.stderr


def test_non_empty_destination_is_refused_and_untouched(tmp_path: Path) -> None:
    tpl = _tiny(tmp_path / "tpl")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "mine.txt").write_text("mine")
    before = snapshot(tmp_path)
    done = run("new", str(dest), "--template", str(tpl), "--defaults", cwd=tmp_path)
    assert done.returncode == 2
    assert "not empty" in _one_error_line(done)
    assert snapshot(tmp_path) == before


def test_template_with_hooks_is_refused_without_trust_and_runs_with_it(tmp_path: Path) -> None:
    tpl = _tiny(tmp_path / "tpl")
    hooks = tpl / "base" / "hooks"
    hooks.mkdir()
    canary = tmp_path / "canary.txt"
    (hooks / "post_gen_project.py").write_text(f"open({str(canary)!r}, 'w').write('ran')\n")
    before = snapshot(tmp_path)
    done = run("new", "out", "--template", str(tpl), "--defaults", cwd=tmp_path)
    assert done.returncode == 4
    assert "hooks" in _one_error_line(done)
    assert snapshot(tmp_path) == before
    done = run("new", "out", "--template", str(tpl), "--defaults", "--trust", "--no-git", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert canary.read_text() == "ran"


def test_dry_run_writes_nothing(tmp_path: Path, tmpdir_left: Path) -> None:
    tpl = _tiny(tmp_path / "tpl")
    before = snapshot(tmp_path)
    done = run("new", "out", "--template", str(tpl), "--defaults", "--dry-run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "README.md" in done.stdout
    assert snapshot(tmp_path) == before
    assert list(tmpdir_left.iterdir()) == []


def test_no_temporary_folders_are_left(tmp_path: Path, tmpdir_left: Path) -> None:
    tpl = _tiny(tmp_path / "tpl")
    work = tmp_path / "work"
    work.mkdir()
    assert run("new", "ok", "--template", str(tpl), "--defaults", cwd=work).returncode == 0
    assert run("new", "ok", "--template", str(tpl), "--defaults", cwd=work).returncode == 2
    assert sorted(p.name for p in work.iterdir()) == ["ok"]
    assert list(tmpdir_left.iterdir()) == []


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with exclusive(tmp_path):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(10)
    try:
        with pytest.raises(UserError, match="another mlscaffold run"), exclusive(tmp_path):
            pass
    finally:
        release.set()
        holder.join()
    with exclusive(tmp_path):
        pass


def test_interrupt_during_new_leaves_nothing(tmp_path: Path) -> None:
    tpl = _tiny(tmp_path / "tpl")
    script = (
        "import sys\n"
        "from mlscaffold.engine import write\n"
        "def boom(*a, **k):\n"
        "    raise KeyboardInterrupt\n"
        "write._write_file = boom\n"
        "sys.argv = ['mlscaffold', 'new', 'out', '--template', sys.argv[1], '--defaults']\n"
        "from mlscaffold.cli import main\n"
        "main()\n"
    )
    before = snapshot(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tpl)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 130
    assert "interrupted" in _one_error_line(done)
    assert snapshot(tmp_path) == before


def test_stages_lists_purpose(tmp_path: Path) -> None:
    tpl = _tiny(tmp_path / "tpl")
    done = run("stages", "--template", str(tpl), cwd=tmp_path)
    assert done.returncode == 0
    assert "extra" in done.stdout and "An extra stage." in done.stdout


def test_version_and_help(tmp_path: Path) -> None:
    assert run("--version", cwd=tmp_path).stdout.startswith("mlscaffold ")
    helped = run("--help", cwd=tmp_path).stdout
    for command in ("new", "add", "stages", "check", "score", "update", "diff"):
        assert command in helped


def test_the_cli_starts_without_heavy_imports(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.argv = ['mlscaffold', '--help']\n"
        "from mlscaffold.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ['jinja2', 'git', 'questionary', 'cookiecutter', 'yaml', 'tomlkit', 'prompt_toolkit',\n"
        "         'jsonschema', 'mlscaffold.verbs.new', 'mlscaffold.engine.render']\n"
        "print('HEAVY:' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_a_custom_template_gets_no_advice_about_questions_it_never_asks(tmp_path: Path) -> None:
    tpl = _tiny(tmp_path / "tpl")
    done = run("new", "out", "--template", str(tpl), "--defaults", "--no-git", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "product goal" not in (done.stdout + done.stderr).lower()
    builtin = run("new", "b", "--defaults", "--no-git", "--dry-run", "--set", "product_goal=", cwd=tmp_path)
    assert "product goal" in (builtin.stdout + builtin.stderr).lower()  # the built-in set still advises


def test_an_unknown_advice_rule_set_is_an_error_naming_it(tmp_path: Path) -> None:
    tpl = _tiny(tmp_path / "tpl")
    manifest = tpl / "template.yaml"
    manifest.write_text(manifest.read_text() + "advice: [feasability]\n")
    done = run("new", "out", "--template", str(tpl), "--defaults", cwd=tmp_path)
    assert done.returncode == 2
    assert "did you mean 'feasibility'" in _one_error_line(done)


def test_diff_takes_trust_like_update(tmp_path: Path) -> None:
    tpl = _tiny(tmp_path / "tpl")
    hooks = tpl / "base" / "hooks"
    hooks.mkdir()
    (hooks / "post_gen_project.py").write_text("print('hook ran')\n")
    done = run("new", "out", "--template", str(tpl), "--defaults", "--trust", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    refused = run("diff", "out", cwd=tmp_path)
    assert refused.returncode == 4 and "--trust" in _one_error_line(refused)
    trusted = run("diff", "out", "--trust", "--exit-code", cwd=tmp_path)
    assert trusted.returncode == 0, trusted.stderr
    assert "no drift" in trusted.stdout


def _outcome(coerce: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any, Any]:
    try:
        result = coerce(value, param=param, ctx=ctx)
    except Exception as err:
        return ("error", type(err).__name__, str(err))
    return ("ok", type(result), result)


def test_light_coercion_gives_what_typers_own_gives_for_every_parameter(tmp_path: Path) -> None:
    """cli.py converts parameter values without typer's pydantic adapters (~90 ms); for every parameter
    of every command, valid and invalid values alike, the result or the error is typer's own."""
    typer_coercion = pytest.importorskip("typer._coercion")
    from typer.main import get_command

    from mlscaffold import cli

    command = get_command(cli.app)
    existing = tmp_path / "here"
    existing.mkdir()
    (tmp_path / "file.txt").write_text("x")
    samples: list[Any] = [
        None, "", "x", "json", "JSON", "sarif", "rej", "nope", str(existing), str(tmp_path / "file.txt"),
        str(tmp_path / "missing"), Path("."), existing, ("a", "b"), ["a"], (), True, False, b"raw", 3,
        cli.CheckFormat.json, cli.ConflictMode.rej,
    ]  # fmt: skip
    light = 0
    for sub in command.commands.values():  # type: ignore[attr-defined]
        ctx = sub.context_class(sub, info_name=sub.name)
        for param in sub.params:
            if not hasattr(param, "get_runtime_param"):
                pytest.skip("this typer coerces with click types, not pydantic adapters")
            fast = param.get_runtime_param()
            light += isinstance(fast, cli._LightCoercion)
            full = typer_coercion.build_runtime_param(param.type_descriptor)
            for value in samples:
                got = _outcome(fast.coerce, value, param, ctx)
                assert got == _outcome(full.coerce, value, param, ctx), (sub.name, param.name, value)
    assert light >= 20  # the fast path is the one taken, not the fallback everywhere


def test_new_from_an_unchanged_template_loads_neither_pydantic_nor_jsonschema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second `new` from the same template: typer's values need no pydantic (cli._LightCoercion),
    and the files that validated once are not validated again (engine.schema's cache)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # not the cache the tests share
    root = _tiny(tmp_path / "tpl")
    code = (
        "import sys\nfrom mlscaffold.cli import main\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'jsonschema', 'git'}))\n"
    )
    loaded = []
    for out in ("one", "two"):
        argv = ["mlscaffold", "new", out, "--template", str(root), "--defaults", "--no-git"]
        done = subprocess.run(
            [sys.executable, "-c", f"import sys; sys.argv = {argv!r}\n{code}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        loaded.append(done.stdout.splitlines()[-1])
        assert (tmp_path / out / "README.md").read_text() == f"# {out} (3)\n"
    assert loaded == ["['jsonschema']", "[]"]
