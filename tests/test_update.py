"""Stories in git for `mlscaffold update` and `mlscaffold diff` (promises P5, P6, P9, P12, P13, P15):
template v1 -> generate -> user edits -> template v2 -> update; the edit survives and the change lands."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import cli_in_process, make_template_set, snapshot

from mlscaffold import AnswerSources, new_project
from mlscaffold.engine import write
from mlscaffold.engine.record import RECORD_NAME, read_record
from mlscaffold.engine.write import exclusive
from mlscaffold.errors import MergeConflictsRemain, TrustError, UserError
from mlscaffold.vcs import PRISTINE_REF
from mlscaffold.verbs.update import PENDING_REF, diff_project, format_update, update_project

LINES = "".join(f"line {i}\n" for i in range(1, 21))
SET = """name: tiny
version: '1.0'
base: base
stages: []
questions:
  - name: project_name
    prompt: Project name?
    default: tiny-project
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def commit_all(repo: Path, message: str = "user edits") -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)


def repo_state(repo: Path) -> tuple[object, ...]:
    """The work tree, git's index and every ref (git's object store may gain unreachable objects)."""
    tree = {p: v for p, v in snapshot(repo).items() if p != ".git" and not p.startswith(".git/")}
    return tree, git(repo, "ls-files", "-s"), git(repo, "for-each-ref"), git(repo, "status", "--porcelain")


def edit_lines(path: Path, changes: dict[int, str]) -> None:
    """Replace 1-based lines of a file."""
    lines = path.read_text().splitlines(keepends=True)
    for number, text in changes.items():
        lines[number - 1] = text
    path.write_text("".join(lines))


class Template:
    """A tiny template set in a folder; `bump()` makes the next version."""

    def __init__(self, root: Path) -> None:
        self.root = make_template_set(
            root,
            {
                "config.txt": LINES,
                "notes.txt": "notes v1\n",
                "dropped.txt": "dropped v1\n",
                "dropped_edited.txt": "will be dropped\n",
                "deleted_by_user.txt": "user deletes me\n",
                "README.md.jinja": "# {{ project_slug }}\nTemplate {{ template_version }}\n",
                "bin/run.sh": "#!/bin/sh\necho run\n",
            },
            set_manifest=SET,
        )
        self.version = 1

    def file(self, rel: str) -> Path:
        return self.root / "base" / "files" / rel

    def bump(self) -> None:
        manifest = self.root / "template.yaml"
        old = f"version: '1.{self.version - 1}'" if self.version > 1 else "version: '1.0'"
        self.version += 1
        manifest.write_text(manifest.read_text().replace(old, f"version: '1.{self.version - 1}'"))


@pytest.fixture
def tpl(tmp_path: Path) -> Template:
    return Template(tmp_path / "tpl")


@pytest.fixture
def project(tmp_path: Path, tpl: Template) -> Path:
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(tpl.root))
    return dest


def test_new_stores_pristine_commit_and_id_in_record(project: Path) -> None:
    record = read_record(project)
    assert record.pristine is not None
    assert git(project, "rev-parse", PRISTINE_REF).strip() == record.pristine
    pristine_files = set(git(project, "ls-tree", "-r", "--name-only", record.pristine).split())
    assert pristine_files == set(git(project, "ls-files").split())
    # The pristine tree is the rendering; only the record's `pristine` line differs from the work tree.
    assert git(project, "show", f"{record.pristine}:config.txt") == LINES
    assert "pristine:" not in git(project, "show", f"{record.pristine}:{RECORD_NAME}")
    assert git(project, "status", "--porcelain") == ""


def test_no_template_change_touches_nothing(project: Path, tmpdir_left: Path) -> None:
    """P13: update with no template change touches no file, not even the record."""
    before = {
        p: (v, os.stat(project / p).st_mtime_ns) for p, v in snapshot(project).items() if ".git" not in p
    }
    result = update_project(repo=project)
    after = {
        p: (v, os.stat(project / p).st_mtime_ns) for p, v in snapshot(project).items() if ".git" not in p
    }
    assert after == before
    assert result.outcomes == () and result.conflicts == ()
    assert "nothing to update" in format_update(result)
    assert list(tmpdir_left.iterdir()) == []


