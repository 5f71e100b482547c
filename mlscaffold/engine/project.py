"""From (template set, answers, stages) to the planned files of a project: context, rendering, record.

Pure: reads the template set and returns `FileSpec`s; writing is `engine.write`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mlscaffold._version import __version__
from mlscaffold.engine.names import check_package_name, derived_names, has_password_in_url
from mlscaffold.engine.record import RECORD_NAME, Record
from mlscaffold.engine.render import FileSpec, merge_specs, render_unit
from mlscaffold.engine.templates import TemplateSet, Unit
from mlscaffold.errors import AnswerError

# Answers the engine itself understands, even when a template set asks no question about them.

ENGINE_KEYS = frozenset({"stages", "package_name", "project_slug"})


_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_answers(answers: Mapping[str, Any]) -> None:
    """Checks the engine makes on every answer set: names that become paths are single, safe segments
    (P1), and no answer carries a password inside a URL (P10: it would land in the record and git)."""
    slug = answers.get("project_slug")
    if slug is not None and not (isinstance(slug, str) and _FOLDER_NAME.fullmatch(slug)):
        raise AnswerError(
            "project_slug", f"{slug!r} is not a folder name like churn-model (letters, digits, ._-)"
        )
    package = answers.get("package_name")
    if package is not None:
        check_package_name(str(package))
    for key, value in answers.items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and has_password_in_url(text):
                raise AnswerError(
                    key,
                    "contains a password inside a URL; keep secrets out of the repo: put it in an "
                    "environment variable and write ${VARIABLE} in its place",
                )


def build_context(
    tset: TemplateSet,
    answers: Mapping[str, Any],
    stages: Sequence[str],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What templates see: every answer, derived names, versions, the stage list, and `extra` (what the
    caller adds, such as the wizard's advice)."""
    context = {**(extra or {}), **answers}
    slug, package = derived_names(str(answers.get("project_name", "ml-project")))
    context.setdefault("project_slug", slug)
    context.setdefault("package_name", package)
    context.update(
        mlscaffold_version=__version__,
        template_version=tset.version,
        template_name=tset.name,
        stages=list(stages),
    )
    context["cookiecutter"] = dict(context)
    return context


def register_stage_dependencies(files: dict[str, FileSpec], units: Sequence[Unit]) -> None:
    """Add each stage's dependencies to the rendered pyproject.toml (one mechanism for new and add)."""
    spec = files.get("pyproject.toml")
    deps = [d for unit in units for d in unit.dependencies]
    dev = [d for unit in units for d in unit.dev_dependencies]
    if spec is None or not (deps or dev):
        return
    from mlscaffold.engine.tomledit import add_dependencies  # tomlkit: only when there is work for it

    text = add_dependencies(spec.content.decode("utf-8"), deps, dev)
    files["pyproject.toml"] = FileSpec(spec.path, text.encode("utf-8"), spec.mode, spec.origin)


def render_project(
    tset: TemplateSet,
    answers: Mapping[str, Any],
    stages: Sequence[str],
    *,
    trusted: bool,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, FileSpec]:
    """Render the base and the given stages, register dependencies, and add the record."""
    units = [tset.stage(name) for name in stages]
    context = build_context(tset, answers, stages, extra)
    base = render_unit(tset.base, context, trusted=trusted)
    groups = [render_unit(unit, context, trusted=trusted) for unit in units]
    if tset.overlay is not None:
        base, groups = _layer_on_cookiecutter(tset.overlay, base, units, context, trusted)
    files = merge_specs([base, *groups])
    register_stage_dependencies(files, [tset.base, *([tset.overlay] if tset.overlay else []), *units])
    if tset.overlay is not None:  # record the package the files were built with (the cookiecutter's)
        answers = {**answers, "package_name": context["package_name"]}
    record = make_record(tset, answers, {name: tset.version for name in stages})
    files[RECORD_NAME] = FileSpec(RECORD_NAME, record.to_yaml().encode("utf-8"), 0o644, "record")
    return files


def make_record(
    tset: TemplateSet, answers: Mapping[str, Any], stages: Mapping[str, str], pristine: str | None = None
) -> Record:
    """The record of a rendering: this mlscaffold, the exact template, every answer, each stage."""
    return Record(
        mlscaffold_version=__version__,
        template_source=tset.source,
        template_version=tset.version,
        template_name=tset.name,
        template_commit=tset.commit,
        answers=dict(answers),
        stages=dict(stages),
        pristine=pristine,
    )


def _layer_on_cookiecutter(
    overlay: Unit, base: list[FileSpec], units: Sequence[Unit], context: dict[str, Any], trusted: bool
) -> tuple[list[FileSpec], list[list[FileSpec]]]:
    """A cookiecutter base keeps its files; the mlscaffold base adds what stages plug into, fitted to the
    cookiecutter's package and layout, and edits shared files (Makefile, .gitignore) minimally."""
    from mlscaffold.engine.edits import SHARED, detect_layout, merge_shared_file, relayout

    package, layout = detect_layout(spec.path for spec in base)
    if package is not None:  # the caller's context learns the package, for the record
        context["package_name"] = package
        context["cookiecutter"] = {**context["cookiecutter"], "package_name": package}
    fit = str(context["package_name"])
    merged = {spec.path: spec for spec in base}
    for spec in relayout(render_unit(overlay, context, trusted=trusted), fit, layout):
        mine = merged.get(spec.path)
        if mine is None:
            merged[spec.path] = spec
        elif spec.path in SHARED:
            edited = merge_shared_file(spec.path, mine.content, spec.content)
            if edited is not None:
                merged[spec.path] = FileSpec(spec.path, edited, mine.mode, mine.origin)
    groups = [relayout(render_unit(unit, context, trusted=trusted), fit, layout) for unit in units]
    return list(merged.values()), groups
