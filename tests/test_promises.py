"""Promises checked end to end that the other files do not: P1 with a canary, P9 with a fake git,
P13 determinism, P14 for the record."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import cli_in_process, make_template_set, snapshot

from mlscaffold import AnswerSources, new_project
from mlscaffold.engine.record import RECORD_NAME, read_record
from mlscaffold.errors import UserError

SET = """name: hostile
version: '1'
base: base
stages: []
questions:
  - name: project_name
    prompt: Name?
    default: victim
  - name: where
    prompt: Where?
    default: docs
"""


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI from its entry point `cli.main`, in this process (helpers.cli_in_process), or a real
    `python -m mlscaffold` when the test gives the process an environment of its own (a fake git on PATH,
    git variables from a surrounding hook)."""
    if env is None:
        return cli_in_process(*args, cwd=tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "mlscaffold", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env or os.environ.copy(),
        timeout=60,
    )


@pytest.mark.parametrize(
    "where", ["../canary", "../canary/evil", "/tmp/abs-canary", "docs/../../canary", ".git"]
)
def test_hostile_answers_never_write_beside_the_destination(tmp_path: Path, where: str) -> None:
    tpl = make_template_set(tmp_path / "tpl", {"{{ where }}/file.txt": "pwned\n"}, set_manifest=SET)
    canary = tmp_path / "canary"
    canary.mkdir()
    (canary / "keep.txt").write_text("keep")
    before = snapshot(tmp_path)
    done = _run(tmp_path, "new", "out", "--template", str(tpl), "--defaults", "--set", f"where={where}")
    assert done.returncode == 2, done.stderr
    assert snapshot(tmp_path) == before
    assert not Path("/tmp/abs-canary").exists()


def test_a_symlink_at_the_destination_is_refused(tmp_path: Path) -> None:
    tpl = make_template_set(tmp_path / "tpl", {"a.txt": "a"}, set_manifest=SET)
    canary = tmp_path / "canary"
    canary.mkdir()
    os.symlink(canary, tmp_path / "out")
    before = snapshot(tmp_path)
    done = _run(tmp_path, "new", "out", "--template", str(tpl), "--defaults")
    assert done.returncode == 2
    assert snapshot(tmp_path) == before


def test_user_values_reach_git_only_after_end_of_options(tmp_path: Path) -> None:
    log = tmp_path / "argv.log"
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = version ]; then echo "git version 2.39.5"; exit 0; fi\n'
        f'printf "%s\\n" "$@" >> {log}\necho ---- >> {log}\nexit 1\n'
    )
    fake.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{fake.parent}:{os.environ['PATH']}",
        "GIT_PYTHON_GIT_EXECUTABLE": str(fake),
    }
    url = "https://example.invalid/--upload-pack=touch /tmp/pwned"
    done = _run(tmp_path, "new", "out", "--defaults", "--template", url, env=env)
    assert done.returncode == 2
    calls = [c.strip().splitlines() for c in log.read_text().split("----") if "clone" in c]
    assert calls, log.read_text()
    for argv in calls:
        assert "--" in argv
        assert argv.index("--") < argv.index(url)
    assert not Path("/tmp/pwned").exists()


def test_same_answers_give_the_same_bytes(tmp_path: Path) -> None:
    tpl = make_template_set(
        tmp_path / "tpl",
        {"a.txt.jinja": "{{ project_name }} {{ where }}\n", "b.bin": b"\x00\x01"},
        set_manifest=SET,
    )
    trees = []
    for name in ("one", "two"):
        sources = AnswerSources(defaults=True, set_values=("project_name=same",))
        new_project(dest=tmp_path / name, template=str(tpl), sources=sources, git=False)
        trees.append(snapshot(tmp_path / name))
    assert trees[0] == trees[1]


def test_a_typo_in_the_record_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / RECORD_NAME).write_text(
        "mlscaffold_version: 0.1.0\ntemplate: {source: builtin}\nanswerz: {}\n"
    )
    with pytest.raises(UserError, match="did you mean 'answers'"):
        read_record(tmp_path)


def test_a_record_from_a_newer_mlscaffold_is_refused(tmp_path: Path) -> None:
    (tmp_path / RECORD_NAME).write_text("mlscaffold_version: 99.0.0\ntemplate: {source: builtin}\n")
    with pytest.raises(UserError, match="newer than this one"):
        read_record(tmp_path)


@pytest.mark.parametrize(
    "answer", ["project_slug=../../escaped", "project_slug=/tmp/abs-slug", "package_name=import os"]
)
def test_engine_keys_are_validated_like_questions(tmp_path: Path, answer: str) -> None:
    tpl = make_template_set(tmp_path / "tpl", {"a.txt": "a"}, set_manifest=SET)
    work = tmp_path / "deep" / "er"
    work.mkdir(parents=True)
    before = snapshot(tmp_path)
    done = _run(work, "new", "--template", str(tpl), "--defaults", "--set", answer)
    assert done.returncode == 2, done.stderr
    assert answer.split("=")[0] in done.stderr
    assert snapshot(tmp_path) == before
    assert not Path("/tmp/abs-slug").exists()


def test_a_password_in_an_answer_is_refused_and_never_written(tmp_path: Path) -> None:
    tpl = make_template_set(tmp_path / "tpl", {"a.txt.jinja": "{{ where }}"}, set_manifest=SET)
    before = snapshot(tmp_path)
    done = _run(
        tmp_path, "new", "p", "--template", str(tpl), "--defaults", "--set", "where=https://u:tok3n@h/x"
    )
    assert done.returncode == 2
    assert "tok3n" not in done.stderr and "environment variable" in done.stderr
    assert snapshot(tmp_path) == before
    ok = _run(tmp_path, "new", "p", "--template", str(tpl), "--defaults", "--set", "where=pg://u:${PW}@h/x")
    assert ok.returncode == 0, ok.stderr


def test_a_missing_parent_folder_is_a_usage_error(tmp_path: Path) -> None:
    tpl = make_template_set(tmp_path / "tpl", {"a.txt": "a"}, set_manifest=SET)
    done = _run(tmp_path, "new", str(tmp_path / "no" / "such" / "p"), "--template", str(tpl), "--defaults")
    assert done.returncode == 2
    assert "does not exist" in done.stderr


def test_a_new_project_folder_gets_the_usual_permissions(tmp_path: Path) -> None:
    tpl = make_template_set(tmp_path / "tpl", {"a.txt": "a"}, set_manifest=SET)
    assert _run(tmp_path, "new", "p", "--template", str(tpl), "--defaults", "--no-git").returncode == 0
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "p").stat().st_mode & 0o777 == 0o777 & ~mask


def test_git_variables_from_a_surrounding_hook_do_not_redirect_commits(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    tpl = make_template_set(tmp_path / "tpl", {"a.txt": "a"}, set_manifest=SET)
    env = {**os.environ, "GIT_DIR": str(outer / ".git"), "GIT_WORK_TREE": str(outer)}
    done = _run(tmp_path, "new", "p", "--template", str(tpl), "--defaults", env=env)
    assert done.returncode == 0, done.stderr
    log = subprocess.run(["git", "log", "--oneline"], cwd=tmp_path / "p", capture_output=True, text=True)
    assert len(log.stdout.splitlines()) == 1
    outer_log = subprocess.run(["git", "-C", str(outer), "log"], capture_output=True, text=True)
    assert outer_log.returncode != 0  # the outer repository got no commit