def test_untouched_updates_and_user_edit_survives_merge(
    project: Path, tpl: Template, tmpdir_left: Path
) -> None:
    edit_lines(project / "config.txt", {2: "line 2 edited by the user\n"})
    commit_all(project)
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {18: "line 18 from template v2\n"})
    tpl.file("notes.txt").write_text("notes v2\n")
    tpl.file("added.txt").write_text("new in v2\n")

    result = update_project(repo=project)

    config = (project / "config.txt").read_text()
    assert "line 2 edited by the user\n" in config and "line 18 from template v2\n" in config
    assert (project / "notes.txt").read_text() == "notes v2\n"
    assert (project / "added.txt").read_text() == "new in v2\n"
    assert (project / "README.md").read_text().endswith("\nTemplate 1.1\n")
    statuses = {o.path: o.status for o in result.outcomes}
    assert statuses == {
        "config.txt": "merged",
        "notes.txt": "updated",
        "added.txt": "added",
        "README.md": "updated",
    }
    record = read_record(project)
    assert record.template_version == "1.1"
    assert record.pristine == result.pristine == git(project, "rev-parse", PRISTINE_REF).strip()
    assert git(project, "show", f"{record.pristine}:notes.txt") == "notes v2\n"
    assert list(tmpdir_left.iterdir()) == []


def test_conflict_inline_markers_unmerged_in_git_exit_3(project: Path, tpl: Template) -> None:
    old_record = (project / RECORD_NAME).read_bytes()
    old_ref = git(project, "rev-parse", PRISTINE_REF)
    edit_lines(project / "config.txt", {10: "line 10 by the user\n"})
    commit_all(project)
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {10: "line 10 by the template\n", 20: "line 20 v2\n"})

    result = update_project(repo=project)

    text = (project / "config.txt").read_text()
    assert (
        "<<<<<<< yours\nline 10 by the user\n=======\nline 10 by the template\n>>>>>>> template 1.1\n" in text
    )
    assert text.endswith("line 20 v2\n")  # the clean hunk landed
    assert result.conflicts == ("config.txt",)
    stages = {line.split()[2] for line in git(project, "ls-files", "-u", "--", "config.txt").splitlines()}
    assert stages == {"1", "2", "3"}
    assert "UU config.txt" in git(project, "status", "--porcelain")
    with pytest.raises(MergeConflictsRemain) as caught:
        result.raise_for_conflicts()
    assert caught.value.exit_code == 3 and caught.value.paths == ("config.txt",)
    # The committed record and the ref advance only on success: git refuses the commit that would
    # carry the new record while the conflict is unresolved; the ref has not moved.
    assert git(project, "show", f"HEAD:{RECORD_NAME}").encode() == old_record
    assert read_record(project).pristine == result.pending == git(project, "rev-parse", PENDING_REF).strip()
    assert git(project, "rev-parse", PRISTINE_REF) == old_ref
    refused = subprocess.run(["git", "commit", "-qm", "x"], cwd=project, capture_output=True, check=False)
    assert refused.returncode != 0
    # A second run refuses while the conflict is unresolved.
    with pytest.raises(UserError, match="uncommitted changes"):
        update_project(repo=project)
    # Abandoning the update (git reset) drops the new record with the files.
    git(project, "reset", "--quiet", "--hard")
    assert (project / RECORD_NAME).read_bytes() == old_record
    assert update_project(repo=project).conflicts == ("config.txt",)


def test_resolved_conflict_then_update_again_advances(project: Path, tpl: Template) -> None:
    edit_lines(project / "config.txt", {10: "line 10 by the user\n"})
    commit_all(project)
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {10: "line 10 by the template\n"})
    first = update_project(repo=project)
    resolved = LINES.replace("line 10\n", "line 10 by the user\n")  # the user keeps their line
    (project / "config.txt").write_text(resolved)
    commit_all(project, "resolve")
    assert read_record(project).template_version == "1.1"

    again = update_project(repo=project)

    assert again.outcomes == () and again.conflicts == ()
    assert (project / "config.txt").read_text() == resolved
    assert git(project, "rev-parse", PRISTINE_REF).strip() == first.pending
    assert subprocess.run(["git", "rev-parse", "-q", "--verify", PENDING_REF], cwd=project).returncode != 0
    # The next template change merges against the resolved generation, not the old one.
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {19: "line 19 v3\n"})
    third = update_project(repo=project)
    assert third.conflicts == () and "line 10 by the user\n" in (project / "config.txt").read_text()
    assert "line 19 v3\n" in (project / "config.txt").read_text()


def test_conflict_rej_mode_keeps_user_text(project: Path, tpl: Template) -> None:
    edit_lines(project / "config.txt", {10: "line 10 by the user\n"})
    commit_all(project)
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {10: "line 10 by the template\n", 20: "line 20 v2\n"})

    result = update_project(repo=project, conflict="rej")

    text = (project / "config.txt").read_text()
    assert "line 10 by the user\n" in text and "<<<<<<<" not in text
    assert text.endswith("line 20 v2\n")  # the hunk that applies cleanly is applied
    rej = (project / "config.txt.rej").read_text()
    assert "+line 10 by the template\n" in rej and "-line 10\n" in rej and "line 20" not in rej
    assert result.conflicts == ("config.txt",)
    assert len(git(project, "ls-files", "-u", "--", "config.txt").splitlines()) == 3
    with pytest.raises(MergeConflictsRemain):
        result.raise_for_conflicts()


