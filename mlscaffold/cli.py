"""The typer app: parse options, call the API, map errors to exit codes. No logic, no heavy imports."""

from __future__ import annotations

import shlex
import sys
import threading
from collections.abc import Callable
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from mlscaffold import ui
from mlscaffold._version import __version__
from mlscaffold.errors import (
    SHOWN_PATHS,
    ConflictError,
    FindingsError,
    Interrupted,
    MlscaffoldError,
    UserError,
    name_paths,
)

if TYPE_CHECKING:
    from mlscaffold.verbs.add import AddResult
    from mlscaffold.wizard.sources import AnswerSources

T = TypeVar("T")

app = typer.Typer(
    name="mlscaffold",
    help="From a product goal to a monitored ML service: formulate, generate, add stages, check, update.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


class ScoreFormat(StrEnum):
    text = "text"
    json = "json"


class ConflictMode(StrEnum):
    inline = "inline"
    rej = "rej"


Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]
Template = Annotated[
    str | None, typer.Option("--template", help="Team template: a local folder or a git URL[@REF].")
]
AnswersFile = Annotated[
    Path | None, typer.Option("--answers", help="Answers from a YAML or JSON file (may be partial).")
]
SetValues = Annotated[
    list[str] | None,
    typer.Option("--set", help="KEY=VALUE answer (repeatable; lists are comma-separated)."),
]
Defaults = Annotated[bool, typer.Option("--defaults", help="Never prompt; use defaults for the rest.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")]
Trust = Annotated[bool, typer.Option("--trust", help="Allow the template's own code (hooks) to run.")]
RepoPath = Annotated[Path, typer.Argument(help="The repo (default: the current folder).")]
Worktree = Annotated[
    bool,
    typer.Option("--worktree", help="Judge the files on disk, not only what git tracks (the default)."),
]


