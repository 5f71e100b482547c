"""`mlscaffold add`: plan the files a stage adds to an existing repo, check them all, apply all-or-nothing.

New stages bring files of their own; shared files get minimal edits only: dependencies in
pyproject.toml (format-preserving), an `include` line in a Makefile the user wrote, missing lines in
.gitignore. A file the user changed is never replaced without `--overwrite` (promise P4), and can be
kept with `--skip-existing` (or per file on a terminal).

In a repo mlscaffold did not write (`engine.fit`), the package comes from the packaging metadata
(`engine.layout`), the pipeline gets a package of its own beside the user's, its make targets live in
mlscaffold.mk behind namespaced `ml-*` targets, and its CI workflow uses only commands that exist.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlscaffold.engine import fit
from mlscaffold.engine.diffs import changes_diff
from mlscaffold.engine.edits import SHARED, kept_meaning, merge_shared_file, relayout
from mlscaffold.engine.project import build_context
from mlscaffold.engine.record import RECORD_NAME, Record, read_record
from mlscaffold.engine.render import Change, FileSpec, merge_specs, render_unit
from mlscaffold.engine.templates import TemplateSet, fetched_templates, load_template_set
from mlscaffold.engine.tomledit import add_dependencies
from mlscaffold.engine.write import apply_changes, check_target, exclusive
from mlscaffold.errors import AnswerError, ConflictError, UserError, did_you_mean, name_paths
from mlscaffold.wizard.advice import template_context
from mlscaffold.wizard.sources import AnswerSources, gather_answers, user_given

Confirm = Callable[[str], bool]  # asks the user a yes/no question (interactive runs only)
Choose = Callable[[str, list[str]], str]  # asks the user to pick one (interactive runs only)


@dataclass(frozen=True)
class AddResult:
    repo: Path
    added: tuple[str, ...]
    changed: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    dry_run: bool = False
    diff: str = ""
    commit: str | None = None
    merges: tuple[str, ...] = ()  # the documented edits of the user's own files, one line each
    kept: tuple[tuple[str, str], ...] = ()  # (path, what keeping it means for the stage)
    conflicts: tuple[str, ...] = ()  # (dry runs) files that exist with other content
    next_step: str = ""


RepoFacts = fit.RepoFacts


class _Conflicts(Exception):
    """Files the stages would write exist with other content (decided on in `_keep_or_replace`)."""

    def __init__(self, paths: tuple[str, ...]) -> None:
        super().__init__(", ".join(paths))
        self.paths = paths


def _plan_files(
    repo: Path, specs: Iterable[FileSpec], overwrite: bool, keep: frozenset[str] = frozenset()
) -> tuple[list[Change], list[str]]:
    changes: list[Change] = []
    conflicts: list[str] = []
    for spec in specs:
        if spec.path in keep:
            continue
        check_target(repo, spec.path)
        target = repo / spec.path
        if spec.path.endswith("/__init__.py") and target.is_file():
            continue  # the user's package stays theirs: stages import from it, they do not replace it
        if not target.exists() and not target.is_symlink():
            changes.append(Change(spec.path, "create", spec.content, spec.mode))
            continue
        if target.is_file() and not target.is_symlink() and target.read_bytes() == spec.content:
            continue
        if spec.path in SHARED and target.is_file():
            merged = merge_shared_file(spec.path, target.read_bytes(), spec.content)
            if merged is not None:
                changes.append(Change(spec.path, "modify", merged, target.stat().st_mode & 0o777))
            continue
        if overwrite and target.is_file() and not target.is_symlink():
            changes.append(Change(spec.path, "modify", spec.content, spec.mode))
        else:
            conflicts.append(spec.path)
    return changes, conflicts


def _with_dependencies(repo: Path, changes: list[Change], deps: list[str], dev: list[str]) -> None:
    """Add dependencies to pyproject.toml: the planned new one, or the user's with a minimal edit."""
    for i, change in enumerate(changes):
        if change.path == "pyproject.toml":
            text = add_dependencies(change.content.decode("utf-8"), deps, dev)
            changes[i] = replace(change, content=text.encode("utf-8"))
            return
    path = repo / "pyproject.toml"
    if not path.is_file():
        return
    before = path.read_text(encoding="utf-8")
    after = add_dependencies(before, deps, dev)
    if after != before:
        changes.append(Change("pyproject.toml", "modify", after.encode("utf-8"), path.stat().st_mode & 0o777))


