"""Issue 10: the edge cases that broke a promise, each run the way a user meets it (most through the CLI's
entry point `cli.main`: the exit code and the last stderr line are the promise, P8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import cli_in_process, make_template_set, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscaffold.engine.jinja_env import make_environment
from mlscaffold.engine.render import render_file_text
from mlscaffold.errors import UserError
from mlscaffold.yamlio import load_mapping

SET = "name: rel\nversion: '1'\nbase: base\nstages: []\nquestions: []\n"


def cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`mlscaffold ARGS` with no terminal, as a script or CI job runs it: `cli.main` in this process
    (helpers.cli_in_process: the same exit code and stderr lines, without an interpreter's start), or a
    real `python -m mlscaffold` when the test gives the process an environment of its own. What only a
    process shows (the console script, signals) is tested with real processes below."""
    if env is None:
        return cli_in_process(*args, cwd=cwd)
    return subprocess.run(
        [sys.executable, "-m", "mlscaffold", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env or os.environ.copy(),
        timeout=120,
    )


def last_error(done: subprocess.CompletedProcess[str]) -> str:
    """The last stderr line, which must be the one `error:` line."""
    lines = done.stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    assert lines[-1].startswith("error: "), done.stderr
    assert sum(line.startswith("error: ") for line in lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[-1]


# ---------------------------------------------------------------------------------------------------
# item 6: duplicate keys are refused, naming the key and both lines


@pytest.mark.parametrize(
    ("name", "text", "key", "lines"),
    [
        ("answers.yaml", "project_name: a\ntask_type: regression\nproject_name: b\n", "project_name", (1, 3)),
        ("nested.yaml", "outer:\n  x: 1\n  y: 2\n  x: 3\n", "x", (2, 4)),
        ("answers.json", '{\n  "a": 1,\n  "b": {"a": 2},\n  "a": 3\n}\n', "a", (2, 4)),
    ],
)
def test_a_key_given_twice_is_refused_with_both_lines(
    tmp_path: Path, name: str, text: str, key: str, lines: tuple[int, int]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"'{key}'" in message
    assert f"lines {lines[0]} and {lines[1]}" in message


def test_yaml_merge_keys_and_the_same_key_in_two_mappings_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {k: 1}\nother:\n  <<: *b\n  k: 2\nthird:\n  k: 3\n")
    assert load_mapping(path) == {"base": {"k": 1}, "other": {"k": 2}, "third": {"k": 3}}


def test_duplicate_answer_is_exit_2_naming_key_and_lines(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("project_name: first\ntask_type: regression\nproject_name: second\n")
    done = cli(tmp_path, "new", "out", "--answers", str(answers), "--defaults", "--no-git")
    assert done.returncode == 2, done.stderr
    line = last_error(done)
    assert "answers.yaml" in line and "'project_name'" in line and "lines 1 and 3" in line
    assert not (tmp_path / "out").exists()


def test_duplicate_key_in_a_policy_is_exit_2(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("extends: default\nlarge_files: {max_kb: 10}\nlarge_files: {max_kb: 99999}\n")
    done = cli(tmp_path, "check", str(tmp_path), "--policy", str(policy))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "'large_files'" in last_error(done) and "lines 2 and 3" in last_error(done)


def test_duplicate_key_in_a_manifest_is_exit_2(tmp_path: Path) -> None:
    tpl = make_template_set(
        tmp_path / "tpl", {"a.txt": "a\n"}, base_manifest="kind: base\norder: 1\norder: 2\n", set_manifest=SET
    )
    done = cli(tmp_path, "new", "out", "--template", str(tpl), "--defaults", "--no-git")
    assert done.returncode == 2, done.stderr
    assert "manifest.yaml" in last_error(done) and "'order'" in last_error(done)


# ---------------------------------------------------------------------------------------------------
# item 10: a `null:` key in template.yaml or manifest.yaml is exit 2 naming it, not a TypeError


@pytest.mark.parametrize(
    ("set_manifest", "base_manifest", "file"),
    [
        (SET + "null: 3\n", "kind: base\n", "template.yaml"),
        (SET + "~: 3\n", "kind: base\n", "template.yaml"),
        (SET, "kind: base\nnull: x\n", "manifest.yaml"),
        (SET + "defaults:\n  null: 1\n", "kind: base\n", "template.yaml"),
        (SET + "locked: {~: 1}\n", "kind: base\n", "template.yaml"),
    ],
)
def test_a_null_key_in_a_manifest_is_exit_2_naming_it(
    tmp_path: Path, set_manifest: str, base_manifest: str, file: str
) -> None:
    tpl = make_template_set(
        tmp_path / "tpl", {"a.txt": "a\n"}, set_manifest=set_manifest, base_manifest=base_manifest
    )
    done = cli(tmp_path, "new", "out", "--template", str(tpl), "--defaults", "--no-git")
    assert done.returncode == 2, done.stderr
    line = last_error(done)
    assert file in line and "'null'" in line
    assert "unexpected" not in line


# ---------------------------------------------------------------------------------------------------
# item 1: each line of a rendered file keeps its own line ending (P7)

_LINE = st.text(alphabet="abc xyz_=.:", min_size=1, max_size=12)
_ENDING = st.sampled_from(["\n", "\r\n", "\r"])


def render_one(raw: bytes, **context: object) -> bytes:
    return render_file_text(make_environment(), raw, context, "test")


def test_the_reported_mixed_file_keeps_each_ending() -> None:
    assert render_one(b"a {{ package_name }}\r\nb\nc\r\n", package_name="pkg") == b"a pkg\r\nb\nc\r\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_LINE, _ENDING, st.booleans()), min_size=1, max_size=8))
def test_any_mix_of_endings_survives_rendering(lines: list[tuple[str, str, bool]]) -> None:
    source = "".join(text + (" {{ name }}" if var else "") + end for text, end, var in lines)
    expected = "".join(text + (" v" if var else "") + end for text, end, var in lines)
    assert render_one(source.encode(), name="v") == expected.encode()


def test_whitespace_control_strips_a_marked_ending_as_it_strips_a_newline() -> None:
    raw = b"x\r\n{%- if on -%}\r\n y\n{% endif %}\rz\n"
    plain = render_one(raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n"), on=True)
    assert plain == b"xy\n\nz\n"
    assert render_one(raw, on=True) == b"xy\n\rz\n"
    assert render_one(b"{% for i in [1, 2] %}\r\nl{{ i }}\n{% endfor %}\r\n") == b"\r\nl1\n\r\nl2\n\r\n"


# ---------------------------------------------------------------------------------------------------
# item 2: the one `error:` line is last on stderr and names the file(s) at fault

FIVE = {f"f{i}.txt": f"template {i}\n" for i in range(5)}


def _addable(tmp_path: Path) -> tuple[Path, Path]:
    """A template with a stage writing five files, and a repo made with the base only."""
    manifest = "name: rel\nversion: '1'\nbase: base\nstages: [one, five]\nquestions: []\n"
    stages = {"one": ("kind: stage\n", {"one.txt": "1\n"}), "five": ("kind: stage\n", FIVE)}
    tpl = make_template_set(tmp_path / "tpl", {"README.md": "hi\n"}, set_manifest=manifest, stages=stages)
    done = cli(
        tmp_path, "new", "repo", "--template", str(tpl), "--defaults", "--set", "stages=one", "--no-git"
    )
    assert done.returncode == 0, done.stderr
    return tpl, tmp_path / "repo"


def test_an_add_conflict_ends_with_one_error_line_naming_the_paths(tmp_path: Path) -> None:
    tpl, repo = _addable(tmp_path)
    for name in FIVE:
        (repo / name).write_text("the user's own\n")
    before = snapshot(repo)
    done = cli(tmp_path, "add", "five", "--project", str(repo), "--template", str(tpl), "--defaults")
    assert done.returncode == 2, done.stderr
    line = last_error(done)
    assert "5 file(s) already exist" in line and "f0.txt, f1.txt, f2.txt and 2 more" in line
    assert "--overwrite" in line
    for name in FIVE:  # every path is still listed (P4), above the error line
        assert f"  {name}\n" in done.stderr
    assert snapshot(repo) == before


def test_a_single_conflict_is_named_in_the_error_line(tmp_path: Path) -> None:
    tpl, repo = _addable(tmp_path)
    (repo / "f3.txt").write_text("mine\n")
    done = cli(tmp_path, "add", "five", "--project", str(repo), "--template", str(tpl), "--defaults")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [last_error(done)]
    assert "f3.txt" in last_error(done)


def _limited(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a file-size limit of 64 KiB (`ulimit -f`): a write past it fails with EFBIG."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    return subprocess.run(
        [sys.executable, "-m", "mlscaffold", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        preexec_fn=limit,
        timeout=120,
    )


def test_a_failed_write_in_new_names_the_file_and_the_destination(tmp_path: Path) -> None:
    big = bytes(range(256)) * 1024  # 256 KiB, over the limit; copied, not rendered
    tpl = make_template_set(tmp_path / "tpl", {"small.txt": "ok\n", "data/big.bin": big}, set_manifest=SET)
    done = _limited(tmp_path, "new", "out", "--template", str(tpl), "--defaults", "--no-git")
    assert done.returncode == 1, done.stderr
    line = last_error(done)
    assert "data/big.bin" in line and str(tmp_path / "out") in line and "File too large" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tpl"]  # no project, no staging folder


def test_a_failed_write_in_add_names_the_file_and_the_repo(tmp_path: Path) -> None:
    tpl, repo = _addable(tmp_path)
    (tpl / "stages" / "five" / "files" / "f4.txt").write_bytes(b"x" * 100_000)
    before = snapshot(repo)
    done = _limited(tmp_path, "add", "five", "--project", str(repo), "--template", str(tpl), "--defaults")
    assert done.returncode == 1, done.stderr
    line = last_error(done)
    assert "f4.txt" in line and str(repo) in line and "nothing was changed" in line
    assert snapshot(repo) == before


# ---------------------------------------------------------------------------------------------------
# item 3: update keeps the user's mode on the files it rewrites


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def test_update_keeps_a_narrowed_mode_and_follows_only_the_exec_bit(tmp_path: Path) -> None:
    files = {"secret.cfg": "token = 1\n", "run.sh": "echo v1\n"}
    tpl = make_template_set(tmp_path / "tpl", files, set_manifest=SET)
    assert cli(tmp_path, "new", "proj", "--template", str(tpl), "--defaults").returncode == 0
    proj = tmp_path / "proj"
    os.chmod(proj / "secret.cfg", 0o600)
    os.chmod(proj / "run.sh", 0o640)
    (tpl / "template.yaml").write_text(SET.replace("version: '1'", "version: '2'"))
    (tpl / "base" / "files" / "secret.cfg").write_text("token = 2\n")
    (tpl / "base" / "files" / "run.sh").write_text("echo v2\n")
    os.chmod(tpl / "base" / "files" / "run.sh", 0o755)
    done = cli(proj, "update")
    assert done.returncode == 0, done.stderr
    assert (proj / "secret.cfg").read_text() == "token = 2\n"
    assert (proj / "secret.cfg").stat().st_mode & 0o777 == 0o600
    assert (proj / "run.sh").read_text() == "echo v2\n"
    assert (proj / "run.sh").stat().st_mode & 0o777 == 0o750  # executable where readable; others still out


# ---------------------------------------------------------------------------------------------------
# item 4: Ctrl-C while the CLI's modules are still importing is a clean exit 130

# Stands in for typer (the first heavy import of the CLI): the process gets a real SIGINT mid-import.
SLOW_IMPORT = "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(30)\n"


def _entry_point_code() -> str:
    """How the installed `mlscaffold` command starts: pyproject's [project.scripts] entry."""
    import tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    entry = tomllib.loads(pyproject.read_text())["project"]["scripts"]["mlscaffold"]
    module, _, attr = entry.partition(":")
    return f"import sys; from {module} import {attr}; sys.exit({attr}())"


@pytest.mark.parametrize("how", ["console script", "python -m"])
def test_ctrl_c_during_start_up_is_a_clean_exit_130(tmp_path: Path, how: str) -> None:
    shim = tmp_path / "shim"
    (shim / "typer").mkdir(parents=True)
    (shim / "typer" / "__init__.py").write_text(SLOW_IMPORT)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shim), str(root)])}
    command = ["-c", _entry_point_code()] if how == "console script" else ["-m", "mlscaffold"]
    done = subprocess.run(
        [sys.executable, *command, "--version"], capture_output=True, text=True, env=env, timeout=60
    )
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr, done.stderr
    assert done.returncode == 130
    assert done.stderr.strip().splitlines() == ["error: interrupted; nothing was written"]


# ---------------------------------------------------------------------------------------------------
# item 5: without a terminal, only --defaults, --answers and --set fill answers; never a silent guess

ASKING = """name: rel
version: '1'
base: base
stages: []
questions:
  - {name: project_name, prompt: "Name?", default: demo}
  - {name: region, prompt: "Region?", default: eu}
  - {name: size, prompt: "Size?", type: int, default: 3}
  - {name: derived, prompt: "Derived?", default: "{{ region }}-x", ask_when: false}
"""


def _asking(tmp_path: Path) -> Path:
    return make_template_set(tmp_path / "tpl", {"out.txt.jinja": "{{ region }} {{ size }} {{ derived }}\n"},
                             set_manifest=ASKING)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ([], "project_name"),
        (["p"], "region"),  # the folder the user named answers project_name
        (["p", "--set", "region=us"], "size"),
        (["--set", "project_name=p", "--set", "size=4"], "region"),
    ],
)
def test_no_terminal_and_no_defaults_names_the_first_unanswered_key(
    tmp_path: Path, args: list[str], key: str
) -> None:
    tpl = _asking(tmp_path)
    done = cli(tmp_path, "new", *args, "--template", str(tpl), "--no-git")
    assert done.returncode == 2, done.stderr
    line = last_error(done)
    assert line.startswith(f"error: answer '{key}': not answered") and "--defaults" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tpl"]


def test_no_terminal_answers_file_and_set_cover_every_question(tmp_path: Path) -> None:
    tpl = _asking(tmp_path)
    (tmp_path / "answers.yaml").write_text("region: us\n")
    args = ("--template", str(tpl), "--no-git", "--answers", "answers.yaml", "--set", "size=7")
    done = cli(tmp_path, "new", "p", *args)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "p" / "out.txt").read_text() == "us 7 us-x\n"  # `derived` is never asked