def test_user_deleted_file_is_not_brought_back(project: Path, tpl: Template) -> None:
    (project / "deleted_by_user.txt").unlink()
    commit_all(project)
    tpl.bump()
    tpl.file("deleted_by_user.txt").write_text("changed in v2\n")

    result = update_project(repo=project)

    assert not (project / "deleted_by_user.txt").exists()
    assert {o.path: o.status for o in result.outcomes} == {
        "deleted_by_user.txt": "skipped",
        "README.md": "updated",
    }
    assert result.conflicts == ()


def test_template_dropped_files(project: Path, tpl: Template) -> None:
    (project / "dropped_edited.txt").write_text("the user's own notes\n")
    commit_all(project)
    tpl.bump()
    tpl.file("dropped.txt").unlink()
    tpl.file("dropped_edited.txt").unlink()

    result = update_project(repo=project)

    assert not (project / "dropped.txt").exists()
    assert (project / "dropped_edited.txt").read_text() == "the user's own notes\n"
    statuses = {o.path: o.status for o in result.outcomes}
    assert statuses["dropped.txt"] == "deleted" and statuses["dropped_edited.txt"] == "kept"
    assert "kept" in format_update(result) and "dropped_edited.txt" in format_update(result)


def test_untracked_and_ignored_files_never_touched(project: Path, tpl: Template) -> None:
    (project / ".gitignore").write_text("secret.txt\n")
    commit_all(project)
    (project / "secret.txt").write_text("ignored by git\n")
    (project / "added.txt").write_text("the user's untracked file\n")
    tpl.bump()
    tpl.file("added.txt").write_text("new in v2\n")
    tpl.file("secret.txt").write_text("template wants this\n")

    result = update_project(repo=project)

    assert (project / "secret.txt").read_text() == "ignored by git\n"
    assert (project / "added.txt").read_text() == "the user's untracked file\n"
    statuses = {o.path: o.status for o in result.outcomes}
    assert statuses["added.txt"] == "blocked" and statuses["secret.txt"] == "skipped"
    assert result.conflicts == ("added.txt",)
    theirs = git(project, "ls-files", "-u", "--", "added.txt").split()
    assert theirs[2] == "3" and git(project, "cat-file", "blob", theirs[1]) == "new in v2\n"


def test_dirty_tree_refused(project: Path, tpl: Template) -> None:
    (project / "notes.txt").write_text("uncommitted\n")
    tpl.bump()
    before = snapshot(project)
    with pytest.raises(UserError, match=r"uncommitted changes \(notes.txt\); commit or stash"):
        update_project(repo=project)
    assert snapshot(project) == before


def test_refuses_to_go_backwards(project: Path, tpl: Template) -> None:
    manifest = tpl.root / "template.yaml"
    manifest.write_text(manifest.read_text().replace("version: '1.0'", "version: '0.9'"))
    with pytest.raises(UserError, match="refusing to go backwards"):
        update_project(repo=project)


def test_dry_run_writes_nothing(project: Path, tpl: Template, tmpdir_left: Path) -> None:
    edit_lines(project / "config.txt", {2: "user line\n"})
    commit_all(project)
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {18: "template line\n"})
    before = snapshot(project)
    objects = git(project, "count-objects", "-v")

    result = update_project(repo=project, dry_run=True)

    assert snapshot(project) == before
    assert git(project, "count-objects", "-v") == objects
    assert "+template line" in result.diff and "-line 18" in result.diff
    assert "would update" in format_update(result)
    assert list(tmpdir_left.iterdir()) == []


@pytest.mark.parametrize("fail_at", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("conflict", [False, True])
def test_interrupted_update_leaves_repo_as_it_was(
    project: Path, tpl: Template, monkeypatch: pytest.MonkeyPatch, fail_at: int, conflict: bool
) -> None:
    """P5: an error or Ctrl-C at any write restores every file, git's index and the refs."""
    edit_lines(project / "config.txt", {2: "user line\n"})
    commit_all(project)
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {2 if conflict else 18: "template line\n"})
    tpl.file("notes.txt").write_text("notes v2\n")
    tpl.file("added.txt").write_text("new\n")
    before = repo_state(project)
    real_write: Callable[[Path, bytes, int], None] = write._write_file
    calls = {"n": 0}

    def flaky(path: Path, content: bytes, mode: int) -> None:
        if calls["n"] == fail_at:
            raise KeyboardInterrupt
        calls["n"] += 1
        real_write(path, content, mode)

    monkeypatch.setattr(write, "_write_file", flaky)
    with pytest.raises(KeyboardInterrupt):
        update_project(repo=project)
    assert repo_state(project) == before
    monkeypatch.setattr(write, "_write_file", real_write)
    assert update_project(repo=project).conflicts == (("config.txt",) if conflict else ())