def _dependency_merge(repo: Path, changes: list[Change], merges: list[str]) -> list[str]:
    """The line that lists the requirements added to the user's own pyproject.toml (when not said yet)."""
    from mlscaffold.engine.tomledit import added_requirements

    path = repo / "pyproject.toml"
    change = next((c for c in changes if c.path == "pyproject.toml" and c.action == "modify"), None)
    if change is None or not path.is_file() or any(m.startswith("pyproject.toml:") for m in merges):
        return []
    added = added_requirements(path.read_text(encoding="utf-8"), change.content.decode("utf-8"))
    return [f"pyproject.toml: dependencies added: {', '.join(added)}"] if added else []


def _resolve_needs(
    tset: TemplateSet, existing: list[str], requested: Sequence[str], confirm: Confirm | None
) -> list[str]:
    for name in requested:
        tset.stage(name)
    wanted = tset.order_stages([*existing, *requested])
    missing = [s for s in wanted if s not in existing and s not in requested]
    if missing:
        needing = [s for s in requested if set(tset.stage(s).needs) & set(missing)] or list(requested)
        question = f"'{needing[0]}' needs {', '.join(missing)}, which this repo does not have. Add it too?"
        if confirm is not None and confirm(question):
            return wanted
        raise UserError(
            f"stage '{needing[0]}' needs {', '.join(missing)}, which this repo does not have; "
            f"add it too: mlscaffold add {' '.join([*missing, *requested])}"
        )
    return wanted


def _recorded_answers(record: Record | None, facts: RepoFacts) -> dict[str, Any]:
    if record is not None:
        return dict(record.answers)
    return {"project_name": facts.project_name, "package_name": facts.pipeline}


def add_stages(
    *,
    repo: Path,
    stages: Sequence[str],
    template: str | None = None,
    sources: AnswerSources | None = None,
    overwrite: bool = False,
    dry_run: bool = False,
    trust: bool = False,
    commit: bool = False,
    confirm: Confirm | None = None,
    skip_existing: bool = False,
    package: str | None = None,
    choose: Choose | None = None,
) -> AddResult:
    """Add stages (and, in a repo mlscaffold did not make, the project base they plug into).
    `confirm`, given on a terminal, is asked before adding needed stages and, per file, whether to
    replace a file the user has; `choose` picks the user's package when the metadata cannot tell;
    `package` names it; `skip_existing` keeps every file the user has."""
    with fetched_templates():
        options = _Options(overwrite, dry_run, trust, commit, confirm, skip_existing, package, choose)
        return _add_stages(repo, stages, template, sources or AnswerSources(defaults=True), options)


@dataclass(frozen=True)
class _Options:
    overwrite: bool
    dry_run: bool
    trust: bool
    commit: bool
    confirm: Confirm | None
    skip_existing: bool = False
    package: str | None = None
    choose: Choose | None = None
    keep: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Plan:
    new: tuple[str, ...]
    changes: tuple[Change, ...]
    record: Record
    previous: str | None  # the last pristine rendering (update's merge base), for repos that keep one
    refreshed: frozenset[str]  # files the user never edited, brought to the current rendering
    dependencies: tuple[tuple[str, ...], tuple[str, ...]]  # (dependencies, dev) added to pyproject.toml
    merges: tuple[str, ...] = ()
    kept: tuple[tuple[str, str], ...] = ()
    conflicts: tuple[str, ...] = ()
    next_step: str = ""
    conflict_contents: tuple[tuple[str, bytes], ...] = ()


def _add_stages(
    repo: Path, stages: Sequence[str], template: str | None, sources: AnswerSources, options: _Options
) -> AddResult:
    repo = repo.absolute()
    if not repo.is_dir():
        raise UserError(f"{repo}: no such folder")
    # The lock covers reading the record too, so two runs cannot plan from the same state (P15).
    with contextlib.nullcontext() if options.dry_run else exclusive(repo):
        plan = _make_plan(repo, stages, template, sources, options)
        if plan is None:
            return AddResult(repo, (), (), dry_run=options.dry_run)
        paths = tuple(c.path for c in plan.changes)
        told = AddResult(repo, plan.new, paths, merges=plan.merges, kept=plan.kept, next_step=plan.next_step)
        if options.dry_run:
            diff = changes_diff(repo, plan.changes) + _conflicts_diff(repo, plan)
            return replace(told, dry_run=True, diff=diff, conflicts=plan.conflicts)
        return replace(told, commit=_apply(repo, plan, options).commit)