def test_no_terminal_with_defaults_takes_them(tmp_path: Path) -> None:
    tpl = _asking(tmp_path)
    done = cli(tmp_path, "new", "p", "--template", str(tpl), "--no-git", "--defaults", "--set", "size=1")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "p" / "out.txt").read_text() == "eu 1 eu-x\n"


def test_no_terminal_add_asks_nothing_either(tmp_path: Path) -> None:
    stage = "kind: stage\nquestions:\n  - {name: level, prompt: 'Level?', default: low}\n"
    manifest = ASKING.replace("stages: []", "stages: [one, extra]")
    stages = {
        "one": ("kind: stage\n", {"one.txt": "1\n"}),
        "extra": (stage, {"extra.txt.jinja": "{{ level }}\n"}),
    }
    tpl = make_template_set(tmp_path / "tpl", {"a.txt": "a\n"}, set_manifest=manifest, stages=stages)
    made = cli(tmp_path, "new", "p", "--template", str(tpl), "--defaults", "--set", "stages=one", "--no-git")
    assert made.returncode == 0, made.stderr
    done = cli(tmp_path, "add", "extra", "--project", "p", "--template", str(tpl))
    assert done.returncode == 2, done.stderr
    assert last_error(done).startswith("error: answer 'level': not answered")
    done = cli(tmp_path, "add", "extra", "--project", "p", "--template", str(tpl), "--set", "level=high")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "p" / "extra.txt").read_text() == "high\n"


