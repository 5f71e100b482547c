"""The verbs of mlscaffold as keyword-only functions that return result dataclasses and never print."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import AnswerError, ConflictError, MlscaffoldError, UserError
from .record import RECORD_NAME, Record
from .render import FileSpec, merge_specs, move_into_place, render_unit, staging_beside, write_tree
from .templates import TemplateSet, Unit, fetched_templates, load_template_set
from .tomledit import add_dependencies

# Answers the engine itself understands, even when a template set asks no question about them.
ENGINE_KEYS = frozenset({"stages", "package_name", "project_slug"})


@dataclass(frozen=True)
class NewResult:
    dest: Path
    files: tuple[str, ...]
    stages: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    dry_run: bool = False
    commit: str | None = None


@dataclass(frozen=True)
class StageInfo:
    name: str
    purpose: str
    needs: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class AnswerSources:
    """Where answers come from, before precedence: --set > --answers > record > defaults."""

    answers_file: Path | None = None
    set_values: tuple[str, ...] = ()
    defaults: bool = False
    interactive: bool = False
    recorded: Mapping[str, Any] = field(default_factory=dict)
    project_name_default: str | None = None  # the folder the user named, when they named one


# ---------------------------------------------------------------------------------------------------
# shared pieces


@contextlib.contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Refuse a second mlscaffold run on the same folder at the same time (promise P15)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"{folder}: another mlscaffold run is using this folder; retry when it ends"
            ) from None
        yield
    finally:
        os.close(fd)


def gather_answers(
    tset: TemplateSet,
    sources: AnswerSources,
    stage_units: Sequence[Unit] = (),
    later: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Merge the answer sources and ask or default whatever is still missing. Keys in `later` (the
    questions of stages not chosen yet) are left for a later call."""
    from .answers import collect_answers
    from .jinja_env import make_environment
    from .questions import load_questions

    given = {**sources.recorded, **user_given(sources)}
    for key, value in tset.locked.items():
        if key in given and given[key] != value and str(given[key]) != str(value):
            raise AnswerError(key, f"locked to {value!r} by the team template '{tset.source}'")
        given[key] = value
    questions = list(load_questions(list(tset.questions), str(tset.root / "template.yaml")))
    for unit in (tset.base, *stage_units):  # a unit's own question replaces the set's of that name
        for question in load_questions(list(unit.questions), str(unit.root / "manifest.yaml")):
            names = [q.name for q in questions]
            if question.name in names:
                questions[names.index(question.name)] = question
            else:
                questions.append(question)
    questions = [_stages_choices(q, tset) if q.name == "stages" else q for q in questions]
    if sources.project_name_default:  # the folder the user named is the project's default name
        questions = [
            dataclasses.replace(q, default=sources.project_name_default) if q.name == "project_name" else q
            for q in questions
        ]
    asked = {q.name for q in questions}
    for key in later - asked:
        given.pop(key, None)
    engine = {k: given.pop(k) for k in ENGINE_KEYS - asked if k in given}
    answers = collect_answers(
        questions,
        given=given,
        interactive=sources.interactive and not sources.defaults,
        env=make_environment(),
    )
    answers = {**answers, **engine}
    check_answers(answers)
    return answers


def user_given(sources: AnswerSources) -> dict[str, Any]:
    """What the user said: --answers, then --set on top (before the record and defaults)."""
    from .answers import load_answers_file, parse_set_values

    given: dict[str, Any] = {}
    if sources.answers_file is not None:
        given.update(load_answers_file(sources.answers_file))
    given.update(parse_set_values(list(sources.set_values)))
    return given


def _stages_choices(question: Any, tset: TemplateSet) -> Any:
    """The `stages` question offers the stages of the template set in use (a team's own included)."""
    from .questions import Choice

    choices = tuple(
        Choice(name, f"{name}: {unit.purpose}" if unit.purpose else name)
        for name, unit in tset.stages.items()
    )
    return dataclasses.replace(question, choices=choices, default=list(tset.stages))