def _make_plan(
    repo: Path, stages: Sequence[str], template: str | None, sources: AnswerSources, options: _Options
) -> _Plan | None:
    record = read_record(repo) if (repo / RECORD_NAME).is_file() else None
    tset = load_template_set(template or (record.template_source if record else None))
    tset.require_trust(options.trust)
    existing = list(record.stages) if record else []
    for name in existing:
        if name not in tset.stages:
            raise UserError(f"{RECORD_NAME}: unknown stage '{name}'{did_you_mean(name, tset.stages)}")
    wanted = _resolve_needs(tset, existing, stages, options.confirm)
    new = tuple(s for s in wanted if s not in existing)
    if not new:
        return None
    facts = fit.detect_repo(repo, record, options.package, options.choose)
    recorded = _recorded_answers(record, facts)
    _refuse_changed_answers(recorded if record else {}, user_given(sources))
    sources = replace(sources, recorded={**recorded, **dict(sources.recorded)})
    answers = {**gather_answers(tset, sources, [tset.stage(s) for s in new]), "stages": wanted}
    previous = _previous_pristine(repo, record)
    try:
        planned = _plan(repo, tset, answers, record, facts, new, previous, options)
    except _Conflicts as err:
        keep = _keep_or_replace(err.paths, options, facts.pipeline)
        planned = _plan(repo, tset, answers, record, facts, new, previous, replace(options, keep=keep))
    return replace(planned, new=new)


def _keep_or_replace(paths: tuple[str, ...], options: _Options, package: str) -> frozenset[str]:
    """The files to keep as the user has them: all with --skip-existing, else those the user keeps when
    asked per file on a terminal. With neither, the conflict stands (exit 2, nothing written)."""
    if options.skip_existing:
        return frozenset(paths)
    if options.confirm is None or options.dry_run:
        raise ConflictError(
            f"{len(paths)} file(s) already exist with other content: {name_paths(paths)}; nothing was "
            "written (re-run with --skip-existing to keep yours, or --overwrite to replace them; "
            "--dry-run shows the diffs)",
            paths,
        )
    keep = set()
    for path in paths:
        meaning = kept_meaning(path, package)
        question = f"{path} exists. Replace it with the stage's version? (no keeps yours: {meaning})"
        if not options.confirm(question):
            keep.add(path)
    return frozenset(keep)


def _conflicts_diff(repo: Path, plan: _Plan) -> str:
    """For a dry run: what --overwrite would do to each file that exists with other content."""
    from mlscaffold.engine.diffs import unified

    chunks = []
    for path, content in plan.conflict_contents:
        current = (repo / path).read_bytes() if (repo / path).is_file() else b""
        chunks.append(f"# CONFLICT {path}: exists with other content (--overwrite gives this diff)\n")
        chunks.append(unified(current, content, f"a/{path}", f"b/{path}"))
    return "".join(chunks)


def _refuse_changed_answers(recorded: Mapping[str, Any], given: Mapping[str, Any]) -> None:
    """`add` adds stages; it does not change a project's recorded answers behind its files' back."""
    for key, value in given.items():
        if key in recorded and value != recorded[key] and str(value) != str(recorded[key]):
            raise AnswerError(
                key, f"already recorded as {recorded[key]!r}; change answers with `mlscaffold update --set`"
            )


def _apply(repo: Path, plan: _Plan, options: _Options) -> AddResult:
    from mlscaffold import vcs

    changes = list(plan.changes)
    vcs.refuse_dirty(repo, [c.path for c in changes])
    pristine = None
    if plan.previous is not None:
        pristine = _next_pristine(repo, plan)
        content = replace(plan.record, pristine=pristine).to_yaml().encode("utf-8")
        changes = [replace(c, content=content) if c.path == RECORD_NAME else c for c in changes]
    apply_changes(repo, changes)
    if pristine is not None:
        vcs.set_pristine_ref(repo, pristine, vcs.pristine_commit(repo))
    commit_id = None
    if options.commit:
        commit_id = vcs.commit_paths(repo, [c.path for c in changes], f"Add stage(s) {', '.join(plan.new)}")
    return AddResult(repo, plan.new, (), commit=commit_id)


def _previous_pristine(repo: Path, record: Record | None) -> str | None:
    """The last pristine rendering: the record's (it travels with the branch), else the ref's."""
    from mlscaffold import vcs

    if record is None or not vcs.in_repository(repo):  # its own repository, or a monorepo around it
        return None
    if record.pristine and vcs.has_commit(repo, record.pristine):
        return record.pristine
    return vcs.pristine_commit(repo)


