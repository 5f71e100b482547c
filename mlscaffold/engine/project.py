"""From (template set, answers, stages) to the planned files of a project: context, rendering, record.

Pure: reads the template set and returns `FileSpec`s; writing is `engine.write`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlscaffold._version import __version__
from mlscaffold.engine.names import check_package_name, derived_names, has_password_in_url
from mlscaffold.engine.record import RECORD_NAME, Record
from mlscaffold.engine.render import FileSpec, merge_specs, render_unit
from mlscaffold.engine.templates import TemplateSet, Unit
from mlscaffold.errors import AnswerError

# Answers the engine itself understands, even when a template set asks no question about them.

ENGINE_KEYS = frozenset({"stages", "package_name", "project_slug", "base_package"})


_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_answers(answers: Mapping[str, Any], owned: frozenset[str] = frozenset()) -> None:
    """Checks the engine makes on every answer set: names that become paths are single, safe segments
    (P1), and no answer carries a password inside a URL (P10: it would land in the record and git).
    `owned`: answers that are a cookiecutter template's own variables (a `package_name` that is a
    distribution name like `acme-tools` is fine there); its rendered paths are checked instead."""
    slug = answers.get("project_slug") if "project_slug" not in owned else None
    if slug is not None and not (isinstance(slug, str) and _FOLDER_NAME.fullmatch(slug)):
        raise AnswerError(
            "project_slug", f"{slug!r} is not a folder name like churn-model (letters, digits, ._-)"
        )
    package = answers.get("package_name") if "package_name" not in owned else None
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


@dataclass(frozen=True)
class ProjectPlan:
    """A whole project's files, and (on a cookiecutter base) the merges made and the next step."""

    files: dict[str, FileSpec]
    merges: tuple[str, ...] = ()
    next_step: str = ""


def render_project(
    tset: TemplateSet,
    answers: Mapping[str, Any],
    stages: Sequence[str],
    *,
    trusted: bool,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, FileSpec]:
    """Render the base and the given stages, register dependencies, and add the record (no hooks)."""
    return plan_project(tset, answers, stages, trusted=trusted, extra=extra).files


def plan_project(
    tset: TemplateSet,
    answers: Mapping[str, Any],
    stages: Sequence[str],
    *,
    trusted: bool,
    extra: Mapping[str, Any] | None = None,
    hooks: bool = False,
    output_dir: Path | None = None,
    choose_package: Callable[[Sequence[str]], str] | None = None,
) -> ProjectPlan:
    """`render_project`, with what `new` also needs: a cookiecutter base's hooks run when `hooks` (and
    trusted), `output_dir` is where cookiecutter would write (its `_output_dir`), `choose_package`
    picks the template's package when it has several and no answer names one (a person on a terminal;
    None: that is an error naming `base_package`)."""
    if tset.base.is_cookiecutter:
        return _on_cookiecutter(tset, answers, stages, trusted, extra, hooks, output_dir, choose_package)
    units = [tset.stage(name) for name in stages]
    context = build_context(tset, answers, stages, extra)
    base = render_unit(tset.base, context, trusted=trusted)
    groups = [render_unit(unit, context, trusted=trusted) for unit in units]
    files = merge_specs([base, *groups])
    register_stage_dependencies(files, [tset.base, *units])
    record = make_record(tset, answers, {name: tset.version for name in stages})
    files[RECORD_NAME] = FileSpec(RECORD_NAME, record.to_yaml().encode("utf-8"), 0o644, "record")
    return ProjectPlan(files)


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


def _on_cookiecutter(
    tset: TemplateSet,
    answers: Mapping[str, Any],
    stages: Sequence[str],
    trusted: bool,
    extra: Mapping[str, Any] | None,
    hooks: bool,
    output_dir: Path | None,
    choose_package: Callable[[Sequence[str]], str] | None = None,
) -> ProjectPlan:
    """The cookiecutter template rendered by cookiecutter; the mlscaffold base and the stages fitted
    beside it (engine.ccbase); the record keeps the template's answers and the package it found."""
    from mlscaffold.engine import ccbase, fit
    from mlscaffold.engine.edits import relayout

    assert tset.overlay is not None
    units = [tset.overlay, *(tset.stage(name) for name in stages)]
    rendered = ccbase.render_base(tset.base, answers, trusted=trusted, hooks=hooks, output_dir=output_dir)
    with ccbase.on_disk(rendered) as repo:
        facts = ccbase.facts_for(repo, rendered, answers, choose_package)
        context = build_context(tset, {**answers, "package_name": facts.pipeline}, stages, extra)
        groups = [render_unit(unit, context, trusted=trusted) for unit in units]
        specs = relayout(merge_specs(groups).values(), facts.pipeline, facts.layout)
        fitted = fit.fit_specs(repo, facts, specs, units)
        composed = ccbase.compose(rendered, fitted, facts, tset.base.root)
    files = composed.files
    if files.get("pyproject.toml") is not None and files["pyproject.toml"].force_add:
        register_stage_dependencies(files, units)  # a new pyproject.toml: mlscaffold's own
    recorded = {**answers, ccbase.BASE_PACKAGE: facts.package or ""}  # `add` finds the pipeline by it
    record = make_record(tset, recorded, {name: tset.version for name in stages})
    files[RECORD_NAME] = FileSpec(RECORD_NAME, record.to_yaml().encode("utf-8"), 0o644, "record")
    return ProjectPlan(files, composed.merges, composed.next_step)