# ---------------------------------------------------------------------------------------------------
# item 8: a staging folder left by a killed run is removed by the next run; nothing else is touched

HANG = "import pathlib, time\npathlib.Path({ready!r}).write_text('in staging')\ntime.sleep(120)\n"


def _killed_mid_run(tmp_path: Path, work: Path, dest: str) -> None:
    """Start `new` with a hook that waits inside the staging folder, then SIGKILL the whole run."""
    import signal
    import time

    tpl = make_template_set(tmp_path / "hanging", {"a.txt": "a\n"}, set_manifest=SET)
    ready = tmp_path / "ready"
    (tpl / "base" / "hooks").mkdir()
    (tpl / "base" / "hooks" / "pre_gen_project.py").write_text(HANG.format(ready=str(ready)))
    args = ["new", dest, "--template", str(tpl), "--defaults", "--trust", "--no-git"]
    proc = subprocess.Popen([sys.executable, "-m", "mlscaffold", *args], cwd=work, start_new_session=True)
    try:
        for _ in range(1200):
            if ready.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), "the run never reached its staging folder"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    ready.unlink()


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path: Path) -> None:
    import fcntl

    work = tmp_path / "work"
    work.mkdir()
    _killed_mid_run(tmp_path, work, "first")
    left = [p for p in work.iterdir() if p.is_dir() and p.name.startswith(".first.mlscaffold-")]
    assert len(left) == 1  # SIGKILL: no chance to clean up
    # Not ours, or not dead: a look-alike folder without a marker, and a marker a live process holds.
    (work / ".mine.mlscaffold-keep").mkdir()
    (work / ".mine.mlscaffold-keep" / "f.txt").write_text("keep")
    live = work / ".busy.mlscaffold-live"
    live.mkdir()
    holder = os.open(work / ".busy.mlscaffold-live.owner", os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        tpl = make_template_set(tmp_path / "tpl", {"a.txt": "a\n"}, set_manifest=SET)
        done = cli(work, "new", "second", "--template", str(tpl), "--defaults", "--no-git")
        assert done.returncode == 0, done.stderr
    finally:
        os.close(holder)
    assert not left[0].exists()
    assert sorted(p.name for p in work.iterdir()) == [
        ".busy.mlscaffold-live",
        ".busy.mlscaffold-live.owner",
        ".mine.mlscaffold-keep",
        "second",
    ]
    assert (work / ".mine.mlscaffold-keep" / "f.txt").read_text() == "keep"
    assert not (work / "second" / ".owner").exists()


# ---------------------------------------------------------------------------------------------------
# item 7: a large file copied from a template is streamed, never read whole (P11; RSS: bench/)


def test_a_copied_file_is_streamed_into_the_project_and_its_pristine_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlscaffold import AnswerSources, new_project

    big = os.urandom(1 << 16) * 48  # 3 MiB of binary, plus a text file copied verbatim
    manifest = "kind: base\ncopy_without_render: ['raw/*']\n"
    files = {"data/model.bin": big, "raw/notes.txt.jinja": "{{ not rendered }}\n", "a.txt.jinja": "{{ 1 }}\n"}
    tpl = make_template_set(tmp_path / "tpl", files, set_manifest=SET, base_manifest=manifest)
    copied = {
        tpl / "base" / "files" / "data" / "model.bin",
        tpl / "base" / "files" / "raw" / "notes.txt.jinja",
    }
    real = Path.read_bytes

    def guarded(self: Path) -> bytes:
        assert self not in copied, f"{self} was read whole"
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", guarded)
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(tpl), sources=AnswerSources(defaults=True))
    monkeypatch.undo()
    assert (dest / "data" / "model.bin").read_bytes() == big
    assert (dest / "raw" / "notes.txt.jinja").read_text() == "{{ not rendered }}\n"
    assert (dest / "a.txt").read_text() == "1\n"
    expected = _git(dest, "hash-object", "data/model.bin").strip()
    assert _git(dest, "rev-parse", "refs/mlscaffold/pristine:data/model.bin").strip() == expected
    assert _git(dest, "status", "--porcelain") == ""


