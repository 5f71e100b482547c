"""The rendering engine's promises: P1, P2, P3, P4, P5, P7, P11, P14 (library level)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from helpers import make_template_set, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlscaffold.engine import render, write
from mlscaffold.engine.render import Change, FileSpec, render_unit
from mlscaffold.engine.templates import load_template_set
from mlscaffold.engine.write import apply_changes, staging_beside, write_tree
from mlscaffold.errors import ConflictError, MlscaffoldError, TemplateError, TrustError, UserError


def _render(tmp_path: Path, files: dict[str, bytes | str], context: dict[str, object]) -> dict[str, FileSpec]:
    root = make_template_set(tmp_path / "tpl", files)
    tset = load_template_set(str(root))
    return {s.path: s for s in render_unit(tset.base, context)}


# ---- P7: byte fidelity ------------------------------------------------------------------------------


def test_plain_files_are_copied_byte_for_byte_and_templates_rendered(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 4
    out = _render(
        tmp_path,
        {"logo.png": blob, "README.md.jinja": "# {{ name }}\n", "raw.py": "x = '{{ not rendered }}'\n"},
        {"name": "demo"},
    )
    assert out["logo.png"].content == blob
    assert out["README.md"].content == b"# demo\n"
    assert out["raw.py"].content == b"x = '{{ not rendered }}'\n"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", ["", "\ufeff"])
@pytest.mark.parametrize("final", [True, False])
def test_rendered_files_keep_line_endings_bom_and_final_newline(
    tmp_path: Path, newline: str, bom: str, final: bool
) -> None:
    lines = ["first {{ a }}", "{% if a %}second{% endif %}", "third"]
    text = bom + newline.join(lines) + (newline if final else "")
    out = _render(tmp_path, {"f.txt.jinja": text}, {"a": "A"})
    expected = bom + newline.join(["first A", "second", "third"]) + (newline if final else "")
    assert out["f.txt"].content == expected.encode("utf-8")


def test_file_mode_is_kept(tmp_path: Path) -> None:
    root = make_template_set(tmp_path / "tpl", {"run.sh.jinja": "echo {{ a }}\n", "plain.sh": "echo\n"})
    for name in ("run.sh.jinja", "plain.sh"):
        os.chmod(root / "base" / "files" / name, 0o755)
    specs = {s.path: s for s in render_unit(load_template_set(str(root)).base, {"a": 1})}
    assert specs["run.sh"].mode & stat.S_IXUSR
    assert specs["plain.sh"].mode & stat.S_IXUSR


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(blob=st.binary(max_size=2000))
def test_any_bytes_round_trip_through_a_written_tree(tmp_path: Path, blob: bytes) -> None:
    dest = tmp_path / "out"
    if dest.exists():
        import shutil

        shutil.rmtree(dest)
    dest.mkdir()
    write_tree(dest, [FileSpec("data/blob.bin", blob, 0o640)])
    assert (dest / "data" / "blob.bin").read_bytes() == blob
    assert stat.S_IMODE((dest / "data" / "blob.bin").stat().st_mode) == 0o640


def test_binary_template_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"image\.png\.jinja"):
        _render(tmp_path, {"image.png.jinja": b"\x89PNG\r\n\x1a\n\xff\xfe\x00"}, {})


# ---- P1 / P2: never outside the destination or the template ------------------------------------------


@pytest.mark.parametrize(
    "evil", ["../escape.txt", "/tmp/abs.txt", "a/../../b.txt", ".git/hooks/post-checkout", "..", "a\\..\\b"]
)
def test_rendered_names_cannot_leave_the_destination(tmp_path: Path, evil: str) -> None:
    with pytest.raises(TemplateError, match="unsafe file name"):
        _render(tmp_path, {"{{ name }}": "x"}, {"name": evil})


def test_segment_rendering_to_empty_skips_the_file(tmp_path: Path) -> None:
    out = _render(tmp_path, {"{% if keep %}kept.txt{% endif %}": "x", "always.txt": "y"}, {"keep": False})
    assert set(out) == {"always.txt"}


def test_symlinks_in_a_template_are_refused(tmp_path: Path) -> None:
    root = make_template_set(tmp_path / "tpl", {"a.txt": "a"})
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    os.symlink(secret, root / "base" / "files" / "link.txt")
    with pytest.raises(TemplateError, match="symlink"):
        render_unit(load_template_set(str(root)).base, {})


@pytest.mark.parametrize("include", ["../../secret.txt", "/etc/passwd", "files/../../../secret.txt"])
def test_include_cannot_read_outside_the_template(tmp_path: Path, include: str) -> None:
    (tmp_path / "secret.txt").write_text("TOP-SECRET")
    with pytest.raises(TemplateError) as err:
        _render(tmp_path, {"x.txt.jinja": "{% include '" + include + "' %}"}, {})
    assert "TOP-SECRET" not in str(err.value)


def test_include_inside_the_template_works(tmp_path: Path) -> None:
    root = make_template_set(tmp_path / "tpl", {"x.txt.jinja": "{% include 'partials/p.txt' %}!"})
    (root / "base" / "partials").mkdir()
    (root / "base" / "partials" / "p.txt").write_text("part {{ a }}")
    specs = render_unit(load_template_set(str(root)).base, {"a": 1})
    assert specs[0].content == b"part 1!"


def test_writing_through_a_symlink_in_the_destination_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    os.symlink(outside, repo / "docs")
    before = snapshot(outside)
    with pytest.raises(ConflictError, match="symlink"):
        apply_changes(repo, [Change("docs/new.md", "create", b"x")])
    with pytest.raises(ConflictError, match="symlink"):
        apply_changes(repo, [Change("docs", "modify", b"x")])
    assert snapshot(outside) == before


# ---- P3 / P11: sandbox and bounds --------------------------------------------------------------------

SSTI = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch /tmp/pwned').read() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].system('id') }}",
    "{{ config.items() }}",
    "{% for x in range(10**9) %}{% endfor %}",
    "{{ 'a' * 1000000000 }}",
    "{{ 9 ** 99999999 }}",
]


@pytest.mark.parametrize("payload", SSTI)
def test_template_injection_is_refused(tmp_path: Path, payload: str) -> None:
    canary = Path("/tmp/pwned")
    with pytest.raises(TemplateError):
        _render(tmp_path, {"x.txt.jinja": payload}, {})
    assert not canary.exists()


def test_answers_are_data_not_code(tmp_path: Path) -> None:
    out = _render(tmp_path, {"x.txt.jinja": "{{ goal }}"}, {"goal": "{{ 7*7 }} {% raw %}"})
    assert out["x.txt"].content == b"{{ 7*7 }} {% raw %}"


@pytest.mark.parametrize(
    ("manifest_extra", "feature"),
    [("jinja_extensions: [jinja2.ext.do]\n", "Jinja extensions"), ("tasks: ['echo hi']\n", "tasks")],
)
def test_template_code_needs_trust(tmp_path: Path, manifest_extra: str, feature: str) -> None:
    root = make_template_set(tmp_path / "tpl", {"a": "a"}, base_manifest="kind: base\n" + manifest_extra)
    tset = load_template_set(str(root))
    with pytest.raises(TrustError, match=feature) as err:
        tset.require_trust(False)
    assert err.value.exit_code == 4
    tset.require_trust(True)


def test_hooks_need_trust(tmp_path: Path) -> None:
    root = make_template_set(tmp_path / "tpl", {"a": "a"})
    (root / "base" / "hooks").mkdir()
    (root / "base" / "hooks" / "post_gen_project.py").write_text("open('/tmp/hooked', 'w')\n")
    with pytest.raises(TrustError, match="hooks"):
        load_template_set(str(root)).require_trust(False)


# ---- P14: unknown keys -------------------------------------------------------------------------------


def test_unknown_manifest_key_suggests_the_right_one(tmp_path: Path) -> None:
    root = make_template_set(tmp_path / "tpl", {}, base_manifest="kind: base\ndependancies: [x]\n")
    with pytest.raises(TemplateError, match="did you mean 'dependencies'"):
        load_template_set(str(root))


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(15)
    )
    root = make_template_set(tmp_path / "tpl", {}, base_manifest=bomb)
    with pytest.raises(UserError, match="aliases"):
        load_template_set(str(root))


# ---- P5: all-or-nothing ------------------------------------------------------------------------------


def _failing_after(k: int, monkeypatch: pytest.MonkeyPatch, exc: type[BaseException]) -> None:
    real = write._write_file
    calls = {"n": 0}

    def flaky(path: Path, content: bytes, mode: int) -> None:
        calls["n"] += 1
        if calls["n"] == k:
            raise exc("injected")
        real(path, content, mode)

    monkeypatch.setattr(write, "_write_file", flaky)


@pytest.mark.parametrize("exc", [OSError, KeyboardInterrupt])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_a_failed_new_project_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, k: int, exc: type[BaseException]
) -> None:
    specs = [FileSpec(f"d{i}/f{i}.txt", b"x" * i) for i in range(4)]
    dest = tmp_path / "proj"
    _failing_after(k, monkeypatch, exc)
    # an OSError comes out as an error naming the file (P8)
    with pytest.raises(MlscaffoldError if exc is OSError else exc), staging_beside(dest) as staging:
        write_tree(staging, specs)
        write.move_into_place(staging, dest)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exc", [OSError, KeyboardInterrupt])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_a_failed_change_restores_the_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, k: int, exc: type[BaseException], tmpdir_left: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "a.py").write_text("user code\n")
    (repo / "Makefile").write_text("all:\n")
    os.chmod(repo / "Makefile", 0o600)
    before = snapshot(repo)
    changes = [
        Change("Makefile", "modify", b"all: more\n", 0o644),
        Change("mk/50-monitor.mk", "create", b"monitor:\n"),
        Change("src/a.py", "delete"),
        Change("tests/test_monitor.py", "create", b"def test(): pass\n"),
    ]
    _failing_after(k, monkeypatch, exc)
    with pytest.raises(MlscaffoldError if exc is OSError else exc):
        apply_changes(repo, changes)
    assert snapshot(repo) == before
    assert list(tmpdir_left.iterdir()) == []


def test_changes_apply_when_nothing_fails(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "old.txt").write_text("old")
    apply_changes(repo, [Change("new/n.txt", "create", b"n"), Change("old.txt", "delete")])
    assert (repo / "new" / "n.txt").read_bytes() == b"n"
    assert not (repo / "old.txt").exists()


def test_two_units_writing_the_same_path_differently_is_an_error() -> None:
    a = [FileSpec("Makefile", b"a", origin="base/Makefile")]
    b = [FileSpec("Makefile", b"b", origin="monitor/Makefile")]
    with pytest.raises(TemplateError, match="a stage must add files of its own"):
        render.merge_specs([a, b])


@pytest.mark.parametrize(
    "payload",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x",
        "{% set x = 'ab' * 500000 %}{{ x | replace('a', x) }}",
    ],
)
def test_rendering_is_bounded_in_time_and_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: str
) -> None:
    import time

    from mlscaffold.engine import jinja_env

    monkeypatch.setattr(jinja_env, "MAX_SECONDS", 0.5)
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"too large|longer than"):
        _render(tmp_path, {"x.txt.jinja": payload}, {})
    assert time.monotonic() - started < 5


def test_an_extension_that_cannot_be_imported_is_a_template_error() -> None:
    from mlscaffold.engine.jinja_env import make_environment

    with pytest.raises(TemplateError, match=r"no\.such\.Ext"):
        make_environment(trusted=True, extensions=["no.such.Ext"])


def test_an_optional_stage_is_left_out_of_the_default_stages(tmp_path: Path) -> None:
    from mlscaffold import AnswerSources, new_project

    stages = {
        "core": ("kind: stage\nname: core\norder: 10\n", {"core.txt": "core"}),
        "extra": ("kind: stage\nname: extra\norder: 20\noptional: true\n", {"extra.txt": "extra"}),
    }
    root = make_template_set(
        tmp_path / "tpl",
        {"a.txt": "a"},
        set_manifest="name: t\nversion: '1.0'\nbase: base\nstages: [core, extra]\nquestions: []\n",
        stages=stages,
    )
    assert load_template_set(str(root)).default_stages == ["core"]
    plain = new_project(
        dest=tmp_path / "p", template=str(root), sources=AnswerSources(defaults=True), git=False
    )
    assert plain.stages == ("core",) and not (plain.dest / "extra.txt").exists()
    chosen = AnswerSources(set_values=("stages=core,extra",), defaults=True)
    both = new_project(dest=tmp_path / "q", template=str(root), sources=chosen, git=False)
    assert both.stages == ("core", "extra") and (both.dest / "extra.txt").is_file()


def test_optional_must_be_a_boolean(tmp_path: Path) -> None:
    stages = {"extra": ("kind: stage\nname: extra\noptional: sometimes\n", {"x.txt": "x"})}
    root = make_template_set(
        tmp_path / "tpl",
        {"a.txt": "a"},
        set_manifest="name: t\nversion: '1.0'\nbase: base\nstages: [extra]\nquestions: []\n",
        stages=stages,
    )
    with pytest.raises(TemplateError, match="'optional' must be true or false"):
        load_template_set(str(root))


def test_the_builtin_schedule_stage_is_optional() -> None:
    tset = load_template_set(None)
    assert "schedule" in tset.stages and "schedule" not in tset.default_stages
    assert tset.default_stages == ["data", "baseline", "evaluate", "deploy", "monitor"]