def test_executable_bit_from_template(project: Path, tpl: Template) -> None:
    tpl.bump()
    os.chmod(tpl.file("bin/run.sh"), 0o755)
    update_project(repo=project)
    assert os.stat(project / "bin/run.sh").st_mode & 0o111


def test_binary_conflict_keeps_user_version(tmp_path: Path) -> None:
    root = make_template_set(tmp_path / "tpl", {"logo.bin": b"\x00\x01v1"}, set_manifest=SET)
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(root))
    (dest / "logo.bin").write_bytes(b"\x00\x01mine")
    commit_all(dest)
    manifest = root / "template.yaml"
    manifest.write_text(manifest.read_text().replace("'1.0'", "'1.1'"))
    (root / "base/files/logo.bin").write_bytes(b"\x00\x01v2")

    result = update_project(repo=dest)

    assert (dest / "logo.bin").read_bytes() == b"\x00\x01mine"
    assert result.conflicts == ("logo.bin",)
    assert len(git(dest, "ls-files", "-u", "--", "logo.bin").splitlines()) == 3


def test_missing_pristine_is_a_clear_error(project: Path, tpl: Template) -> None:
    git(project, "update-ref", "-d", PRISTINE_REF)
    record = (project / RECORD_NAME).read_text()
    (project / RECORD_NAME).write_text(
        "".join(x for x in record.splitlines(True) if not x.startswith("pristine"))
    )
    commit_all(project)
    tpl.bump()
    with pytest.raises(UserError, match=r"pristine rendering .* is missing.*git fetch origin"):
        update_project(repo=project)


def test_record_id_wins_over_ref(project: Path, tpl: Template) -> None:
    """The record is versioned with the branch: a stale or moved ref does not change the merge base."""
    edit_lines(project / "config.txt", {2: "user line\n"})
    commit_all(project)
    git(project, "update-ref", PRISTINE_REF, git(project, "rev-parse", "HEAD").strip())
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {18: "template line\n"})
    result = update_project(repo=project)
    assert {o.path: o.status for o in result.outcomes}["config.txt"] == "merged"


def test_concurrent_run_refused(project: Path, tpl: Template) -> None:
    tpl.bump()
    with exclusive(project), pytest.raises(UserError, match="another mlscaffold run"):
        update_project(repo=project)


def test_trust_required_for_template_code(project: Path, tpl: Template) -> None:
    tpl.bump()
    hooks = tpl.root / "base" / "hooks"
    hooks.mkdir()
    (hooks / "post_gen_project.py").write_text("print('code')\n")
    before = snapshot(project)
    with pytest.raises(TrustError):
        update_project(repo=project)
    assert snapshot(project) == before


# ---------------------------------------------------------------------------------------------------
# --to REF with a template kept in git


def _git_template(tpl: Template) -> None:
    git(tpl.root, "init", "--quiet")
    commit_all(tpl.root, "template v1")
    git(tpl.root, "tag", "v1")


def test_update_to_git_ref(tmp_path: Path, tpl: Template, tmpdir_left: Path) -> None:
    _git_template(tpl)
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(tpl.root))
    tpl.bump()
    tpl.file("notes.txt").write_text("notes v2\n")
    commit_all(tpl.root, "template v2")
    git(tpl.root, "tag", "v2")
    tpl.bump()
    tpl.file("notes.txt").write_text("notes v3 (not tagged for this update)\n")
    commit_all(tpl.root, "template v3")

    result = update_project(repo=dest, to="v2")

    assert (dest / "notes.txt").read_text() == "notes v2\n"
    assert read_record(dest).template_version == "1.1"
    assert read_record(dest).template_source == str(tpl.root)
    assert result.to_version == "1.1"
    assert list(tmpdir_left.iterdir()) == []  # the clone is gone (P15)
    commit_all(dest, "update to v2")
    with pytest.raises(UserError, match="refusing to go backwards"):
        update_project(repo=dest, to="v1")


@pytest.mark.parametrize("ref", ["--upload-pack=touch /tmp/pwned", "-x", "a..b", "v1;rm", ""])
def test_hostile_refs_refused(tmp_path: Path, tpl: Template, ref: str) -> None:
    """P9: a ref never becomes an option."""
    _git_template(tpl)
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(tpl.root))
    with pytest.raises(UserError, match="not a valid git ref"):
        update_project(repo=dest, to=ref)


