"""The pristine rendering: what the templates rendered at the last generation, kept as a git commit
(ref refs/mlscaffold/pristine) so that add and update have a three-way merge base."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from mlscaffold.engine.record import RECORD_NAME, Record, read_record
from mlscaffold.engine.render import FileSpec
from mlscaffold.errors import UserError
from mlscaffold.vcs import Blob, FileBlob


def pristine_base(repo: Path, record: Record) -> tuple[str, dict[str, Blob]]:
    """The pristine rendering of the last generation: the commit the record names, else the ref,
    else (a fresh clone of a never-updated repo) mlscaffold's own generation commit."""
    from mlscaffold.vcs import has_commit, pristine_commit, pristine_ref_name, tree_files

    if record.pristine:
        # The record names the exact base. If that commit is absent, the ref (when there is one) holds
        # some other generation, and a wrong base can revert edits: only the generation commit is safe.
        sha = record.pristine if has_commit(repo, record.pristine) else _generation_commit(repo, record)
    else:
        sha = pristine_commit(repo) or _generation_commit(repo, record)
    if sha is None:
        ref = pristine_ref_name(repo)
        raise UserError(
            f"{repo}: the pristine rendering (git ref {ref}) is missing, so there is no merge "
            f"base; fetch it from the repo you cloned (git fetch origin '{ref}:{ref}'), "
            f"and push it after each update (git push origin {ref})"
        )
    return sha, tree_files(repo, sha)


def _generation_commit(repo: Path, record: Record) -> str | None:
    """The commit `mlscaffold new` made, when the repo is still at that generation: its tree is the
    pristine rendering (only the record's `pristine:` line differs, and the record is never merged).
    A commit that may hold user edits is never used: a wrong base could revert them."""
    from mlscaffold.vcs import commit_message, commits_adding, repo_prefix

    if repo_prefix(repo):  # a project in a subfolder: the repository's commits hold more than it
        return None
    added = commits_adding(repo, RECORD_NAME)
    if not added or "with mlscaffold" not in commit_message(repo, added[0]).splitlines()[0]:
        return None
    first = _record_at(repo, added[0])
    same = (first.template_source, first.template_version, first.stages, first.pristine)
    now = (record.template_source, record.template_version, record.stages, record.pristine)
    return added[0] if same == now else None


def _record_at(repo: Path, commit: str) -> Record:
    from mlscaffold.vcs import tree_files

    with tempfile.TemporaryDirectory(prefix="mlscaffold-record-") as scratch:
        (Path(scratch) / RECORD_NAME).write_bytes(tree_files(repo, commit)[RECORD_NAME].content)
        return read_record(Path(scratch))


def blobs(files: Mapping[str, FileSpec]) -> dict[str, Blob]:
    return {path: Blob(spec.content, 0o755 if spec.mode & 0o111 else 0o644) for path, spec in files.items()}


def _stored_blob(spec: FileSpec) -> Blob | FileBlob:
    """A copied file is stored by git straight from the template (P11); a rendered one from memory."""
    mode = 0o755 if spec.mode & 0o111 else 0o644
    return FileBlob(spec.source, mode) if spec.source is not None else Blob(spec.data, mode)


def rendered_record(rendered: Mapping[str, FileSpec]) -> Record:
    """The record the templates just rendered, read back through the one record reader."""
    with tempfile.TemporaryDirectory(prefix="mlscaffold-record-") as scratch:
        (Path(scratch) / RECORD_NAME).write_bytes(rendered[RECORD_NAME].content)
        return read_record(Path(scratch))


def store_first_pristine(staging: Path, files: Mapping[str, FileSpec]) -> str:
    """For `new`: git-init the staging folder, store the rendering as the first pristine commit,
    point the ref at it and write its id into the record; the caller then makes the first commit."""
    from mlscaffold.vcs import init_repo

    init_repo(staging)
    return store_pristine_in(staging, files, first=True)


def store_pristine_in(project: Path, files: Mapping[str, FileSpec], *, first: bool = False) -> str:
    """Store the rendering as the project's pristine commit in the git repository it is in (its own,
    or the monorepo around it), point its ref at it and write the id into the record."""
    from mlscaffold.vcs import set_pristine_ref, write_pristine

    stored = {path: _stored_blob(spec) for path, spec in files.items()}
    pristine = write_pristine(project, stored, parent=None, message="mlscaffold: pristine rendering")
    set_pristine_ref(project, pristine, "0" * 40 if first else None)
    record = replace(rendered_record(files), pristine=pristine)
    (project / RECORD_NAME).write_bytes(record.to_yaml().encode("utf-8"))
    return pristine


def on_disk(repo: Path, path: str) -> tuple[Blob | None, bool]:
    """The work tree's version of `path` and whether it is a plain file (or absent)."""
    import os
    import stat

    target = repo / path
    for parent in list(target.relative_to(repo).parents)[:-1]:
        if (repo / parent).is_symlink() or (repo / parent).is_file():
            return None, False
    try:
        st = os.lstat(target)
    except (FileNotFoundError, NotADirectoryError):
        return None, True
    if not stat.S_ISREG(st.st_mode):
        return None, False
    return Blob(target.read_bytes(), 0o755 if st.st_mode & 0o111 else 0o644), True
