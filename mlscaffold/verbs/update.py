"""`mlscaffold update` and `mlscaffold diff`: bring template changes into a generated repo, never losing
a user edit (promise P6).

The merge base is the PRISTINE rendering of the last generation, kept in git as a commit of its own
(`refs/mlscaffold/pristine`, its id also in the record), so old template code is never needed
(docs/update.md explains why). An update renders what the templates give today with the recorded
answers and merges it file by file, three-way: base = pristine, ours = the repo, theirs = the new
rendering. The plan is made in full first; `render.apply_changes` then writes it all-or-nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from mlscaffold.engine.diffs import changes_diff, is_text, unified
from mlscaffold.engine.pristine import blobs, on_disk, pristine_base, rendered_record
from mlscaffold.engine.record import RECORD_NAME, Record, read_record
from mlscaffold.engine.render import Change, FileSpec
from mlscaffold.engine.templates import TemplateSet
from mlscaffold.errors import MergeConflictsRemain, UserError, name_paths
from mlscaffold.rerender import drift, recorded_answers, repo_root, template_at
from mlscaffold.vcs import Blob
from mlscaffold.wizard.advice import template_context
from mlscaffold.wizard.sources import AnswerSources

ConflictMode = Literal["inline", "rej"]
PENDING_REF = "refs/mlscaffold/pending"
Status = Literal[
    "updated",  # the user had not touched it: the template's new version replaces it
    "merged",  # both changed it: the template's change merged into the user's text
    "added",  # new in the template
    "deleted",  # dropped by the template, untouched by the user
    "conflict",  # both changed the same lines: conflict markers, unmerged in git
    "rejected",  # --conflict rej: the user's text stays; the template's hunks are in a .rej file
    "kept",  # dropped by the template, but the user edited it: kept
    "skipped",  # the user deleted it, or it is untracked: left alone
    "blocked",  # the template adds a file where an untracked file or a folder already is
]
_NEEDS_ATTENTION = ("conflict", "rejected", "blocked")
MARKER = "<<<<<<<"  # git merge-file's start marker; update labels our side "yours"


@dataclass(frozen=True)
class FileOutcome:
    path: str
    status: Status
    note: str = ""


@dataclass(frozen=True)
class UpdateResult:
    repo: Path
    from_version: str
    to_version: str
    outcomes: tuple[FileOutcome, ...]
    dry_run: bool = False
    pristine: str | None = None  # the new pristine commit (None: dry run, conflicts, or nothing changed)
    pending: str | None = None  # with conflicts: the pristine the record now names, until resolved
    diff: str = ""  # the dry run's unified diff

    @property
    def conflicts(self) -> tuple[str, ...]:
        return tuple(o.path for o in self.outcomes if o.status in _NEEDS_ATTENTION)

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple(o.path for o in self.outcomes if o.status in ("updated", "merged", "added", "deleted"))

    def raise_for_conflicts(self) -> None:
        """Exit 3 while anything needs the user's hand (never 0 with conflicts left: P6)."""
        if self.conflicts and not self.dry_run:
            then = (
                "`git add` them and commit" if self.pending else "commit, then run `mlscaffold update` again"
            )
            raise MergeConflictsRemain(
                f"{len(self.conflicts)} file(s) need your attention: {name_paths(self.conflicts)}; "
                f"resolve them, {then}",
                self.conflicts,
            )


# ---------------------------------------------------------------------------------------------------
# finding the template and the merge base


