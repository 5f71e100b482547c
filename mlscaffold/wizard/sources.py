"""Where answers come from, and their precedence: --set > --answers > record > defaults (then the asker)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlscaffold.engine.project import ENGINE_KEYS, check_answers
from mlscaffold.engine.templates import TemplateSet, Unit
from mlscaffold.errors import AnswerError, UserError
from mlscaffold.wizard.asking import Asker
from mlscaffold.wizard.probe import Probe
from mlscaffold.yamlio import load_mapping


@dataclass(frozen=True)
class AnswerSources:
    """Where answers come from, before precedence: --set > --answers > record > defaults."""

    answers_file: Path | None = None
    set_values: tuple[str, ...] = ()
    defaults: bool = False
    asker: Asker | None = None  # a person to ask (the CLI's terminal asker); None: never ask
    recorded: Mapping[str, Any] = field(default_factory=dict)
    project_name_default: str | None = None  # the folder the user named, when they named one
    probe: Probe | None = None  # the feasibility probe (new only); None: no probe

    @property
    def interactive(self) -> bool:
        """A person is asked what is still unanswered (never with --defaults)."""
        return self.asker is not None and not self.defaults

    @property
    def may_default(self) -> bool:
        """Whether a question nobody answered may take its default: with --defaults, or on a terminal
        for the questions it does not ask. With neither, it is an error naming it (SPEC: no terminal
        means no silent guess)."""
        return self.defaults or self.asker is not None


def gather_answers(
    tset: TemplateSet,
    sources: AnswerSources,
    stage_units: Sequence[Unit] = (),
    later: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Merge the answer sources and ask or default whatever is still missing. Keys in `later` (the
    questions of stages not chosen yet) are left for a later call."""
    from mlscaffold.engine.jinja_env import make_environment
    from mlscaffold.wizard.interview import collect_answers
    from mlscaffold.wizard.questions import load_questions

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
    if sources.project_name_default and not sources.interactive and "project_name" in asked:
        given.setdefault("project_name", sources.project_name_default)  # the folder the user named
    for key in later - asked:
        given.pop(key, None)
    engine = {k: given.pop(k) for k in ENGINE_KEYS - asked if k in given}
    answers = collect_answers(
        questions,
        given=given,
        interactive=sources.interactive,
        asker=sources.asker,
        advice_sets=tset.advice,
        env=make_environment(library_extensions=_library_extensions(tset)),
        defaults=sources.may_default,
        probe=sources.probe,
    )
    answers = {**answers, **engine}
    owned = frozenset(str(q.get("name")) for q in tset.base.questions) if tset.base.is_cookiecutter else None
    check_answers(answers, owned or frozenset())
    return answers


def _library_extensions(tset: TemplateSet) -> tuple[str, ...]:
    """cookiecutter's own Jinja extensions (slugify, jsonify, now...), which a cookiecutter template's
    defaults may use as cookiecutter renders them."""
    if not tset.base.is_cookiecutter:
        return ()
    from mlscaffold.engine.ccrender import DEFAULT_EXTENSIONS

    return DEFAULT_EXTENSIONS


def user_given(sources: AnswerSources) -> dict[str, Any]:
    """What the user said: --answers, then --set on top (before the record and defaults)."""
    given: dict[str, Any] = {}
    if sources.answers_file is not None:
        given.update(load_answers_file(sources.answers_file))
    given.update(parse_set_values(list(sources.set_values)))
    return given


def _stages_choices(question: Any, tset: TemplateSet) -> Any:
    """The `stages` question offers the stages of the template set in use (a team's own included)."""
    from mlscaffold.wizard.questions import Choice

    choices = tuple(
        Choice(name, f"{name}: {unit.purpose}" if unit.purpose else name)
        for name, unit in tset.stages.items()
    )
    return dataclasses.replace(question, choices=choices, default=tset.default_stages)


def parse_set_values(values: Sequence[str]) -> dict[str, str]:
    """Parse repeated `--set KEY=VALUE` options; the last one for a key wins. Values stay text."""
    parsed: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set task_type=regression")
        if not key.isidentifier():
            raise UserError(f"--set {item!r}: '{key}' is not an answer key (letters, digits, _)")
        parsed[key] = value
    return parsed


def load_answers_file(path: Path) -> dict[str, Any]:
    """Load an answers file (YAML or JSON by extension; may be partial). Errors name the file."""
    data = load_mapping(path)
    for key in data:
        if not isinstance(key, str):
            raise UserError(f"{path}: answer keys must be text, got {key!r}")
    return data
