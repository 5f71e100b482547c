"""What the templates would render today for a repo that mlscaffold recorded: the template set the record
names (at `--to REF`), the recorded answers (new questions take their defaults; never prompts), and the
structured drift between that rendering and the repo. Shared by `update`/`diff` and check's drift rule.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlscaffold.engine.record import RECORD_NAME, Record, read_record
from mlscaffold.engine.templates import TemplateSet
from mlscaffold.errors import UserError

if TYPE_CHECKING:
    from mlscaffold.wizard.sources import AnswerSources


@contextlib.contextmanager
def template_at(source: str, to: str | None, repo: Path) -> Iterator[TemplateSet]:
    """Load the template set the record names, at `--to REF` when given. Git templates are cloned
    into temporary folders that are removed when this ends (P15)."""
    from mlscaffold.engine.templates import fetched_templates, load_template_set, split_git_source

    git_source = split_git_source(source)
    with fetched_templates():
        if git_source is not None:
            url, ref = git_source
            yield load_template_set(f"{url}@{to or ref}" if (to or ref) else url)
            return
        if source == "builtin":
            if to is not None:
                raise UserError("--to needs a template kept in git; this repo uses the built-in templates")
            yield load_template_set(source)
            return
        local = Path(source).expanduser()
        if not local.is_absolute() and not local.is_dir() and (repo / local).is_dir():
            local = repo / local
        if to is None:
            yield load_template_set(str(local))
            return
        if not (local / ".git").exists():
            raise UserError(f"--to needs a template kept in git; '{source}' is a folder without git history")
        with tempfile.TemporaryDirectory(prefix="mlscaffold-template-") as scratch:
            yield _local_git_template(local, to, source, Path(scratch))


def _local_git_template(local: Path, to: str, source: str, scratch: Path) -> TemplateSet:
    """`--to REF` for a template folder that is a git repository: its files at REF, read straight from
    its object store into a temporary folder (no clone needed for a repository on this machine)."""
    from mlscaffold.engine.templates import load_template_set
    from mlscaffold.vcs import export_tree

    export_tree(local, to, scratch / "template")
    return replace(load_template_set(str(scratch / "template")), source=source)


def recorded_answers(tset: TemplateSet, record: Record, given: AnswerSources | None = None) -> dict[str, Any]:
    """Recorded answers, overridden by --answers and --set; questions new in the template take
    their defaults (update never prompts)."""
    from mlscaffold.wizard.questions import load_questions
    from mlscaffold.wizard.sources import AnswerSources, gather_answers

    stages = [tset.stage(name) for name in record.stages if name in tset.stages]
    known = {q.name for q in load_questions(list(tset.questions), "template.yaml")}
    for unit in (tset.base, *stages):
        known |= {q.name for q in load_questions(list(unit.questions), f"{unit.name}/manifest.yaml")}
    recorded = {k: v for k, v in record.answers.items() if k in known}
    given = given or AnswerSources()
    # update never prompts: questions new in the template take their defaults
    sources = AnswerSources(
        answers_file=given.answers_file, set_values=given.set_values, defaults=True, recorded=recorded
    )
    return {**record.answers, **gather_answers(tset, sources, stages)}


def repo_root(path: Path) -> Path:
    """The generated repo `path` is in: the nearest folder, from `path` up, holding the record
    (so `mlscaffold update` works from any subfolder); `path` itself when none does."""
    start = path.absolute()
    for folder in (start, *start.parents):
        if (folder / RECORD_NAME).is_file():
            return folder
        if (folder / ".git").exists():
            break  # never leave the git repository we are in
    return start


@dataclass(frozen=True)
class Drift:
    """One file where the repo differs from what the templates would render today. `expected` is the
    rendering (None: the templates no longer write it), `actual` the repo's file (None: missing)."""

    path: str
    expected: bytes | None
    actual: bytes | None


def drift(repo: Path, *, trust: bool = False) -> tuple[Path, list[Drift]]:
    """The repo's root and its drift from today's rendering, in path order. The record's `pristine`
    field is bookkeeping and is left out of the comparison; files the templates dropped count only
    while the repo still tracks them."""
    from mlscaffold.engine.pristine import on_disk, pristine_base, rendered_record
    from mlscaffold.engine.project import render_project
    from mlscaffold.vcs import in_repository, tracked_set
    from mlscaffold.wizard.advice import template_context

    repo = repo_root(repo)
    record = read_record(repo)
    with template_at(record.template_source, None, repo) as tset:
        tset.require_trust(trust)
        answers = recorded_answers(tset, record)
        stages = tset.order_stages([s for s in record.stages if s in tset.stages])
        answers = {**answers, "stages": stages}
        rendered = render_project(
            tset, answers, stages, trusted=trust, extra=template_context(tset.advice, answers)
        )
        # read copied files now: a template cloned from git is removed when this block ends
        rendered = {path: spec.loaded() for path, spec in rendered.items()}
    found: list[Drift] = []
    for path in sorted(rendered):
        expected = rendered[path].content
        ours, _ = on_disk(repo, path)
        actual = ours.content if ours is not None else None
        if path == RECORD_NAME and ours is not None:
            actual = replace(read_record(repo), pristine=None).to_yaml().encode("utf-8")
            expected = replace(rendered_record(rendered), pristine=None).to_yaml().encode("utf-8")
        if actual != expected:
            found.append(Drift(path, expected, actual))
    tracked = tracked_set(repo) if in_repository(repo) else set()
    with contextlib.suppress(UserError):
        _, base = pristine_base(repo, record)
        for path in sorted(set(base) - set(rendered)):  # dropped by the templates, still in the repo
            ours, _ = on_disk(repo, path)
            if ours is not None and path in tracked:
                found.append(Drift(path, None, ours.content))
    return repo, found