def test_to_with_builtin_template_is_refused(tmp_path: Path, project: Path) -> None:
    record = (project / RECORD_NAME).read_text()
    source = read_record(project).template_source
    (project / RECORD_NAME).write_text(record.replace(f"source: {source}", "source: builtin"))
    commit_all(project)
    with pytest.raises(UserError, match="--to needs a template kept in git"):
        update_project(repo=project, to="v2")


# ---------------------------------------------------------------------------------------------------
# diff


def test_diff_empty_on_fresh_project(project: Path) -> None:
    assert diff_project(repo=project) == ""


def test_diff_shows_drift_both_ways(project: Path, tpl: Template) -> None:
    edit_lines(project / "config.txt", {3: "user line 3\n"})
    (project / "notes.txt").unlink()
    tpl.file("dropped.txt").unlink()
    text = diff_project(repo=project)
    assert "--- a/config.txt\n+++ b/config.txt\n" in text and "-line 3\n+user line 3\n" in text
    assert "--- a/notes.txt\n+++ /dev/null\n" in text
    assert "--- /dev/null\n+++ b/dropped.txt\n" in text


# ---------------------------------------------------------------------------------------------------
# the CLI: exit codes


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command in this process (helpers.cli_in_process): the exit codes and messages are the subject;
    the process around them (Ctrl-C, the console script) is tested with real subprocesses below."""
    return cli_in_process(*args, cwd=cwd)


def test_cli_exit_codes(project: Path, tpl: Template) -> None:
    assert _cli("diff", "--exit-code", cwd=project).returncode == 0
    edit_lines(project / "config.txt", {10: "user line 10\n"})
    commit_all(project)
    drift = _cli("diff", "--exit-code", ".", cwd=project)
    assert drift.returncode == 1 and "+user line 10" in drift.stdout
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {10: "template line 10\n"})

    dry = _cli("update", "--dry-run", cwd=project)
    assert dry.returncode == 0, dry.stderr
    assert "conflict" in dry.stdout and git(project, "status", "--porcelain") == ""

    done = _cli("update", cwd=project)
    assert done.returncode == 3, done.stderr
    assert "conflict  config.txt" in done.stdout
    assert done.stderr.count("error:") == 1 and "Traceback" not in done.stderr

    again = _cli("update", cwd=project)
    assert again.returncode == 2 and "uncommitted changes" in again.stderr


# ---------------------------------------------------------------------------------------------------
# answers, stages added later, byte fidelity


def test_set_changes_an_answer_and_the_rendering_follows(project: Path, tpl: Template) -> None:
    tpl.bump()
    result = update_project(repo=project, sources=AnswerSources(set_values=("project_name=renamed",)))
    assert (project / "README.md").read_text().startswith("# renamed\n")
    assert read_record(project).answers["project_name"] == "renamed"
    assert result.conflicts == ()


def test_unknown_set_key_is_refused(project: Path, tpl: Template) -> None:
    tpl.bump()
    before = repo_state(project)
    with pytest.raises(UserError, match="project_nam"):
        update_project(repo=project, sources=AnswerSources(set_values=("project_nam=x",)))
    assert repo_state(project) == before


def test_question_dropped_by_template_is_not_an_error(project: Path, tpl: Template) -> None:
    tpl.bump()
    manifest = tpl.root / "template.yaml"
    manifest.write_text(manifest.read_text().split("questions:")[0] + "questions: []\n")
    assert update_project(repo=project).conflicts == ()


def test_crlf_and_bom_survive_a_merge(tmp_path: Path) -> None:
    text = "\ufeff" + "".join(f"row {i}\r\n" for i in range(12))
    root = make_template_set(tmp_path / "tpl", {"win.txt": text.encode("utf-8")}, set_manifest=SET)
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(root))
    (dest / "win.txt").write_bytes(text.replace("row 1\r\n", "row 1 user\r\n").encode("utf-8"))
    commit_all(dest)
    manifest = root / "template.yaml"
    manifest.write_text(manifest.read_text().replace("'1.0'", "'1.1'"))
    (root / "base/files/win.txt").write_bytes(text.replace("row 10\r\n", "row 10 v2\r\n").encode("utf-8"))

    update_project(repo=dest)

    expected = text.replace("row 1\r\n", "row 1 user\r\n").replace("row 10\r\n", "row 10 v2\r\n")
    assert (dest / "win.txt").read_bytes() == expected.encode("utf-8")


def _stage(name: str, order: int) -> str:
    return f"kind: stage\nname: {name}\npurpose: the {name} stage\norder: {order}\n"


def test_add_then_update_merges_against_the_added_stage(tmp_path: Path) -> None:
    """`add` advances the pristine rendering, so a later template change to the added stage merges
    into the user's edit instead of conflicting with it."""
    from mlscaffold.verbs.add import add_stages

    root = make_template_set(
        tmp_path / "tpl",
        {"base.txt": LINES},
        set_manifest=SET.replace("stages: []", "stages: [first, extra]"),
        stages={
            "first": (_stage("first", 10), {"first.txt": "first\n"}),
            "extra": (_stage("extra", 20), {"extra.txt": LINES}),
        },
    )
    dest = tmp_path / "proj"
    new_project(
        dest=dest, template=str(root), sources=AnswerSources(defaults=True, set_values=("stages=first",))
    )
    assert not (dest / "extra.txt").exists()
    add_stages(repo=dest, stages=("extra",), sources=AnswerSources(defaults=True))
    commit_all(dest, "add extra")
    edit_lines(dest / "extra.txt", {2: "user line 2\n"})
    commit_all(dest)
    manifest_path = root / "template.yaml"
    manifest_path.write_text(manifest_path.read_text().replace("'1.0'", "'1.1'"))
    edit_lines(root / "stages/extra/files/extra.txt", {18: "template line 18\n"})

    result = update_project(repo=dest)

    assert result.conflicts == ()
    text = (dest / "extra.txt").read_text()
    assert "user line 2\n" in text and "template line 18\n" in text


