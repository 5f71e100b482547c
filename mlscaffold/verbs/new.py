"""`new`: ask, render the whole project, and move it into place from a staging folder (all-or-nothing).

Also `list_stages` (the `stages` command). Keyword-only, returns result dataclasses, never prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlscaffold._version import __version__
from mlscaffold.engine.hooks import run_template_code
from mlscaffold.engine.project import build_context, plan_project
from mlscaffold.engine.render import FileSpec
from mlscaffold.engine.templates import TemplateSet, fetched_templates, load_template_set
from mlscaffold.engine.write import exclusive, move_into_place, staging_beside, write_tree
from mlscaffold.errors import ConflictError, UserError
from mlscaffold.wizard.advice import advice_for, template_context
from mlscaffold.wizard.probe import Prober
from mlscaffold.wizard.sources import AnswerSources, gather_answers, user_given


@dataclass(frozen=True)
class NewResult:
    dest: Path
    files: tuple[str, ...]
    stages: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    dry_run: bool = False
    commit: str | None = None
    merges: tuple[str, ...] = ()  # on a cookiecutter base: each merge into the template's files
    next_step: str = ""  # on a cookiecutter base: install, pipeline and tests, with its own commands


@dataclass(frozen=True)
class StageInfo:
    name: str
    purpose: str
    needs: tuple[str, ...]
    source: str


# ---------------------------------------------------------------------------------------------------
# shared pieces


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
    chosen = answers.get("stages") or tset.default_stages
    if isinstance(chosen, str):
        chosen = [s.strip() for s in chosen.split(",") if s.strip()]
    return tset.order_stages(list(chosen))


def _user_named_paths(sources: AnswerSources) -> tuple[str, ...]:
    """The data path the user gave (--set or --answers): the only file the advice may read (P2)."""
    path = user_given(sources).get("data_path")
    return (str(path),) if path else ()


RAW_DATA = "data/raw"


def _copied_data(answers: Mapping[str, Any], named: tuple[str, ...]) -> FileSpec | None:
    """The user's own CSV or Parquet file (a local file they named: the only file read, P2), copied
    into data/raw/ so the project refers to it by a path relative to itself and runs wherever it
    is cloned, rather than through an absolute path on one machine."""
    path = answers.get("data_path")
    if answers.get("data_source") not in ("csv", "parquet") or not isinstance(path, str):
        return None
    if path not in named or "://" in path or "$" in path:
        return None
    source = Path(path).expanduser()
    if not source.is_file():
        return None  # the data stage names the missing file when it runs
    if not os.access(source, os.R_OK):
        raise UserError(f"data_path: cannot read {source}: permission denied")
    # streamed when written (FileSpec.source): a large data file is never held in memory
    return FileSpec(path=f"{RAW_DATA}/{source.name}", source=source, origin=str(source))


def _sample_finder(tset: TemplateSet) -> Callable[[str], Path | None]:
    """The shipped sample of a task type: the base's data/sample/ file whose name renders for it."""
    from mlscaffold.engine.jinja_env import make_environment, render_text

    base = tset.overlay if tset.base.is_cookiecutter and tset.overlay is not None else tset.base
    folder = base.files_root / "data" / "sample"  # on a cookiecutter base: the mlscaffold base's
    env = make_environment()

    def sample_for(task_type: str) -> Path | None:
        if not folder.is_dir():
            return None
        for path in sorted(folder.iterdir()):
            where = f"{path}: file name"
            if path.is_file() and render_text(env, path.name, {"task_type": task_type}, where).strip():
                return path
        return None

    return sample_for


def _package_chooser(sources: AnswerSources) -> Callable[[Sequence[str]], str] | None:
    """On a terminal, ask which of a cookiecutter template's packages the pipeline sits beside;
    otherwise None (the `base_package` answer must say)."""
    asker = sources.asker
    if asker is None or not sources.interactive:
        return None
    from mlscaffold.engine.ccbase import BASE_PACKAGE
    from mlscaffold.wizard.questions import Choice, Question

    def choose(found: Sequence[str]) -> str:
        question = Question(
            name=BASE_PACKAGE,
            prompt="The template has several packages: which one should the pipeline sit beside?",
            help="The pipeline goes in its own package next to it; `add` and `update` find it there.",
            type="choice",
            choices=tuple(Choice(name, name) for name in found),
            default=found[0],
        )
        return str(asker.ask(question, default=found[0], choices=question.choices, validate=_any_answer))

    return choose