def test_a_cookiecutter_style_template_still_copies_binary_and_renders_text(tmp_path: Path) -> None:
    from mlscaffold.engine.render import render_unit
    from mlscaffold.engine.templates import load_template_set

    blob = b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 64
    manifest = "kind: base\ntemplates_suffix: ''\n"
    tpl = make_template_set(tmp_path / "tpl", {"logo.png": blob, "README.md": "# {{ name }}\n"},
                            set_manifest=SET, base_manifest=manifest)  # fmt: skip
    specs = {s.path: s for s in render_unit(load_template_set(str(tpl)).base, {"name": "x"})}
    assert specs["logo.png"].content == blob and specs["logo.png"].source is not None
    assert specs["README.md"].content == b"# x\n" and specs["README.md"].source is None


# ---------------------------------------------------------------------------------------------------
# item 9: a project in a monorepo's subfolder can be updated and diffed

FIVE_LINES = "".join(f"line {i}\n" for i in range(1, 6))


def _bump(tpl: Path, version: str, text: str) -> None:
    (tpl / "template.yaml").write_text(SET.replace("version: '1'", f"version: '{version}'"))
    (tpl / "base" / "files" / "a.txt").write_text(text)


def test_a_project_in_a_monorepo_subfolder_updates_and_diffs(tmp_path: Path) -> None:
    mono = tmp_path / "mono"
    (mono / "svc").mkdir(parents=True)
    (mono / "top.txt").write_text("the monorepo's own\n")
    _git(mono, "init", "--quiet")
    _git(mono, "add", "top.txt")
    _git(mono, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "--quiet", "-m", "top")
    tpl = make_template_set(tmp_path / "tpl", {"a.txt": FIVE_LINES}, set_manifest=SET)

    done = cli(tmp_path, "new", "mono/svc/p", "--template", str(tpl), "--defaults")
    assert done.returncode == 0, done.stderr
    proj = mono / "svc" / "p"
    assert not (proj / ".git").exists()  # no repository nested in the monorepo
    assert _git(mono, "show", "--name-only", "--format=", "HEAD").split() == [
        "svc/p/.mlscaffold.yaml",
        "svc/p/a.txt",
    ]
    assert "refs/mlscaffold/in/svc/p/pristine" in _git(mono, "for-each-ref")

    (proj / "a.txt").write_text(FIVE_LINES.replace("line 1", "MY line 1"))
    _git(mono, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "--quiet", "-am", "my edit")
    _bump(tpl, "2", FIVE_LINES.replace("line 5", "line 5 v2"))
    done = cli(proj, "update")
    assert done.returncode == 0, done.stderr
    assert (proj / "a.txt").read_text() == FIVE_LINES.replace("line 1", "MY line 1").replace(
        "line 5", "line 5 v2"
    )
    assert (mono / "top.txt").read_text() == "the monorepo's own\n"
    _git(mono, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "--quiet", "-am", "update")

    drift = cli(mono, "diff", "svc/p")  # from the monorepo's top, naming the project
    assert drift.returncode == 0, drift.stderr
    assert "+MY line 1" in drift.stdout and "line 5" not in drift.stdout

    _bump(tpl, "3", FIVE_LINES.replace("line 1", "line 1 v3").replace("line 5", "line 5 v2"))
    done = cli(proj, "update")
    assert done.returncode == 3, done.stderr  # a conflict, held by git as unmerged at its full path
    assert "UU svc/p/a.txt" in _git(mono, "status", "--porcelain")