def _older(version: str, than: str) -> bool:
    """PEP 440 order (1.0rc1 < 1.0); versions that are not PEP 440 are never called older."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) < Version(than)
    except InvalidVersion:
        return False


# ---------------------------------------------------------------------------------------------------
# the per-file three-way decision


@dataclass
class _Plan:
    changes: list[Change] = field(default_factory=list)
    outcomes: list[FileOutcome] = field(default_factory=list)
    unmerged: dict[str, tuple[Blob | None, Blob | None, Blob | None]] = field(default_factory=dict)

    def write(self, path: str, content: bytes, mode: int, status: Status, note: str = "") -> None:
        self.changes.append(Change(path, "modify", content, mode))
        self.outcomes.append(FileOutcome(path, status, note))


@dataclass(frozen=True)
class _Sides:
    """Everything known about one path before deciding what to do with it."""

    path: str
    base: Blob | None
    ours: Blob | None  # None: absent from the work tree
    theirs: Blob | None
    tracked: bool
    ignored: bool  # present, untracked and ignored by git
    regular: bool  # False when the path is a folder, a symlink or something else on disk


def _decide(s: _Sides, plan: _Plan, mode: ConflictMode, labels: tuple[str, str, str], repo: Path) -> None:
    base, ours, theirs = s.base, s.ours, s.theirs
    if base == theirs:
        return  # the template did not change this file: whatever the user did stays
    if not s.regular:
        status: Status = "blocked" if theirs is not None else "skipped"
        plan.outcomes.append(FileOutcome(s.path, status, "not a regular file in the repo; left alone"))
        return
    if ours is not None and not s.tracked:
        _untracked(s, plan)
        return
    if theirs is None:  # the template dropped it
        if ours is None:
            return
        if ours.content == base.content if base else False:
            plan.changes.append(Change(s.path, "delete"))
            plan.outcomes.append(FileOutcome(s.path, "deleted"))
        else:
            plan.outcomes.append(
                FileOutcome(s.path, "kept", "the template dropped it; you edited it, so it stays")
            )
        return
    if ours is None:
        if base is None:
            plan.write(s.path, theirs.content, theirs.mode, "added")
        else:
            plan.outcomes.append(FileOutcome(s.path, "skipped", "you deleted it; not brought back"))
        return
    _three_way(s.path, base, ours, theirs, plan, mode, labels, repo)


def _untracked(s: _Sides, plan: _Plan) -> None:
    """Untracked and ignored files are never touched. When the template adds a file where an
    untracked one is, git's index gets the template's version as 'theirs' so the clash is listed."""
    if s.theirs is None or s.ignored:
        why = "ignored by git" if s.ignored else "untracked in git"
        plan.outcomes.append(FileOutcome(s.path, "skipped", f"{why}; left alone"))
        return
    note = "your untracked file is in the way; the template's version is git's 'theirs' for it"
    plan.outcomes.append(FileOutcome(s.path, "blocked", note))
    plan.unmerged[s.path] = (None, None, s.theirs)


def _mode(base: Blob | None, ours: Blob, theirs: Blob) -> int:
    """The user's mode wins when they changed it; otherwise the template's."""
    return ours.mode if base is not None and ours.mode != base.mode else theirs.mode


def _three_way(
    path: str,
    base: Blob | None,
    ours: Blob,
    theirs: Blob,
    plan: _Plan,
    mode: ConflictMode,
    labels: tuple[str, str, str],
    repo: Path,
) -> None:
    from mlscaffold.vcs import merge_file

    if ours == theirs:
        return
    if base is not None and ours == base:
        plan.write(path, theirs.content, theirs.mode, "updated")
        return
    new_mode = _mode(base, ours, theirs)
    if ours.content == theirs.content:
        if new_mode != ours.mode:
            plan.write(path, ours.content, new_mode, "updated", "mode only")
        return
    base_bytes = base.content if base is not None else b""
    if not all(is_text(c) for c in (base_bytes, ours.content, theirs.content)):
        _conflict(path, base, ours, theirs, ours.content, plan, mode, repo, "binary: your version kept")
        return
    merged = merge_file(ours.content, base_bytes, theirs.content, labels)
    if merged.conflicts == 0:
        plan.write(path, merged.content, new_mode, "merged")
        return
    if mode == "rej":
        _reject(path, base_bytes, ours, theirs, plan, labels, repo)
        return
    _conflict(path, base, ours, theirs, merged.content, plan, mode, repo, f"{merged.conflicts} conflict(s)")


def _conflict(
    path: str,
    base: Blob | None,
    ours: Blob,
    theirs: Blob,
    content: bytes,
    plan: _Plan,
    mode: ConflictMode,
    repo: Path,
    note: str,
) -> None:
    plan.unmerged[path] = (base, ours, theirs)
    if mode == "rej":
        rej = _free_name(repo, path, plan)
        plan.changes.append(Change(rej, "create", theirs.content, 0o644))
        plan.outcomes.append(FileOutcome(path, "rejected", f"{note}; the template's version is in {rej}"))
        return
    if content != ours.content:
        plan.changes.append(Change(path, "modify", content, ours.mode))
    plan.outcomes.append(FileOutcome(path, "conflict", note))


def _free_name(repo: Path, path: str, plan: _Plan) -> str:
    """`<file>.rej`, or `<file>.rej.N` when that name is taken (an existing file is never touched)."""
    taken = {c.path for c in plan.changes}
    name, n = f"{path}.rej", 1
    while (repo / name).exists() or (repo / name).is_symlink() or name in taken:
        n += 1
        name = f"{path}.rej.{n}"
    return name


def _reject(
    path: str, base: bytes, ours: Blob, theirs: Blob, plan: _Plan, labels: tuple[str, str, str], repo: Path
) -> None:
    """Apply each template hunk that merges cleanly on its own; the others go to `<file>.rej` as a
    unified diff. The user's text is never replaced by the template's."""
    from mlscaffold.vcs import merge_file

    old = base.decode("utf-8").splitlines(keepends=True)
    new = theirs.content.decode("utf-8").splitlines(keepends=True)
    current = ours.content
    rejected: list[str] = []
    for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(3):
        patched = list(old)
        for tag, i1, i2, j1, j2 in reversed(group):
            if tag != "equal":
                patched[i1:i2] = new[j1:j2]
        attempt = merge_file(current, base, "".join(patched).encode("utf-8"), labels)
        if attempt.conflicts == 0:
            current = attempt.content
            continue
        first, last = group[0], group[-1]
        rejected.append(f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@\n")
        for tag, i1, i2, j1, j2 in group:
            rejected += [" " + line for line in old[i1:i2]] if tag == "equal" else []
            rejected += ["-" + line for line in old[i1:i2]] if tag in ("replace", "delete") else []
            rejected += ["+" + line for line in new[j1:j2]] if tag in ("replace", "insert") else []
    if current != ours.content:
        plan.changes.append(Change(path, "modify", current, ours.mode))
    rej = _free_name(repo, path, plan)
    body = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in rejected
    )
    plan.changes.append(Change(rej, "create", f"--- a/{path}\n+++ b/{path}\n{body}".encode(), 0o644))
    plan.outcomes.append(
        FileOutcome(path, "rejected", f"your text kept; the template's hunk(s) are in {rej}")
    )
    plan.unmerged[path] = (Blob(base, ours.mode) if base else None, ours, theirs)


# ---------------------------------------------------------------------------------------------------
# reading the work tree


def _plan_merge(
    repo: Path,
    base_id: str,
    base: Mapping[str, Blob],
    theirs: Mapping[str, Blob],
    mode: ConflictMode,
    labels: tuple[str, str, str],
) -> _Plan:
    from mlscaffold.vcs import ignored_paths, tracked_set

    tracked = tracked_set(repo)
    changed = [p for p in sorted((set(base) | set(theirs)) - {RECORD_NAME}) if base.get(p) != theirs.get(p)]
    disk = {path: on_disk(repo, path) for path in changed}
    ignored = ignored_paths(repo, [p for p in changed if disk[p][0] is not None and p not in tracked])
    gone = [p for p in changed if disk[p] == (None, True) and p in base and p in theirs]
    moved = _moves(repo, base_id, gone, set(base) | set(theirs), tracked)
    plan = _Plan()
    for path in changed:
        if path in moved:
            _merge_moved(path, moved[path], base[path], theirs[path], plan, mode, labels, repo)
            continue
        ours, regular = disk[path]
        sides = _Sides(
            path, base.get(path), ours, theirs.get(path), path in tracked, path in ignored, regular
        )
        _decide(sides, plan, mode, labels, repo)
    return plan


def _moves(
    repo: Path, base_id: str, gone: list[str], template_paths: set[str], tracked: set[str]
) -> dict[str, str]:
    """Where the user moved files the template changed: git's rename detection from the pristine
    commit to HEAD, kept only for moves to a tracked path the templates do not write themselves."""
    from mlscaffold.vcs import renames_since

    if not gone:
        return {}
    renames = renames_since(repo, base_id)
    return {
        old: new
        for old, new in renames.items()
        if old in gone and new in tracked and new not in template_paths
    }


def _merge_moved(
    old: str,
    new: str,
    base: Blob,
    theirs: Blob,
    plan: _Plan,
    mode: ConflictMode,
    labels: tuple[str, str, str],
    repo: Path,
) -> None:
    """The template changed a file the user moved: merge the change into the file where it is now."""
    ours, regular = on_disk(repo, new)
    if ours is None or not regular:
        plan.outcomes.append(FileOutcome(old, "skipped", "you deleted it; not brought back"))
        return
    first = len(plan.outcomes)
    _three_way(new, base, ours, theirs, plan, mode, labels, repo)
    for i in range(first, len(plan.outcomes)):
        outcome = plan.outcomes[i]
        plan.outcomes[i] = replace(outcome, note="; ".join(filter(None, (outcome.note, f"moved from {old}"))))


# ---------------------------------------------------------------------------------------------------
# the verbs


def _require_no_markers(repo: Path) -> None:
    """Conflict markers an earlier update wrote and a `git commit -a` committed are still conflicts:
    refuse (exit 3) rather than report success on top of them (P6)."""
    from mlscaffold.vcs import files_with_line_start

    marked = files_with_line_start(repo, f"{MARKER} yours")
    if marked:
        raise MergeConflictsRemain(
            f"{len(marked)} file(s) still hold conflict markers from an earlier update "
            f"({name_paths(marked)}); resolve them, commit, and run "
            "`mlscaffold update` again",
            tuple(marked),
        )


def _require_clean(repo: Path) -> None:
    from mlscaffold.vcs import uncommitted_paths

    dirty = uncommitted_paths(repo)
    if dirty:
        listed = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise UserError(
            f"{repo}: the repository has uncommitted changes ({listed}); "
            "commit or stash them (and resolve any conflicts), then run `mlscaffold update` again"
        )


@dataclass(frozen=True)
class _Options:
    conflict: ConflictMode = "inline"
    sources: AnswerSources = AnswerSources(defaults=True)
    dry_run: bool = False
    trust: bool = False


@dataclass(frozen=True)
class _Merge:
    """A planned update: the base it merges against, what the templates render now, and the plan."""

    base_id: str
    base: dict[str, Blob]
    rendered: dict[str, FileSpec]
    theirs: dict[str, Blob]
    plan: _Plan


def update_project(
    *,
    repo: Path = Path("."),
    to: str | None = None,
    conflict: ConflictMode = "inline",
    sources: AnswerSources | None = None,
    dry_run: bool = False,
    trust: bool = False,
) -> UpdateResult:
    """Merge what the templates render today into the repo (see the module docstring). `sources`
    gives --answers and --set values over the recorded answers; update never asks, so its `asker` is
    not used and questions new in the template take their defaults."""
    from mlscaffold.engine.write import exclusive

    repo = repo_root(repo)
    record = read_record(repo)
    if conflict not in ("inline", "rej"):
        raise UserError(f"--conflict {conflict!r}: expected 'inline' or 'rej'")
    options = _Options(conflict, sources or AnswerSources(defaults=True), dry_run, trust)
    with exclusive(repo):
        _require_clean(repo)
        _require_no_markers(repo)
        with template_at(record.template_source, to, repo) as tset:
            merge = _plan_update(repo, record, tset, options)
            plan = merge.plan
            result = UpdateResult(repo, record.template_version, tset.version, tuple(plan.outcomes), dry_run)
            if dry_run:
                return replace(result, diff=changes_diff(repo, plan.changes))
            if _unchanged(merge.base, merge.theirs, record, merge.rendered):
                _promote_pending(repo, merge.base_id)
                return result  # nothing changed in the templates: no file is touched (P13)
            return _write_update(repo, tset, merge, result)


def _plan_update(repo: Path, record: Record, tset: TemplateSet, options: _Options) -> _Merge:
    """Everything an update decides, read-only: refuse going backwards, find the base, render, merge."""
    from mlscaffold.engine.project import render_project

    tset.require_trust(options.trust)
    if _older(tset.version, record.template_version):
        raise UserError(
            f"template '{tset.source}' is version {tset.version}, older than the {record.template_version} "
            "this repo was generated with; refusing to go backwards (use --to with a newer ref)"
        )
    base_id, base = pristine_base(repo, record)
    answers = recorded_answers(tset, record, options.sources)
    stages = tset.order_stages([s for s in record.stages if s in tset.stages])
    answers = {**answers, "stages": stages}
    rendered = render_project(
        tset, answers, stages, trusted=options.trust, extra=template_context(tset.advice, answers)
    )
    theirs = blobs(rendered)
    labels = ("yours", f"template {record.template_version}", f"template {tset.version}")  # see MARKER
    return _Merge(
        base_id, base, rendered, theirs, _plan_merge(repo, base_id, base, theirs, options.conflict, labels)
    )


def _write_update(repo: Path, tset: TemplateSet, merge: _Merge, result: UpdateResult) -> UpdateResult:
    """Store the new pristine commit, apply the plan all-or-nothing, then move the refs."""
    from mlscaffold.vcs import set_pristine_ref, set_ref, write_pristine

    message = f"mlscaffold: pristine rendering of {tset.name} {tset.version}"
    new_id = write_pristine(repo, merge.theirs, parent=merge.base_id, message=message)
    plan = merge.plan
    # The record moves with the files only when git itself holds every conflict as unmerged: git then
    # refuses any commit until the user resolved them, so the new record can only be committed
    # together with the resolution (and a reset drops both). See docs/update.md.
    held = all(path in plan.unmerged for path in result.conflicts)
    if held:
        new_record = replace(rendered_record(merge.rendered), pristine=new_id)
        plan.changes.append(Change(RECORD_NAME, "modify", new_record.to_yaml().encode("utf-8"), 0o644))
    _apply_with_index(repo, plan)
    if result.conflicts:
        if held:
            set_ref(repo, PENDING_REF, new_id)  # keeps the pending pristine reachable until resolved
        return replace(result, pending=new_id if held else None)
    set_pristine_ref(repo, new_id)
    set_ref(repo, PENDING_REF, None)
    return replace(result, pristine=new_id)


def _apply_with_index(repo: Path, plan: _Plan) -> None:
    """Mark the conflicts in git's index, then write the files; any error or Ctrl-C puts the index
    entries back and `apply_changes` restores the files (P5), so the repo is as it was."""
    from mlscaffold.engine.write import apply_changes
    from mlscaffold.vcs import index_entries, mark_unmerged, restore_index_entries

    paths = sorted(plan.unmerged)
    saved = index_entries(repo, paths)
    try:
        if paths:
            mark_unmerged(repo, plan.unmerged)
        apply_changes(repo, plan.changes)
    except BaseException:
        restore_index_entries(repo, paths, saved)
        raise


def _unchanged(
    base: Mapping[str, Blob], theirs: Mapping[str, Blob], record: Record, rendered: Mapping[str, FileSpec]
) -> bool:
    """No file differs and the record would say the same (only mlscaffold's own version may differ:
    a new mlscaffold with the same templates is not a change to the repo)."""
    if {p: b for p, b in base.items() if p != RECORD_NAME} != {
        p: b for p, b in theirs.items() if p != RECORD_NAME
    }:
        return False
    new = rendered_record(rendered)
    keys = ("template_source", "template_version", "template_name", "answers", "stages")
    return all(getattr(new, key) == getattr(record, key) for key in keys)


def _promote_pending(repo: Path, base_id: str) -> None:
    """After a resolved update was committed, its pristine (named by the record) becomes the ref's."""
    from mlscaffold.vcs import PRISTINE_REF, read_ref, set_pristine_ref, set_ref

    if read_ref(repo, PENDING_REF) == base_id and read_ref(repo, PRISTINE_REF) != base_id:
        set_pristine_ref(repo, base_id)
        set_ref(repo, PENDING_REF, None)