def _version(value: bool) -> None:
    if value:
        ui.out(f"mlscaffold {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """mlscaffold: the path from a product goal to a deployed, monitored model, as the default."""


def _fail(err: BaseException, debug: bool) -> NoReturn:
    if debug:
        import traceback

        traceback.print_exception(err)
    if isinstance(err, MlscaffoldError):
        paths: tuple[str, ...] = getattr(err, "paths", ())
        if len(paths) > SHOWN_PATHS:  # the error line names the first few; every one is listed above it
            ui.listing(paths)
        if not isinstance(err, FindingsError):
            ui.error(str(err))
        raise typer.Exit(err.exit_code)
    if isinstance(err, KeyboardInterrupt):
        ui.error("interrupted; nothing was written")
        raise typer.Exit(130)
    if isinstance(err, BrokenPipeError):  # the reader left (`| head`): whatever ran has finished
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        raise typer.Exit(141)  # 128 + SIGPIPE, as a shell reports it
    if isinstance(err, OSError):
        where = f"{err.filename}: " if err.filename else ""
        ui.error(f"{where}{err.strerror or err}; nothing was changed")
        raise typer.Exit(1)
    ui.error(f"unexpected {type(err).__name__}: {err} (re-run with --debug for details)")
    raise typer.Exit(1)


def _run(debug: bool, action: Callable[[], T]) -> T:
    try:
        return action()
    except (Exception, KeyboardInterrupt) as err:
        _fail(err, debug)


def _sources(answers: Path | None, set_values: list[str] | None, defaults: bool) -> AnswerSources:
    from mlscaffold.wizard.sources import AnswerSources

    asker = None
    if not defaults and sys.stdin.isatty() and sys.stdout.isatty():
        from mlscaffold.wizard.prompting import QuestionaryAsker

        asker = QuestionaryAsker()
    return AnswerSources(
        answers_file=answers, set_values=tuple(set_values or ()), defaults=defaults, asker=asker
    )


@app.command()
def new(
    dest: Annotated[
        Path | None, typer.Argument(help="Folder to create (default: from the project name).")
    ] = None,
    template: Template = None,
    answers: AnswersFile = None,
    set_values: SetValues = None,
    defaults: Defaults = False,
    dry_run: DryRun = False,
    trust: Trust = False,
    no_git: Annotated[bool, typer.Option("--no-git", help="Do not git init and commit.")] = False,
    probe: Annotated[
        bool | None,
        typer.Option(
            "--probe/--no-probe",
            help="Probe the data at hand (the shipped sample or the file you named) for feasibility: "
            "on by default, off with --dry-run unless --probe.",
        ),
    ] = None,
    debug: Debug = False,
) -> None:
    """Wizard from a product goal to a problem formulation, then generate the project."""

    def action() -> None:
        from mlscaffold.verbs.new import new_project

        sources = _sources(answers, set_values, defaults)
        result = new_project(
            dest=dest,
            template=template,
            sources=sources,
            dry_run=dry_run,
            trust=trust,
            git=not no_git,
            probe=probe,
        )
        if not sources.interactive:  # else the interview already showed the advice
            for warning in result.warnings:
                ui.warn(warning)
        verb = "would merge" if result.dry_run else "merged"
        if result.dry_run:
            ui.out(f"would create {result.dest} with {len(result.files)} files:")
            for name in result.files:
                ui.out(f"  {name}")
        for merge in result.merges:  # a cookiecutter base: each merge into the template's files
            ui.out(f"{verb}: {merge}")
        if result.dry_run:
            return
        ui.out(f"created {result.dest} ({len(result.files)} files; stages: {', '.join(result.stages)})")
        steps = result.next_step or "pip install -e '.[dev]' && make all"
        ui.out(f"next: cd {shlex.quote(str(result.dest))} && {steps}")

    _run(debug, action)


@app.command()
def add(
    stages: Annotated[list[str], typer.Argument(help="Stages to add (see `mlscaffold stages`).")],
    project: Annotated[Path, typer.Option("--project", help="The repo to add to.")] = Path("."),
    template: Template = None,
    answers: AnswersFile = None,
    set_values: SetValues = None,
    defaults: Defaults = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace conflicting files.")] = False,
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="Keep your file where a stage would write one.")
    ] = False,
    package: Annotated[
        str | None,
        typer.Option(
            "--package", help="Your package to wire the pipeline to (when the metadata cannot tell)."
        ),
    ] = None,
    dry_run: DryRun = False,
    trust: Trust = False,
    commit: Annotated[bool, typer.Option("--commit", help="Commit the addition with git.")] = False,
    debug: Debug = False,
) -> None:
    """Add one or more stages to an existing repo, without touching the user's work."""

    def action() -> None:
        from mlscaffold.verbs.add import add_stages

        if overwrite and skip_existing:
            raise UserError("--overwrite and --skip-existing: choose one")
        sources = _sources(answers, set_values, defaults)
        confirm: Callable[[str], bool] | None = None
        choose: Callable[[str, list[str]], str] | None = None
        if sources.interactive:
            from mlscaffold.wizard.prompting import choose as ask_which
            from mlscaffold.wizard.prompting import confirm as ask_yes_no

            confirm, choose = ask_yes_no, ask_which
        result = add_stages(
            repo=project,
            stages=tuple(stages),
            template=template,
            sources=sources,
            overwrite=overwrite,
            dry_run=dry_run,
            trust=trust,
            commit=commit,
            confirm=confirm,
            skip_existing=skip_existing,
            package=package,
            choose=choose,
        )
        for warning in result.warnings:
            ui.warn(warning)
        if result.dry_run:
            ui.out(result.diff or "nothing to change")
            _report_add(result)
            if result.conflicts:
                raise ConflictError(
                    f"{len(result.conflicts)} file(s) exist with other content (diffs above): "
                    f"{name_paths(result.conflicts)}; re-run with --skip-existing to keep yours or "
                    "--overwrite to replace them",
                    result.conflicts,
                )
            return
        if not result.changed:
            ui.out(f"nothing to do: {', '.join(stages)} already in {result.repo}")
            return
        ui.out(f"added {', '.join(result.added)} to {result.repo} ({len(result.changed)} files)")
        _report_add(result)

    _run(debug, action)


def _report_add(result: AddResult) -> None:
    """The edits of the user's own files, the files kept and what that means, and the next step."""
    verb = "would merge" if result.dry_run else "merged"
    for merge in result.merges:
        ui.out(f"{verb}: {merge}")
    for path, meaning in result.kept:
        ui.out(f"kept yours: {path}: {meaning}")
    if result.next_step and not result.dry_run:
        ui.out(f"next: {result.next_step}")


@app.command("stages")
def stages_cmd(template: Template = None, debug: Debug = False) -> None:
    """List the stages available, with their purpose and what each needs."""

    def action() -> None:
        from mlscaffold.verbs.new import list_stages

        for info in list_stages(template=template):
            needs = f" (needs: {', '.join(info.needs)})" if info.needs else ""
            ui.out(f"{info.name:<10} {info.purpose}{needs}")

    _run(debug, action)


@app.command()
def check(
    path: RepoPath = Path("."),
    policy: Annotated[Path | None, typer.Option("--policy", help="Policy file (YAML or TOML).")] = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", help="Output format.")] = CheckFormat.text,
    worktree: Worktree = False,
    debug: Debug = False,
) -> None:
    """Check a repo against the team's conventions; exit 1 when something is violated."""

    def action() -> None:
        from mlscaffold.conventions import check_repo, format_report

        report = check_repo(repo=path, policy_file=policy, worktree=worktree)
        ui.out(format_report(report, fmt.value))
        if report.failed:
            raise FindingsError("conventions violated")

    _run(debug, action)


@app.command()
def score(
    path: RepoPath = Path("."),
    fmt: Annotated[ScoreFormat, typer.Option("--format", help="Output format.")] = ScoreFormat.text,
    worktree: Worktree = False,
    debug: Debug = False,
) -> None:
    """Score a repo on the ML Test Score rubric (28 tests, 4 sections)."""

    def action() -> None:
        from mlscaffold.score import format_score, score_repo

        ui.out(format_score(score_repo(repo=path, worktree=worktree), fmt.value))

    _run(debug, action)


@app.command()
def update(
    path: RepoPath = Path("."),
    to: Annotated[str | None, typer.Option("--to", help="Template version (git ref) to update to.")] = None,
    conflict: Annotated[
        ConflictMode, typer.Option("--conflict", help="inline: conflict markers; rej: .rej files.")
    ] = ConflictMode.inline,
    answers: AnswersFile = None,
    set_values: SetValues = None,
    dry_run: DryRun = False,
    trust: Trust = False,
    debug: Debug = False,
) -> None:
    """Bring template changes into a generated repo without losing the user's edits (never prompts:
    questions new in the template take their defaults)."""

    def action() -> None:
        from mlscaffold.verbs.update import format_update, update_project
        from mlscaffold.wizard.sources import AnswerSources

        result = update_project(
            repo=path,
            to=to,
            conflict=conflict.value,
            sources=AnswerSources(answers_file=answers, set_values=tuple(set_values or ()), defaults=True),
            dry_run=dry_run,
            trust=trust,
        )
        ui.out(format_update(result))
        result.raise_for_conflicts()

    _run(debug, action)


@app.command()
def diff(
    path: RepoPath = Path("."),
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when the repo has drifted.")] = False,
    trust: Trust = False,
    debug: Debug = False,
) -> None:
    """Show how the repo has drifted from what its templates would render today."""

    def action() -> None:
        from mlscaffold.verbs.update import diff_project

        text = diff_project(repo=path, trust=trust)
        ui.out(text or "no drift: the repo matches its templates")
        if exit_code and text:
            raise FindingsError("the repo has drifted from its templates")

    _run(debug, action)


class _LightCoercion:
    """Typer (0.29 here) coerces every parameter's value through a pydantic `TypeAdapter`: importing pydantic
    and building the adapters is ~90 ms of `mlscaffold new`'s ~270 (bench/bench_new.py). For the shapes
    this CLI's parameters have (str, Path, an enum, list[str], bool) the value is converted with the
    helpers typer's own adapters call (`coerce_cli_path`, `coerce_cli_choice`); any other shape or value,
    and any error, goes to typer's own runtime parameter, built then, so results and messages stay typer's.
    `tests/test_cli.py` compares both paths parameter by parameter."""

    def __init__(self, descriptor: Any, build: Callable[[Any], Any]) -> None:
        self.descriptor, self._build, self._full = descriptor, build, None

    def full(self) -> Any:
        """Typer's own runtime parameter (pydantic), built once, when needed."""
        if self._full is None:
            self._full = self._build(self.descriptor)
        return self._full

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        try:
            converted = self._convert(value, param, ctx)
        except Exception:  # typer says what is wrong, in its own words
            converted = _UNSURE
        return self.full().coerce(value, param=param, ctx=ctx) if converted is _UNSURE else converted

    def _convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from typer._param_types import coerce_cli_choice, coerce_cli_path

        annotation, info = self.descriptor.annotation, self.descriptor.parameter_info
        if annotation is str and type(value) is str:  # a subclass (a StrEnum) becomes a plain str there
            return value
        if annotation is bool and type(value) is bool:
            return value
        if annotation is Path and (type(value) is str or isinstance(value, Path)) and value != "":
            path = Path(value)  # what pydantic makes of a str
            return coerce_cli_path(path, info, path_type=Path, param=param, ctx=ctx)
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            choices = list(annotation)
            return coerce_cli_choice(value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx)
        if annotation == list[str] and isinstance(value, list | tuple):
            return list(value) if all(type(v) is str for v in value) else _UNSURE
        return _UNSURE


_UNSURE = object()


def _light_coercion() -> None:
    """Give typer's parameters `_LightCoercion` where typer would build a pydantic adapter (see there).
    A typer without that machinery (one that converts with click types) is left alone."""
    try:
        from typer import core as typer_core
        from typer._coercion import build_runtime_param
    except ImportError:
        return
    parameter = getattr(typer_core, "_TyperParameter", None)
    if parameter is None or not hasattr(parameter, "get_runtime_param"):
        return

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            descriptor = self.type_descriptor
            light = descriptor.file_annotation is None and descriptor.parameter_info.parser is None
            self._runtime_param = (
                _LightCoercion(descriptor, build_runtime_param) if light else build_runtime_param(descriptor)
            )
        return self._runtime_param

    parameter.get_runtime_param = get_runtime_param


_light_coercion()


def _kinds(err: BaseException) -> set[str]:
    """Class names in the exception's MRO: typer may vendor click, so match click's errors by name."""
    return {cls.__name__ for cls in type(err).__mro__}


def main() -> None:
    """Entry point: every failure, usage errors included, ends in one `error:` line and an exit code."""
    import signal

    try:
        if threading.current_thread() is threading.main_thread():
            # from here on Ctrl-C raises KeyboardInterrupt, which is caught (`__main__` held it until now)
            signal.signal(signal.SIGINT, signal.default_int_handler)
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        ui.error("interrupted; nothing was written")
        sys.exit(Interrupted.exit_code)
    except Exception as err:
        kinds = _kinds(err)
        if "Exit" in kinds:
            sys.exit(getattr(err, "exit_code", 0))
        if "Abort" in kinds:
            ui.error("interrupted; nothing was written")
            sys.exit(Interrupted.exit_code)
        if "ClickException" not in kinds:
            raise
        message = err.format_message() if hasattr(err, "format_message") else str(err)
        ctx = getattr(err, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if "UsageError" in kinds and ctx is not None else ""
        ui.error(f"{message}{hint}")
        sys.exit(2 if "UsageError" in kinds else getattr(err, "exit_code", 1))
    sys.exit(code if isinstance(code, int) else 0)