def test_symlink_where_the_template_writes_is_never_followed(
    project: Path, tpl: Template, tmp_path: Path
) -> None:
    """P1 through update: a symlink in the repo at a path the template changes is left alone, nothing
    is written through it, and the record does not advance (git cannot hold this clash)."""
    outside = tmp_path / "outside.txt"
    outside.write_text("outside\n")
    (project / "notes.txt").unlink()
    (project / "notes.txt").symlink_to(outside)
    commit_all(project)
    tpl.bump()
    tpl.file("notes.txt").write_text("notes v2\n")
    record = (project / RECORD_NAME).read_bytes()

    result = update_project(repo=project)

    assert outside.read_text() == "outside\n" and (project / "notes.txt").is_symlink()
    assert result.conflicts == ("notes.txt",) and result.pending is None
    assert (project / RECORD_NAME).read_bytes() == record
    assert "move what blocks" in format_update(result)


def test_git_sees_user_values_only_after_end_of_options(project: Path, tmp_path: Path) -> None:
    """P9 with a fake git on PATH: the template URL from the record comes after `--`, and `--to`
    is checked before git ever runs."""
    log = tmp_path / "argv.log"
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    real_git = subprocess.run(["which", "git"], capture_output=True, text=True, check=True).stdout.strip()
    fake.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" >> {log}\necho ---- >> {log}\n'
        f'case "$1" in clone) exit 1;; esac\nexec {real_git} "$@"\n'
    )
    fake.chmod(0o755)
    url = "https://example.invalid/--upload-pack=touch /tmp/pwned"
    record = (project / RECORD_NAME).read_text()
    source = read_record(project).template_source
    (project / RECORD_NAME).write_text(record.replace(f"source: {source}", f"source: '{url}'"))
    commit_all(project)
    env = {
        **os.environ,
        "PATH": f"{fake.parent}:{os.environ['PATH']}",
        "GIT_PYTHON_GIT_EXECUTABLE": str(fake),
    }

    done = subprocess.run(
        [sys.executable, "-m", "mlscaffold", "update", "--to", "v2"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 2, done.stderr
    calls = [c.strip().splitlines() for c in log.read_text().split("----") if "clone" in c]
    assert calls
    for argv in calls:
        assert argv.index("--") < argv.index(url)
    bad = subprocess.run(
        [sys.executable, "-m", "mlscaffold", "update", "--to", "--upload-pack=x"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "--upload-pack=x" not in log.read_text().split("----")[-1]
    assert not Path("/tmp/pwned").exists()


def _clone_without_mlscaffold_refs(repo: Path, dest: Path) -> Path:
    """What a teammate gets: `git clone` fetches branches and tags, not refs/mlscaffold/*."""
    subprocess.run(["git", "clone", "--quiet", "--no-local", repo.as_uri(), str(dest)], check=True)
    assert subprocess.run(["git", "rev-parse", "-q", "--verify", PRISTINE_REF], cwd=dest).returncode != 0
    return dest


def test_fresh_clone_of_a_never_updated_repo_uses_the_generation_commit(
    project: Path, tpl: Template, tmp_path: Path
) -> None:
    clone = _clone_without_mlscaffold_refs(project, tmp_path / "clone")
    edit_lines(clone / "config.txt", {2: "teammate line\n"})
    commit_all(clone)
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {18: "template line\n"})

    result = update_project(repo=clone)

    assert result.conflicts == () and {o.path: o.status for o in result.outcomes}["config.txt"] == "merged"
    text = (clone / "config.txt").read_text()
    assert "teammate line\n" in text and "template line\n" in text


def test_fresh_clone_after_an_update_needs_the_ref(project: Path, tpl: Template, tmp_path: Path) -> None:
    tpl.bump()
    tpl.file("notes.txt").write_text("notes v2\n")
    update_project(repo=project)
    commit_all(project, "update to 1.1")
    clone = _clone_without_mlscaffold_refs(project, tmp_path / "clone")
    tpl.bump()
    with pytest.raises(UserError, match="git push origin refs/mlscaffold/pristine"):
        update_project(repo=clone)
    git(clone, "fetch", "--quiet", "origin", f"{PRISTINE_REF}:{PRISTINE_REF}")
    assert update_project(repo=clone).conflicts == ()


def test_a_newer_mlscaffold_with_the_same_templates_touches_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P13: only mlscaffold's own version differs, so no file changes, not even the record."""
    import mlscaffold.engine.record
    import mlscaffold.verbs.new

    monkeypatch.setattr(mlscaffold.verbs.new, "__version__", "0.1.1")
    monkeypatch.setattr(mlscaffold.engine.record, "__version__", "0.1.1")
    before = repo_state(project)
    assert update_project(repo=project).outcomes == ()
    assert repo_state(project) == before


def test_record_naming_a_missing_pristine_never_falls_back_to_another_ref(
    project: Path, tpl: Template
) -> None:
    record = (project / RECORD_NAME).read_text()
    pristine = read_record(project).pristine
    assert pristine is not None
    (project / RECORD_NAME).write_text(record.replace(pristine, "1" * 40))
    commit_all(project)
    tpl.bump()
    before = repo_state(project)
    with pytest.raises(UserError, match="pristine rendering"):
        update_project(repo=project)
    assert repo_state(project) == before


def test_version_bump_alone_advances_only_the_record(tmp_path: Path) -> None:
    root = make_template_set(tmp_path / "tpl", {"a.txt": "a\n"}, set_manifest=SET)
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(root))
    manifest = root / "template.yaml"
    manifest.write_text(manifest.read_text().replace("'1.0'", "'1.1'"))

    result = update_project(repo=dest)

    assert result.outcomes == () and result.pristine is not None
    assert read_record(dest).template_version == "1.1"
    assert "only .mlscaffold.yaml changed" in format_update(result)
    assert git(dest, "status", "--porcelain") == " M .mlscaffold.yaml\n"


def test_sigint_mid_update_leaves_the_repo_before_or_after(tmp_path: Path) -> None:
    """P5 with a real Ctrl-C: at whatever moment SIGINT lands, the repo is either exactly as it was
    or fully updated (files, record and index agree); never half-written."""
    import signal
    import time

    files = {f"pkg/f{i:03d}.txt": LINES for i in range(150)}
    root = make_template_set(tmp_path / "tpl", files, set_manifest=SET)
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(root))
    manifest = root / "template.yaml"
    manifest.write_text(manifest.read_text().replace("'1.0'", "'1.1'"))
    for rel in files:
        edit_lines(root / "base" / "files" / rel, {20: "template v2\n"})
    before = repo_state(dest)
    outcomes = set()
    for delay in (0.05, 0.15, 0.25, 0.35, 0.5, 0.7, 1.0):
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlscaffold", "update"],
            cwd=dest,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
        texts = {(dest / rel).read_text() for rel in files}
        if repo_state(dest) == before:
            outcomes.add("before")
            continue
        assert texts == {LINES.replace("line 20\n", "template v2\n")}, "half-written update"
        assert read_record(dest).template_version == "1.1"
        assert git(dest, "ls-files", "-u") == ""
        outcomes.add("after")
        break
    assert outcomes


def test_unicode_and_spaces_in_paths(tmp_path: Path) -> None:
    name = "docs/ünïcode dir/a file.txt"
    root = make_template_set(tmp_path / "tpl", {name: LINES}, set_manifest=SET)
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(root))
    edit_lines(dest / name, {2: "user line\n", 10: "user line 10\n"})
    commit_all(dest)
    manifest = root / "template.yaml"
    manifest.write_text(manifest.read_text().replace("'1.0'", "'1.1'"))
    edit_lines(root / "base" / "files" / name, {18: "template line\n", 10: "template line 10\n"})

    result = update_project(repo=dest)

    assert result.conflicts == (name,)
    text = (dest / name).read_text()
    assert "user line\n" in text and "template line\n" in text and "<<<<<<< yours\n" in text
    assert len(git(dest, "ls-files", "-u", "-z", "--", name).split("\0")) == 4  # 3 stages + trailing


