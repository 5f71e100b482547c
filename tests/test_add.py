"""`mlscaffold add` on repos made by mlscaffold and on hand-made repos (fast tier, tiny templates)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers import make_template_set, snapshot

from mlscaffold import AnswerSources, new_project
from mlscaffold.engine.record import read_record
from mlscaffold.errors import AnswerError, ConflictError, UserError
from mlscaffold.verbs.add import add_stages

SET = """name: tiny
version: '1.0'
base: base
stages: [a, b, c]
questions:
  - name: project_name
    prompt: Project name?
    default: tiny-project
"""
PYPROJECT = """[project]
name = "{{ project_slug }}"
version = "0.1.0"
# the user's comment stays
dependencies = ["pandas>=2"]
"""


def _tpl(root: Path) -> Path:
    return make_template_set(
        root,
        {
            "pyproject.toml.jinja": PYPROJECT,
            "Makefile": "PIPELINE :=\ninclude $(sort $(wildcard mk/*.mk))\nall: $(PIPELINE)\n",
            "src/{{ package_name }}/__init__.py": "",
            "STAGES.md.jinja": "stages: {{ stages | join(', ') }}\n",
        },
        set_manifest=SET,
        stages={
            "a": (
                "kind: stage\norder: 10\n",
                {"mk/10-a.mk": "PIPELINE += a\n", "src/{{ package_name }}/a.py": "A = 1\n"},
            ),
            "b": (
                "kind: stage\norder: 20\nneeds: [a]\ndependencies: ['scipy>=1.11']\n",
                {"mk/20-b.mk": "PIPELINE += b\n", "src/{{ package_name }}/b.py": "B = 2\n"},
            ),
            "c": ("kind: stage\norder: 30\nneeds: [b]\n", {"src/{{ package_name }}/c.py": "C = 3\n"}),
        },
    )


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, str]:
    tpl = str(_tpl(tmp_path / "tpl"))
    sources = AnswerSources(defaults=True, set_values=("stages=a",))
    new_project(dest=tmp_path / "tiny-project", template=tpl, sources=sources)
    return tmp_path / "tiny-project", tpl


def test_add_brings_the_stage_and_its_dependencies(project: tuple[Path, str]) -> None:
    repo, tpl = project
    result = add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True))
    assert result.added == ("b",)
    assert (repo / "src" / "tiny_project" / "b.py").read_text() == "B = 2\n"
    pyproject = (repo / "pyproject.toml").read_text()
    assert "scipy>=1.11" in pyproject and "# the user's comment stays" in pyproject
    assert list(read_record(repo).stages) == ["a", "b"]


def test_add_twice_changes_nothing_the_second_time(project: tuple[Path, str]) -> None:
    repo, tpl = project
    add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True))
    before = snapshot(repo)
    again = add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True))
    assert again.changed == ()
    assert snapshot(repo) == before


def test_a_missing_needed_stage_is_named(project: tuple[Path, str]) -> None:
    repo, tpl = project
    with pytest.raises(UserError, match=r"needs b.*mlscaffold add b c"):
        add_stages(repo=repo, stages=["c"], template=tpl, sources=AnswerSources(defaults=True))


def test_a_user_file_in_the_way_is_a_conflict_unless_overwrite(project: tuple[Path, str]) -> None:
    repo, tpl = project
    mine = repo / "src" / "tiny_project" / "b.py"
    mine.write_text("my own b\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "my b")
    before = snapshot(repo)
    with pytest.raises(ConflictError, match="already exist") as err:
        add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True))
    assert err.value.paths == ("src/tiny_project/b.py",)
    assert snapshot(repo) == before
    add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True), overwrite=True)
    assert mine.read_text() == "B = 2\n"


def test_dry_run_shows_a_diff_and_writes_nothing(project: tuple[Path, str]) -> None:
    repo, tpl = project
    before = snapshot(repo)
    result = add_stages(
        repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True), dry_run=True
    )
    assert "+++ b/src/tiny_project/b.py" in result.diff
    assert '+  "scipy>=1.11",' in result.diff or "scipy>=1.11" in result.diff
    assert snapshot(repo) == before


def test_uncommitted_changes_to_touched_files_are_refused(project: tuple[Path, str]) -> None:
    repo, tpl = project
    with (repo / "pyproject.toml").open("a") as handle:
        handle.write("# local edit\n")
    with pytest.raises(UserError, match="uncommitted changes"):
        add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True))


def test_commit_option_commits_the_addition(project: tuple[Path, str]) -> None:
    repo, tpl = project
    (repo / "notes.txt").write_text("unrelated, uncommitted\n")
    add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True), commit=True)
    assert "Add stage(s) b" in _git(repo, "log", "-1", "--format=%s")
    assert _git(repo, "status", "--porcelain").strip() == "?? notes.txt"


def test_hand_made_flat_repo_gets_the_base_and_the_stage(tmp_path: Path) -> None:
    tpl = str(_tpl(tmp_path / "tpl"))
    repo = tmp_path / "legacy"
    (repo / "legacy_model").mkdir(parents=True)
    (repo / "legacy_model" / "__init__.py").write_text("")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "legacy-model"\nversion = "1"\ndependencies = []\n'
    )
    (repo / "Makefile").write_text("train:\n\tpython train.py\n")
    (repo / "README.md").write_text("# Legacy\n")
    result = add_stages(repo=repo, stages=["a"], template=tpl, sources=AnswerSources(defaults=True))
    assert result.added == ("a",)
    assert (repo / "legacy_model_pipeline" / "a.py").exists()  # beside the user's package, flat layout
    assert not (repo / "src").exists()
    makefile = (repo / "Makefile").read_text()
    assert (
        makefile.startswith("train:\n\tpython train.py\n")
        and "ml-all:\n\t$(MAKE) -f mlscaffold.mk all" in makefile
    )
    assert "include $(sort" in (repo / "mlscaffold.mk").read_text()  # the pipeline's own makefile
    assert [m.split(":")[0] for m in result.merges] == ["Makefile", "pyproject.toml"]
    assert (repo / "README.md").read_text() == "# Legacy\n"
    record = read_record(repo)
    assert record.answers["package_name"] == "legacy_model_pipeline" and list(record.stages) == ["a"]


def test_add_advances_the_pristine_rendering_so_diff_sees_no_drift(project: tuple[Path, str]) -> None:
    from mlscaffold.verbs.update import diff_project

    repo, tpl = project
    first = read_record(repo).pristine
    assert first is not None
    add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True), commit=True)
    record = read_record(repo)
    assert record.pristine not in (None, first)
    assert _git(repo, "rev-parse", "refs/mlscaffold/pristine").strip() == record.pristine
    assert "src/tiny_project/b.py" in _git(repo, "ls-tree", "-r", "--name-only", str(record.pristine))
    assert diff_project(repo=repo) == ""


def test_on_a_terminal_a_needed_stage_is_offered(project: tuple[Path, str]) -> None:
    repo, tpl = project
    asked: list[str] = []

    def yes(question: str) -> bool:
        asked.append(question)
        return True

    result = add_stages(repo=repo, stages=["c"], template=tpl, sources=AnswerSources(), confirm=yes)
    assert result.added == ("b", "c")
    assert asked == ["'c' needs b, which this repo does not have. Add it too?"]


def test_on_a_terminal_overwriting_needs_a_yes(project: tuple[Path, str]) -> None:
    repo, tpl = project
    mine = repo / "src" / "tiny_project" / "b.py"
    mine.write_text("my own b\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "my b")
    asked: list[str] = []
    kept = add_stages(repo=repo, stages=["b"], template=tpl, confirm=lambda q: asked.append(q) is not None)
    assert mine.read_text() == "my own b\n"  # "no" keeps the user's file, and says what that means
    assert asked == [
        "src/tiny_project/b.py exists. Replace it with the stage's version? "
        "(no keeps yours: the stage runs your b.py instead of its own)"
    ]
    assert kept.kept == (("src/tiny_project/b.py", "the stage runs your b.py instead of its own"),)
    assert (repo / "mk" / "20-b.mk").is_file()  # the rest of the stage is there


def test_files_the_user_never_edited_follow_the_new_stages(project: tuple[Path, str]) -> None:
    from mlscaffold.verbs.update import diff_project

    repo, tpl = project
    add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True), commit=True)
    assert (repo / "STAGES.md").read_text() == "stages: a, b\n"
    assert diff_project(repo=repo) == ""


def test_a_file_the_user_edited_is_left_alone(project: tuple[Path, str]) -> None:
    repo, tpl = project
    (repo / "STAGES.md").write_text("my own notes\n")
    _git(repo, "commit", "-qam", "notes")
    add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True))
    assert (repo / "STAGES.md").read_text() == "my own notes\n"


def test_add_does_not_change_recorded_answers(project: tuple[Path, str]) -> None:
    repo, tpl = project
    sources = AnswerSources(defaults=True, set_values=("project_name=other",))
    with pytest.raises(AnswerError, match="already recorded"):
        add_stages(repo=repo, stages=["b"], template=tpl, sources=sources)


def test_an_unknown_stage_in_the_record_is_named(project: tuple[Path, str]) -> None:
    repo, tpl = project
    record = (repo / ".mlscaffold.yaml").read_text().replace("  a:\n", "  aa:\n")
    (repo / ".mlscaffold.yaml").write_text(record)
    with pytest.raises(UserError, match="unknown stage 'aa'"):
        add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True))


def test_dry_run_refuses_what_the_real_run_would_refuse(project: tuple[Path, str], tmp_path: Path) -> None:
    repo, tpl = project
    canary = tmp_path / "canary"
    canary.mkdir()
    (canary / "20-b.mk").write_text("TOPSECRET\n")
    os.symlink(canary, repo / "mk" / "linked")
    (repo / "mk" / "20-b.mk").symlink_to(canary / "20-b.mk")
    with pytest.raises(ConflictError, match="symlink"):
        add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True), dry_run=True)


def test_a_template_change_made_before_add_still_reaches_the_repo_through_update(
    project: tuple[Path, str],
) -> None:
    from mlscaffold.verbs.update import update_project

    repo, tpl = project
    root = Path(tpl)
    (root / "template.yaml").write_text(SET.replace("'1.0'", "'1.1'"))
    (root / "base" / "files" / "Makefile").write_text(
        "PIPELINE :=\ninclude $(sort $(wildcard mk/*.mk))\nall: v2\n"
    )
    with (repo / "pyproject.toml").open("a") as handle:
        handle.write("# the user's own line\n")
    _git(repo, "commit", "-qam", "user edit")
    add_stages(repo=repo, stages=["b"], template=tpl, sources=AnswerSources(defaults=True), commit=True)
    assert "all: v2" not in (repo / "Makefile").read_text()  # add does not update the base
    update_project(repo=repo)
    assert "all: v2" in (repo / "Makefile").read_text()  # update does
    pyproject = (repo / "pyproject.toml").read_text()
    assert "# the user's own line" in pyproject and "scipy>=1.11" in pyproject