def _any_answer(value: Any) -> str | None:
    return None


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
    sources: AnswerSources = AnswerSources(defaults=True),
    dry_run: bool = False,
    trust: bool = False,
    git: bool = True,
    probe: bool | None = False,
) -> NewResult:
    """Generate a new project: ask, render into a staging folder beside `dest`, move it into place.

    `probe`: run the feasibility probe on the data at hand (True: even with --dry-run or a `probe: false`
    answer; False, the library default: never; None, the CLI's default: unless dry_run or the answer
    says no)."""
    with fetched_templates():
        return _new_project(
            dest=dest, template=template, sources=sources, dry_run=dry_run, trust=trust, git=git, probe=probe
        )


def _new_project(
    *,
    dest: Path | None,
    template: str | None,
    sources: AnswerSources,
    dry_run: bool,
    trust: bool,
    git: bool,
    probe: bool | None,
) -> NewResult:
    tset = load_template_set(template)
    tset.require_trust(trust)
    prober = None
    if probe or (probe is None and not dry_run):
        prober = Prober(_sample_finder(tset), force=bool(probe))
        sources = replace(sources, probe=prober)
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
    named = _user_named_paths(sources)
    advised = answers  # the advice peeks at the file where the user named it
    data_copy = _copied_data(answers, named)
    if data_copy is not None:
        answers = {**answers, "data_path": data_copy.path}
    extra = template_context(tset.advice, answers)
    context = build_context(tset, answers, stages, extra)
    target = (dest if dest is not None else Path(context["project_slug"])).absolute()
    _check_destination(target)
    plan = plan_project(
        tset,
        answers,
        stages,
        trusted=trust,
        extra=extra,
        hooks=trust and not dry_run,
        output_dir=target.parent,
        choose_package=_package_chooser(sources),
    )
    files = plan.files
    if data_copy is not None:
        files[data_copy.path] = data_copy
    warnings = tuple(advice_for(tset.advice, advised, named_paths=named))
    if prober is not None and prober.last is not None:
        warnings += tuple(finding.shown() for finding in prober.last.findings)
    names = tuple(sorted(files))
    if dry_run:
        return NewResult(target, names, tuple(stages), warnings, True, None, plan.merges, plan.next_step)
    # a cookiecutter base's hooks ran inside cookiecutter's own rendering (plan_project)
    units = [*([] if tset.base.is_cookiecutter else [tset.base]), *(tset.stage(name) for name in stages)]
    message = f"Generate {context['project_slug']} with mlscaffold {__version__}"
    inside = git and _in_repository(target.parent)  # a monorepo: no repository nested in it
    with exclusive(target.parent), staging_beside(target) as staging:
        if trust:
            run_template_code(units, "pre_gen_project", staging, context)
        write_tree(staging, files.values(), shown_as=target)
        if trust:
            run_template_code(units, "post_gen_project", staging, context)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp made it private; a project folder is not
        commit = None
        if git and not inside:
            from mlscaffold.engine.pristine import store_first_pristine
            from mlscaffold.vcs import init_and_commit

            store_first_pristine(staging, files)
            commit = init_and_commit(staging, message, [s.path for s in files.values() if s.force_add])
        move_into_place(staging, target)
    if inside:
        commit = _commit_in_enclosing_repo(target, files, message)
    return NewResult(target, names, tuple(stages), warnings, False, commit, plan.merges, plan.next_step)


def _in_repository(folder: Path) -> bool:
    from mlscaffold.vcs import in_repository

    return in_repository(folder)


def _commit_in_enclosing_repo(target: Path, files: Mapping[str, FileSpec], message: str) -> str:
    """A project made inside an existing repository (a monorepo) is committed there, alone: its
    pristine rendering goes in that repository under a ref of its own (see docs/update.md)."""
    from mlscaffold.engine.pristine import store_pristine_in
    from mlscaffold.vcs import commit_paths

    store_pristine_in(target, files)
    return commit_paths(target, ["."], message)