def test_new_question_takes_its_default_and_a_dropped_stage_goes(tmp_path: Path) -> None:
    root = make_template_set(
        tmp_path / "tpl",
        {"base.txt": "base\n"},
        set_manifest=SET.replace("stages: []", "stages: [old]"),
        stages={"old": (_stage("old", 10), {"old.txt": "old\n", "old_edited.txt": "old\n"})},
    )
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(root))
    (dest / "old_edited.txt").write_text("old, with the user's notes\n")
    commit_all(dest)
    manifest = root / "template.yaml"
    text = manifest.read_text().replace("'1.0'", "'1.1'").replace("stages: [old]", "stages: []")
    manifest.write_text(text + "  - name: licence\n    prompt: Licence?\n    default: MIT\n")
    (root / "base" / "files" / "LICENCE.jinja").write_text("{{ licence }}\n")

    result = update_project(repo=dest)

    assert (dest / "LICENCE").read_text() == "MIT\n"
    assert read_record(dest).answers["licence"] == "MIT" and read_record(dest).stages == {}
    statuses = {o.path: o.status for o in result.outcomes}
    assert statuses == {"LICENCE": "added", "old.txt": "deleted", "old_edited.txt": "kept"}


def test_to_refuses_a_symlink_in_the_template_at_that_ref(tmp_path: Path, tpl: Template) -> None:
    from mlscaffold.errors import TemplateError

    _git_template(tpl)
    dest = tmp_path / "proj"
    new_project(dest=dest, template=str(tpl.root))
    (tmp_path / "secret.txt").write_text("secret\n")
    os.symlink(tmp_path / "secret.txt", tpl.file("link.txt"))
    tpl.bump()
    commit_all(tpl.root, "v2 with a symlink")
    git(tpl.root, "tag", "v2")
    before = repo_state(dest)
    with pytest.raises(TemplateError, match="symlinks"):
        update_project(repo=dest, to="v2")
    assert repo_state(dest) == before