def test_add_in_a_monorepo_subfolder_advances_its_own_pristine(tmp_path: Path) -> None:
    mono = tmp_path / "mono"
    mono.mkdir()
    _git(mono, "init", "--quiet")
    manifest = "name: rel\nversion: '1'\nbase: base\nstages: [one, five]\nquestions: []\n"
    stages = {"one": ("kind: stage\n", {"one.txt": "1\n"}), "five": ("kind: stage\n", FIVE)}
    files = {"README.md.jinja": "stages: {{ stages | join(', ') }}\n"}
    tpl = make_template_set(tmp_path / "tpl", files, set_manifest=manifest, stages=stages)
    done = cli(tmp_path, "new", "mono/p", "--template", str(tpl), "--defaults", "--set", "stages=one")
    assert done.returncode == 0, done.stderr
    first = _git(mono, "rev-parse", "refs/mlscaffold/in/p/pristine").strip()
    env = {**os.environ, "GIT_AUTHOR_NAME": "u", "GIT_AUTHOR_EMAIL": "u@x", "GIT_COMMITTER_NAME": "u",
           "GIT_COMMITTER_EMAIL": "u@x"}  # fmt: skip
    done = cli(mono / "p", "add", "five", "--template", str(tpl), "--defaults", "--commit", env=env)
    assert done.returncode == 0, done.stderr
    assert (mono / "p" / "README.md").read_text() == "stages: one, five\n"  # refreshed: never edited
    assert _git(mono, "rev-parse", "refs/mlscaffold/in/p/pristine").strip() != first
    done = cli(mono / "p", "update")
    assert done.returncode == 0, done.stderr
    assert "nothing to update" in done.stdout
    assert _git(mono, "status", "--porcelain") == ""