_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@")
_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def _has_password(text: str) -> bool:
    """A URL with a literal password (`${VAR}` placeholders are fine: the project expands them)."""
    return any(not _PLACEHOLDER.fullmatch(m.group(1)) for m in _CREDENTIALS.finditer(text))


def check_answers(answers: Mapping[str, Any]) -> None:
    """Checks the engine makes on every answer set: names that become paths are single, safe segments
    (P1), and no answer carries a password inside a URL (P10: it would land in the record and git)."""
    from .questions import check_package_name

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
            if isinstance(text, str) and _has_password(text):
                raise AnswerError(
                    key,
                    "contains a password inside a URL; keep secrets out of the repo: put it in an "
                    "environment variable and write ${VARIABLE} in its place",
                )


def build_context(tset: TemplateSet, answers: Mapping[str, Any], stages: Sequence[str]) -> dict[str, Any]:
    """What templates see: every answer, derived names, versions and the stage list."""
    from .answers import derived_names
    from .feasibility import feasibility_warnings

    context = dict(answers)
    slug, package = derived_names(str(answers.get("project_name", "ml-project")))
    context.setdefault("project_slug", slug)
    context.setdefault("package_name", package)
    context.update(
        mlscaffold_version=__version__,
        template_version=tset.version,
        template_name=tset.name,
        stages=list(stages),
    )
    # The wizard's advice, recorded in the formulation; computed from the answers alone (no file
    # reads), so every later rendering of the same answers gives the same bytes.
    context.setdefault("advice", feasibility_warnings(answers))
    context["cookiecutter"] = dict(context)
    return context


def register_stage_dependencies(files: dict[str, FileSpec], units: Sequence[Unit]) -> None:
    """Add each stage's dependencies to the rendered pyproject.toml (one mechanism for new and add)."""
    spec = files.get("pyproject.toml")
    deps = [d for unit in units for d in unit.dependencies]
    dev = [d for unit in units for d in unit.dev_dependencies]
    if spec is None or not (deps or dev):
        return
    text = add_dependencies(spec.content.decode("utf-8"), deps, dev)
    files["pyproject.toml"] = FileSpec(spec.path, text.encode("utf-8"), spec.mode, spec.origin)


def render_project(
    tset: TemplateSet, answers: Mapping[str, Any], stages: Sequence[str], *, trusted: bool
) -> dict[str, FileSpec]:
    """Render the base and the given stages, register dependencies, and add the record."""
    units = [tset.stage(name) for name in stages]
    context = build_context(tset, answers, stages)
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
    from .shared_files import SHARED, detect_layout, merge_shared_file, relayout

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


def run_template_code(units: Sequence[Unit], which: str, cwd: Path, context: Mapping[str, Any]) -> None:
    """Run a trusted template's code for the units being applied: cookiecutter-style hooks
    (hooks/pre_gen_project.py, hooks/post_gen_project.py) and, after generation, each unit's `tasks`
    (argument lists split like a shell would, run without a shell)."""
    import json
    import shlex

    env = {**os.environ, "MLSCAFFOLD_ANSWERS": json.dumps(dict(context), default=str)}
    for unit in units:
        commands = [[sys.executable, str(unit.root / "hooks" / f"{which}.py")]]
        if not (unit.root / "hooks" / f"{which}.py").is_file():
            commands = []
        if which == "post_gen_project":
            commands += [shlex.split(task) for task in unit.tasks]
        for argv in commands:
            try:
                done = subprocess.run(argv, cwd=cwd, env=env, check=False)
            except OSError as err:
                raise MlscaffoldError(f"{unit.name}: cannot run {argv[0]}: {err.strerror}") from err
            if done.returncode != 0:
                shown = " ".join(argv[1:] if argv[0] == sys.executable else argv)
                raise MlscaffoldError(
                    f"{unit.name}: the template's code failed: {shown} (exit {done.returncode})"
                )