def test_a_file_the_user_moved_gets_the_template_change_where_it_is(project: Path, tpl: Template) -> None:
    (project / "settings").mkdir()
    git(project, "mv", "config.txt", "settings/config.txt")
    edit_lines(project / "settings" / "config.txt", {2: "user line\n"})
    commit_all(project)
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {18: "template line\n"})

    result = update_project(repo=project)

    assert not (project / "config.txt").exists()
    text = (project / "settings" / "config.txt").read_text()
    assert "user line\n" in text and "template line\n" in text
    moved = [o for o in result.outcomes if o.path == "settings/config.txt"]
    assert moved and moved[0].status == "merged" and "moved from config.txt" in moved[0].note


def test_runs_from_a_subfolder_and_takes_an_answers_file(
    project: Path, tpl: Template, tmp_path: Path
) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("project_name: from-file\n")
    tpl.bump()
    result = update_project(repo=project / "bin", sources=AnswerSources(answers_file=answers))
    assert result.repo == project
    assert (project / "README.md").read_text().startswith("# from-file\n")
    assert diff_project(repo=project / "bin") == ""


def test_git_variables_of_a_surrounding_hook_do_not_redirect_update(
    project: Path, tpl: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from inside another repository's git hook, GIT_DIR and GIT_INDEX_FILE point elsewhere;
    update still works on the repo it was given and leaves the other one alone."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "--quiet")
    before = snapshot(other / ".git")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    tpl.bump()
    tpl.file("notes.txt").write_text("notes v2\n")
    assert update_project(repo=project).conflicts == ()
    assert (project / "notes.txt").read_text() == "notes v2\n"
    assert snapshot(other / ".git") == before


def test_markers_committed_with_commit_a_are_still_conflicts(project: Path, tpl: Template) -> None:
    """`git commit -a` takes unresolved files as they are; the next update refuses with exit 3 instead
    of reporting success on top of the markers."""
    edit_lines(project / "config.txt", {10: "line 10 by the user\n"})
    commit_all(project)
    tpl.bump()
    edit_lines(tpl.file("config.txt"), {10: "line 10 by the template\n"})
    assert update_project(repo=project).conflicts == ("config.txt",)
    git(project, "commit", "--quiet", "-a", "-m", "oops, markers and all")
    tpl.bump()
    with pytest.raises(MergeConflictsRemain, match="conflict markers") as caught:
        update_project(repo=project)
    assert caught.value.exit_code == 3 and caught.value.paths == ("config.txt",)


def test_template_versions_compare_by_pep_440() -> None:
    from mlscaffold.verbs.update import _older

    assert _older("1.0rc1", "1.0") and not _older("1.0", "1.0rc1")
    assert _older("1.9", "1.10") and not _older("v2", "1.10")
    assert not _older("not a version", "1.0")  # never called older when it cannot be compared