def test_a_reader_that_leaves_early_does_not_get_a_false_nothing_was_changed(tmp_path: Path) -> None:
    tpl = make_template_set(tmp_path / "tpl", {"a.txt": "a\n"}, set_manifest=SET)
    args = ["new", "out", "--template", str(tpl), "--defaults", "--no-git"]
    proc = subprocess.Popen(  # like `mlscaffold new ... | head -0`: stdout is closed before any output
        [sys.executable, "-m", "mlscaffold", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""  # no "error: Broken pipe; nothing was changed": the project was made
    assert (tmp_path / "out" / "a.txt").read_text() == "a\n"


def test_diff_of_a_project_from_a_git_template_reads_copied_files_before_the_clone_goes(
    tmp_path: Path,
) -> None:
    """Copied files are read lazily (item 7); `diff` must read them while the template clone exists."""
    tpl = make_template_set(
        tmp_path / "tpl", {"data/blob.bin": bytes(range(256)) * 8, "a.txt": "a\n"}, set_manifest=SET
    )
    env = {**os.environ, "GIT_AUTHOR_NAME": "u", "GIT_AUTHOR_EMAIL": "u@x", "GIT_COMMITTER_NAME": "u",
           "GIT_COMMITTER_EMAIL": "u@x"}  # fmt: skip
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "v1"]):
        subprocess.run(["git", *args], cwd=tpl, env=env, check=True, capture_output=True)
    done = cli(tmp_path, "new", "p", "--template", f"file://{tpl}", "--defaults", env=env)
    assert done.returncode == 0, done.stderr
    (tmp_path / "p" / "data" / "blob.bin").write_bytes(b"changed by the user")
    done = cli(tmp_path / "p", "diff")
    assert done.returncode == 0, done.stderr
    assert "data/blob.bin" in done.stdout and "a.txt" not in done.stdout


def test_one_unknown_key_check_names_the_file_the_key_and_the_closest_known_key() -> None:
    """Manifests, questions, policies and records share one schema check (engine/schema.py, P14)."""
    from mlscaffold.engine.schema import validate
    from mlscaffold.errors import TemplateError, UserError

    validate({"name": "x", "order": 1}, "manifest.schema.json", "m.yaml")  # known keys pass
    with pytest.raises(TemplateError, match=r"m\.yaml: unknown key 'ordr' \(did you mean 'order'\?\)"):
        validate({"ordr": 1}, "manifest.schema.json", "m.yaml", error=TemplateError)
    with pytest.raises(
        UserError,
        match=r"p\.yaml: unknown policy key 'large_files\.max_k' \(did you mean 'large_files\.max_kb'\?\)",
    ):
        validate({"large_files": {"max_k": 1}}, "policy.schema.json", "p.yaml", what="policy key")
    with pytest.raises(
        UserError, match=r"r\.yaml: key 'null' is not a name .*known: answers, mlscaffold_version"
    ):
        validate({None: 1, "mlscaffold_version": "0.1.0"}, "record.schema.json", "r.yaml")