def _next_pristine(repo: Path, plan: _Plan) -> str:
    """The merge base after `add`: the last pristine rendering plus exactly what `add` wrote as the
    templates render it. A shared file the user edited (pyproject.toml) goes in as the last pristine
    version with the same edit, so the user's own lines never enter the base."""
    from mlscaffold import vcs

    assert plan.previous is not None
    before = vcs.tree_files(repo, plan.previous)
    overlay: dict[str, vcs.Blob] = {}
    for change in plan.changes:
        content = change.content
        if change.path == "pyproject.toml" and change.path not in plan.refreshed and change.path in before:
            content = add_dependencies(
                before[change.path].content.decode("utf-8"), *plan.dependencies
            ).encode()
        overlay[change.path] = vcs.Blob(content, 0o755 if change.mode & 0o111 else 0o644)
    message = f"mlscaffold: pristine rendering (stages {', '.join(plan.record.stages)})"
    return vcs.write_pristine(repo, overlay, parent=plan.previous, message=message, base=plan.previous)


def _refresh_untouched(
    repo: Path, fresh: Mapping[str, FileSpec], previous: str, changes: list[Change]
) -> frozenset[str]:
    """Files the user never edited (still as the last pristine rendering) follow the rendering with the
    new stages, so a README or formulation that lists the stages stays true and `diff` sees no drift."""
    from mlscaffold import vcs

    pristine = vcs.tree_files(repo, previous)
    planned = {c.path: i for i, c in enumerate(changes)}
    refreshed = set()
    for path, spec in fresh.items():
        old, target = pristine.get(path), repo / path
        if path == RECORD_NAME or old is None or target.is_symlink() or not target.is_file():
            continue
        current = target.read_bytes()
        if current != old.content or spec.content == current:
            continue
        change = Change(path, "modify", spec.content, spec.mode)
        if path in planned:
            changes[planned[path]] = change
        else:
            changes.append(change)
        refreshed.add(path)
    return frozenset(refreshed)


def _plan(
    repo: Path,
    tset: TemplateSet,
    answers: Mapping[str, Any],
    record: Record | None,
    facts: RepoFacts,
    new: Sequence[str],
    previous: str | None,
    options: _Options,
) -> _Plan:
    from mlscaffold.engine.project import make_record, render_project

    # on a cookiecutter base, `package_name` is the template's answer; the stages go in the pipeline's
    rendering = {**answers, "package_name": facts.pipeline} if tset.base.is_cookiecutter else answers
    context = build_context(tset, rendering, answers["stages"], template_context(tset.advice, answers))
    units = [tset.stage(s) for s in new]
    groups = [render_unit(u, context, trusted=options.trust) for u in units]
    if record is None:
        groups.insert(0, render_unit(tset.base, context, trusted=options.trust))
        units.insert(0, tset.base)
    specs = relayout(merge_specs(groups).values(), str(context["package_name"]), facts.layout)
    fitted = fit.fit_specs(repo, facts, specs, units)
    changes, conflicts = _plan_files(repo, fitted.specs, options.overwrite, options.keep)
    if conflicts and not options.dry_run:
        raise _Conflicts(tuple(conflicts))
    changes.extend(fitted.edits)
    by_path = {spec.path: spec.content for spec in fitted.specs}
    deps = [d for u in units for d in u.dependencies]
    dev = [d for u in units for d in u.dev_dependencies]
    _with_dependencies(repo, changes, deps, dev)
    merges = [*fitted.merges, *_dependency_merge(repo, changes, fitted.merges)]
    kept = tuple((p, kept_meaning(p, facts.pipeline)) for p in sorted(options.keep))
    refreshed: frozenset[str] = frozenset()
    # Only when the template has not moved on: bringing a newer template in is `update`'s job.
    if previous is not None and record is not None and record.template_version == tset.version:
        fresh = render_project(
            tset,
            answers,
            answers["stages"],
            trusted=options.trust,
            extra=template_context(tset.advice, answers),
        )
        refreshed = _refresh_untouched(repo, fresh, previous, changes)
    versions = {**(record.stages if record else {}), **{s: tset.version for s in new}}
    new_record = make_record(tset, answers, {s: versions[s] for s in answers["stages"]}, previous)
    if record is not None:  # the project's base stays at the version `update` last brought it to
        new_record = replace(new_record, template_version=record.template_version)
    changes.append(Change(RECORD_NAME, "modify" if record else "create", new_record.to_yaml().encode()))
    return _Plan(
        tuple(new),
        tuple(changes),
        new_record,
        previous,
        refreshed,
        (tuple(deps), tuple(dev)),
        merges=tuple(merges),
        kept=kept,
        conflicts=tuple(conflicts),
        next_step=fitted.next_step,
        conflict_contents=tuple((p, by_path[p]) for p in conflicts),
    )
