"""Promise P6 as a property: random sequences of user edits, template edits and updates (inline or rej)
never lose a line the user wrote, and files the user never touched follow the template exactly."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from helpers import make_template_set
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mlscaffold.engine.record import read_record
from mlscaffold.verbs.new import new_project
from mlscaffold.verbs.update import update_project

SET = """name: prop
version: '1.0'
base: base
stages: []
questions:
  - name: project_name
    prompt: Project name?
    default: prop-project
"""
START_FILES = 2
Edit = tuple[int, int, str]
EDIT = st.tuples(st.integers(0, 3), st.integers(0, 8), st.sampled_from(["insert", "replace", "delete"]))
MODE = st.sampled_from(["inline", "rej"])
MARKERS = ("<<<<<<< ", ">>>>>>> ")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


class UpdateMachine(RuleBasedStateMachine):
    """The model: which user-written lines (tokens U<n>) each repo file must still contain."""

    def __init__(self) -> None:
        super().__init__()
        self.scratch = Path(tempfile.mkdtemp(prefix="prop-update-"))
        self.counter = 0
        self.version = 0
        self.expected: dict[str, set[str]] = {}  # repo path -> user tokens it must contain
        self.user_touched: set[str] = set()

    @initialize()
    def generate(self) -> None:
        files = {f"f{i}.txt": "".join(f"base f{i} line {j}\n" for j in range(6)) for i in range(START_FILES)}
        self.tpl = make_template_set(self.scratch / "tpl", files, set_manifest=SET)
        self.repo = self.scratch / "proj"
        new_project(dest=self.repo, template=str(self.tpl))

    def teardown(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------------

    def token(self, who: str) -> str:
        self.counter += 1
        return f"{who}{self.counter}\n"

    def repo_files(self) -> list[str]:
        return sorted(p for p in git(self.repo, "ls-files").splitlines() if p.endswith(".txt"))

    def template_files(self) -> list[str]:
        return sorted(p.name for p in (self.tpl / "base" / "files").iterdir())

    def commit(self, message: str) -> None:
        git(self.repo, "add", "--all")
        if git(self.repo, "status", "--porcelain"):
            git(self.repo, "commit", "--quiet", "--no-verify", "-m", message)

    def edit_repo_file(self, index: int, pos: int, action: str) -> None:
        files = self.repo_files()
        rel = files[index % len(files)]
        path = self.repo / rel
        lines = lines_of(path)
        at = pos % (len(lines) + 1)
        if action == "insert" or not lines:
            new = self.token("U")
            lines.insert(at, new)
            self.expected.setdefault(rel, set()).add(new)
        else:
            at = min(at, len(lines) - 1)
            self.expected.get(rel, set()).discard(lines[at])  # the user removes their own line: fine
            if action == "replace":
                lines[at] = self.token("U")
                self.expected.setdefault(rel, set()).add(lines[at])
            else:
                del lines[at]
        path.write_text("".join(lines))
        self.user_touched.add(rel)
        self.commit("user edit")

    def edit_template_file(self, index: int, pos: int, action: str) -> None:
        files = self.template_files()
        path = self.tpl / "base" / "files" / files[index % len(files)]
        lines = lines_of(path)
        at = pos % (len(lines) + 1)
        if action == "insert" or not lines:
            lines.insert(at, self.token("T"))
        elif action == "replace":
            lines[min(at, len(lines) - 1)] = self.token("T")
        else:
            del lines[min(at, len(lines) - 1)]
        path.write_text("".join(lines))

    # -- rules ----------------------------------------------------------------------------------------

    @precondition(lambda self: bool(self.repo_files()))
    @rule(
        index=st.integers(0, 20),
        pos=st.integers(0, 20),
        action=st.sampled_from(["insert", "replace", "delete"]),
    )
    def user_edits_a_line(self, index: int, pos: int, action: str) -> None:
        self.edit_repo_file(index, pos, action)

    @precondition(lambda self: bool(self.repo_files()))
    @rule(index=st.integers(0, 20))
    def user_deletes_a_file(self, index: int) -> None:
        files = self.repo_files()
        rel = files[index % len(files)]
        (self.repo / rel).unlink()
        self.expected.pop(rel, None)
        self.user_touched.add(rel)
        self.commit("user deletes a file")

    @precondition(lambda self: bool(self.repo_files()))
    @rule(index=st.integers(0, 20))
    def user_moves_a_file(self, index: int) -> None:
        files = self.repo_files()
        rel = files[index % len(files)]
        new = f"moved/m{self.counter}.txt"
        self.counter += 1
        (self.repo / "moved").mkdir(exist_ok=True)
        git(self.repo, "mv", rel, new)
        self.expected[new] = self.expected.pop(rel, set())
        self.user_touched |= {rel, new}
        self.commit("user moves a file")

    @rule()
    def user_adds_a_file(self) -> None:
        rel = f"user{self.counter}.txt"
        token = self.token("U")
        (self.repo / rel).write_text(token)
        self.expected[rel] = {token}
        self.user_touched.add(rel)
        self.commit("user adds a file")

    @precondition(lambda self: bool(self.template_files()))
    @rule(
        index=st.integers(0, 20),
        pos=st.integers(0, 20),
        action=st.sampled_from(["insert", "replace", "delete"]),
    )
    def template_edits_a_line(self, index: int, pos: int, action: str) -> None:
        self.edit_template_file(index, pos, action)

    @rule()
    def template_adds_a_file(self) -> None:
        (self.tpl / "base" / "files" / f"t{self.counter}.txt").write_text(self.token("T") + self.token("T"))

    @precondition(lambda self: bool(self.template_files()))
    @rule(index=st.integers(0, 20))
    def template_drops_a_file(self, index: int) -> None:
        files = self.template_files()
        (self.tpl / "base" / "files" / files[index % len(files)]).unlink()

    @precondition(lambda self: bool(self.repo_files()) and bool(self.template_files()))
    @rule(
        user=st.lists(EDIT, min_size=1, max_size=4),
        template=st.lists(EDIT, min_size=1, max_size=4),
        mode=MODE,
    )
    def both_edit_then_update(self, user: list[Edit], template: list[Edit], mode: str) -> None:
        """The interesting case, made common: both sides change the same few files, then update."""
        for index, pos, action in user:
            if self.repo_files():
                self.edit_repo_file(index, pos, action)
        for index, pos, action in template:
            if self.template_files():
                self.edit_template_file(index, pos, action)
        self.update(mode)

    @precondition(lambda self: bool(self.repo_files()) and bool(self.template_files()))
    @rule(
        user=st.lists(EDIT, min_size=1, max_size=4),
        template=st.lists(EDIT, min_size=1, max_size=4),
        mode=MODE,
    )
    def both_edit_then_update_again(self, user: list[Edit], template: list[Edit], mode: str) -> None:
        """Listed twice so that Hypothesis picks rounds of edits on both sides more often."""
        self.both_edit_then_update(user, template, mode)

    @rule(mode=MODE)
    def update(self, mode: str) -> None:
        self.version += 1
        manifest = self.tpl / "template.yaml"
        text = manifest.read_text()
        old = text.split("version: ", 1)[1].split("\n", 1)[0]
        manifest.write_text(text.replace(f"version: {old}", f"version: '1.{self.version}'"))
        untouched = {p for p in self.repo_files() if p not in self.user_touched}

        result = update_project(repo=self.repo, conflict="rej" if mode == "rej" else "inline")

        self.check_user_lines()  # before any resolution: nothing lost, markers or not
        for rel in untouched:
            rendered = self.tpl / "base" / "files" / rel
            if rendered.exists():
                assert (self.repo / rel).read_bytes() == rendered.read_bytes(), rel
            else:
                assert not (self.repo / rel).exists(), (
                    f"{rel}: dropped by the template, untouched, still there"
                )
        for rel in result.conflicts:
            self.resolve_keeping_both(rel)
        for rej in self.repo.rglob("*.rej*"):
            rej.unlink()
        self.commit("resolve")
        assert read_record(self.repo).template_version == f"1.{self.version}"
        # From now on every file counts as touched: the resolution is the user's text.
        self.user_touched |= set(result.conflicts)

    def resolve_keeping_both(self, rel: str) -> None:
        path = self.repo / rel
        kept = [line for line in lines_of(path) if not line.startswith(MARKERS) and line != "=======\n"]
        path.write_text("".join(kept))

    # -- the promise ----------------------------------------------------------------------------------

    @invariant()
    def check_user_lines(self) -> None:
        if not hasattr(self, "repo"):
            return
        for rel, tokens in self.expected.items():
            path = self.repo / rel
            assert path.is_file(), f"{rel} was lost"
            present = set(lines_of(path))
            missing = tokens - present
            assert not missing, f"{rel} lost user lines {sorted(missing)}"


def _run_machine(examples: int) -> None:
    run_state_machine_as_test(
        UpdateMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_random_user_and_template_edits_never_lose_a_user_line() -> None:
    """The fast tier's share of the search (each example is a git repo through several updates)."""
    _run_machine(10)


@pytest.mark.slow
def test_random_user_and_template_edits_never_lose_a_user_line_thoroughly() -> None:
    _run_machine(60)