# ---------------------------------------------------------------------------------------------------
# verbs


def list_stages(*, template: str | None = None) -> list[StageInfo]:
    with fetched_templates():
        tset = load_template_set(template)
    return [StageInfo(u.name, u.purpose, u.needs, tset.source) for u in tset.stages.values()]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _chosen_stages(tset: TemplateSet, answers: Mapping[str, Any]) -> list[str]:
    chosen = answers.get("stages") or list(tset.stages)
    if isinstance(chosen, str):
        chosen = [s.strip() for s in chosen.split(",") if s.strip()]
    return tset.order_stages(list(chosen))


def _user_named_paths(sources: AnswerSources) -> tuple[str, ...]:
    """The data path the user gave (--set or --answers): the only file the advice may read (P2)."""
    path = user_given(sources).get("data_path")
    return (str(path),) if path else ()


def _check_destination(dest: Path) -> None:
    if not dest.parent.is_dir():
        raise UserError(f"{dest.parent}: the folder to create the project in does not exist")
    if dest.is_symlink():
        raise ConflictError(f"{dest}: the destination is a symlink; choose a real folder")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConflictError(
            f"{dest}: the destination already exists and is not empty; "
            "choose a new folder, or use `mlscaffold add` to add stages to an existing repo"
        )


def new_project(
    *,
    dest: Path | None,
    template: str | None = None,
    sources: AnswerSources = AnswerSources(),
    dry_run: bool = False,
    trust: bool = False,
    git: bool = True,
) -> NewResult:
    """Generate a new project: ask, render into a staging folder beside `dest`, move it into place."""
    with fetched_templates():
        return _new_project(
            dest=dest, template=template, sources=sources, dry_run=dry_run, trust=trust, git=git
        )


def _new_project(
    *, dest: Path | None, template: str | None, sources: AnswerSources, dry_run: bool, trust: bool, git: bool
) -> NewResult:
    from .answers import feasibility_warnings

    tset = load_template_set(template)
    tset.require_trust(trust)
    if dest is not None:
        _check_destination(dest.absolute())
        sources = replace(sources, project_name_default=dest.absolute().name)
    stage_keys = frozenset(
        str(q.get("name")) for u in tset.stages.values() for q in u.questions if isinstance(q, dict)
    )
    answers = gather_answers(tset, sources, later=stage_keys)
    stages = _chosen_stages(tset, answers)
    asking = [tset.stage(name) for name in stages if tset.stage(name).questions]
    if asking:  # a chosen stage's own questions, asked once the stages are known
        answers = gather_answers(tset, replace(sources, recorded=answers), asking)
    answers = {**answers, "stages": stages}
    context = build_context(tset, answers, stages)
    target = (dest if dest is not None else Path(context["project_slug"])).absolute()
    _check_destination(target)
    files = render_project(tset, answers, stages, trusted=trust)
    warnings = tuple(feasibility_warnings(answers, named_paths=_user_named_paths(sources)))
    names = tuple(sorted(files))
    if dry_run:
        return NewResult(target, names, tuple(stages), warnings, dry_run=True)
    units = [tset.base, *(tset.stage(name) for name in stages)]
    with exclusive(target.parent), staging_beside(target) as staging:
        if trust:
            run_template_code(units, "pre_gen_project", staging, context)
        write_tree(staging, files.values())
        if trust:
            run_template_code(units, "post_gen_project", staging, context)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp made it private; a project folder is not
        commit = None
        if git:
            from .update import store_first_pristine
            from .vcs import init_and_commit

            store_first_pristine(staging, files)
            commit = init_and_commit(
                staging, f"Generate {context['project_slug']} with mlscaffold {__version__}"
            )
        move_into_place(staging, target)
    return NewResult(target, names, tuple(stages), warnings, commit=commit)