def diff_project(*, repo: Path = Path("."), trust: bool = False) -> str:
    """A unified diff from what the templates would render today (a/) to the repo (b/); "" when the
    repo matches."""
    _, found = drift(repo, trust=trust)
    return "".join(unified(d.expected or b"", d.actual or b"", f"a/{d.path}", f"b/{d.path}") for d in found)


def format_update(result: UpdateResult) -> str:
    """The report the CLI prints."""
    head = "would update" if result.dry_run else "updated"
    if not result.outcomes and result.pristine:
        versions = f"{result.from_version} -> {result.to_version}"
        return f"updated {result.repo}: template {versions} (only {RECORD_NAME} changed)"
    if not result.outcomes:
        return f"nothing to update: {result.repo} matches template {result.to_version}"
    lines = [f"{head} {result.repo}: template {result.from_version} -> {result.to_version}"]
    for outcome in result.outcomes:
        note = f" ({outcome.note})" if outcome.note else ""
        lines.append(f"  {outcome.status:<9} {outcome.path}{note}")
    if result.conflicts and not result.dry_run:
        if result.pending:
            lines.append(
                f"git lists them as unmerged; resolve them (and delete any .rej file), `git add` them and "
                f"commit: {RECORD_NAME} already names template {result.to_version} and goes in that commit"
            )
        else:
            lines.append("move what blocks these paths, commit the rest, then run `mlscaffold update` again")
    if result.dry_run and result.diff:
        lines.append(result.diff.rstrip("\n"))
    return "\n".join(lines)
