"""Answers: where they come from (--set, --answers, the record, a person), their checks, the interview.

Precedence is the caller's (``given`` arrives merged: --set > --answers > record); this module walks
the questions in order, uses what was given, asks the rest on a terminal (through an `Asker`, by
default prompting.py's questionary one) or takes defaults, and checks every value. It never prints:
feasibility advice is returned by `feasibility_warnings`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .datapeek import DataGuess, peek
from .errors import AnswerError, Interrupted, TemplateError, UserError, did_you_mean
from .feasibility import feasibility_warnings, formulation_summary, parse_duration_days
from .jinja_env import evaluate, render_text
from .questions import (
    Choice,
    Question,
    check_static,
    coerce_value,
    derived_names,
    is_empty,
)
from .yamlio import load_mapping

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "Asker",
    "Review",
    "collect_answers",
    "derived_names",
    "feasibility_warnings",
    "formulation_summary",
    "load_answers_file",
    "parse_duration_days",
    "parse_set_values",
]

Validator = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class Review:
    """What the person chose at the summary: generate, edit one answer (by key), or quit."""

    action: Literal["generate", "edit", "quit"]
    key: str | None = None


@dataclass(frozen=True)
class SummaryRow:
    """One line of the end-of-interview summary."""

    key: str
    prompt: str
    value: Any


class Asker(Protocol):
    """The terminal side of the interview (prompting.QuestionaryAsker; a fake one in tests)."""

    def ask(
        self, question: Question, *, default: Any, choices: tuple[Choice, ...], validate: Validator
    ) -> Any:
        """Ask one question; return the raw answer. Ctrl-C raises Interrupted."""
        ...

    def review(self, rows: Sequence[SummaryRow], warnings: Sequence[str]) -> Review:
        """Show the summary and the advice, and ask: generate, edit an answer, or quit."""
        ...


# ---------------------------------------------------------------------------------------------
# Non-interactive sources


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


# ---------------------------------------------------------------------------------------------
# The interview


def collect_answers(
    questions: Sequence[Question],
    *,
    given: Mapping[str, Any],
    interactive: bool,
    env: jinja2.Environment,
    asker: Asker | None = None,
) -> dict[str, Any]:
    """Walk the questions in order: use given answers, ask the rest (interactive) or take defaults.

    Unknown given keys are an AnswerError with a did-you-mean; so is a required answer that has no
    default when nobody can be asked. Interactive runs end with a summary: generate, edit, or quit
    (quit raises Interrupted).
    """
    known = [q.name for q in questions]
    for key in given:
        if key not in known:
            raise AnswerError(key, f"unknown answer key{did_you_mean(key, known)}")
    if interactive and asker is None:
        from .prompting import QuestionaryAsker

        asker = QuestionaryAsker()
    interview = _Interview(tuple(questions), dict(given), env, asker if interactive else None)
    interview.walk(0, frozenset())
    if interview.asker is not None:
        interview.review_loop()
    return dict(interview.answers)


def _with_filters(env: jinja2.Environment, peek_data: Callable[..., DataGuess]) -> jinja2.Environment:
    """An overlay of the template environment with the helpers defaults may use."""
    overlay = env.overlay()
    overlay.filters["project_slug"] = lambda name: derived_names(str(name))[0]
    overlay.filters["package_name"] = lambda name: derived_names(str(name))[1]
    overlay.globals["peek_data"] = peek_data
    return overlay


class _Interview:
    def __init__(
        self,
        questions: tuple[Question, ...],
        given: dict[str, Any],
        env: jinja2.Environment,
        asker: Asker | None,
    ) -> None:
        self.questions = questions
        self.given = given
        self.asker = asker
        self.answers: dict[str, Any] = {}
        # Data files the user named (P2): only these may be read for guesses, never a path that a
        # template's default or expression made up.
        self.named_paths: set[str] = set()
        if isinstance(given.get("data_path"), str):
            self.named_paths.add(given["data_path"])
        self.env = _with_filters(env, self.peek_data)
        self.deps = {q.name: _dependencies(env, q) for q in questions}

    def peek_data(self, data_source: object, data_path: object, target: object = None) -> DataGuess:
        if not isinstance(data_path, str) or data_path not in self.named_paths:
            return DataGuess()
        return peek(data_source, data_path, target)

    # -- walking -------------------------------------------------------------------------------

    def walk(self, start: int, changed: frozenset[str]) -> None:
        """Settle questions from `start` on. With `changed` (after an edit), only the questions
        that depend on a changed answer are settled again; the others keep their answers."""
        dirty = set(changed)
        for question in self.questions[start:]:
            deps = self.deps[question.name]
            if changed and question.name in self.answers and not (deps & dirty or _ANY_ANSWER in deps):
                continue
            before = self.answers.get(question.name, _MISSING)
            self._settle(question, ask_anyway=False)
            if self.answers.get(question.name, _MISSING) != before:
                dirty.add(question.name)
        self.answers = {q.name: self.answers[q.name] for q in self.questions if q.name in self.answers}

    def _settle(self, question: Question, *, ask_anyway: bool) -> None:
        name = question.name
        context = self.context()
        given = name in self.given
        if not ask_anyway and not self._truthy(question.when, context, question, "when"):
            self.answers.pop(name, None)  # irrelevant here: absent, even if given (e.g. from a record)
            return
        if given and not ask_anyway:
            self.answers[name] = self.check(question, self.given[name], context)
            return
        # editing offers the current answer; otherwise the default derived from earlier answers
        default = self.answers[name] if ask_anyway else self.default(question, context)
        if self.asker is not None and (
            ask_anyway or self._truthy(question.ask_when, context, question, "ask_when")
        ):
            self.answers[name] = self._ask(question, default, context)
            return
        if default is None and question.required:
            raise AnswerError(
                name, f"required and has no default; give it with --set {name}=VALUE or in --answers FILE"
            )
        self.answers[name] = self.check(question, default, context)

    def _ask(self, question: Question, default: Any, context: dict[str, Any]) -> Any:
        assert self.asker is not None
        choices = self.choices(question, context)

        def validate(raw: Any) -> str | None:
            try:
                self.check(question, raw, context)
            except AnswerError as err:
                return str(err).removeprefix(f"answer '{question.name}': ")
            return None

        if "{{" in question.prompt or "{%" in question.prompt:
            where = f"question '{question.name}': prompt"
            question = replace(question, prompt=render_text(self.env, question.prompt, context, where))
        raw = self.asker.ask(question, default=default, choices=choices, validate=validate)
        value = self.check(question, raw, context)
        if question.name == "data_path" and isinstance(value, str):
            self.named_paths.add(value)
        return value

    # -- the summary ---------------------------------------------------------------------------

    def review_loop(self) -> None:
        assert self.asker is not None
        while True:
            rows = [
                SummaryRow(q.name, q.prompt, self.answers[q.name])
                for q in self.questions
                if q.name in self.answers
            ]
            review = self.asker.review(rows, feasibility_warnings(self.answers, named_paths=self.named_paths))
            if review.action == "generate":
                return
            if review.action == "quit":
                raise Interrupted("stopped at the summary; nothing was written")
            self.edit(review.key or "")

    def edit(self, key: str) -> None:
        """Ask one answer again, then re-settle the later questions that depend on it."""
        index = next((i for i, q in enumerate(self.questions) if q.name == key), None)
        if index is None or key not in self.answers:
            raise AnswerError(key, "cannot edit: no such answer in this interview")
        self.given.pop(key, None)
        before = self.answers[key]
        self._settle(self.questions[index], ask_anyway=True)
        if self.answers[key] != before:
            self.walk(index + 1, frozenset({key}))

    # -- values --------------------------------------------------------------------------------

    def context(self) -> dict[str, Any]:
        context = dict(self.answers)
        name = context.get("project_name")
        if isinstance(name, str):
            with contextlib.suppress(AnswerError):
                context["project_slug"] = derived_names(name)[0]
        context["cookiecutter"] = dict(context)  # as in templates, for cookiecutter habits
        return context

    def choices(self, question: Question, context: dict[str, Any]) -> tuple[Choice, ...]:
        choices = tuple(
            c
            for c in question.choices
            if c.when is None or self._truthy(c.when, context, question, f"choice {c.value!r} when")
        )
        if question.choices and not choices:
            raise TemplateError(f"question '{question.name}': no choice applies to the earlier answers")
        return choices

    def default(self, question: Question, context: dict[str, Any]) -> Any:
        """The question's default in this context, read by its type (None when it has none)."""
        raw = question.default
        if question.default_is_template:
            where = f"question '{question.name}': default"
            raw = render_text(self.env, str(raw), context, where)
        try:
            value = coerce_value(question, raw, choices=self.choices(question, context))
        except AnswerError as err:
            raise TemplateError(f"question '{question.name}': default {raw!r} is invalid: {err}") from err
        return None if is_empty(value) and question.type not in ("list", "multichoice") else value

    def check(self, question: Question, raw: Any, context: dict[str, Any]) -> Any:
        """Coerce and validate one answer; AnswerError says how to fix it."""
        value = coerce_value(question, raw, choices=self.choices(question, context))
        if is_empty(value):
            if question.required:
                raise AnswerError(question.name, "an answer is required")
            return value
        check_static(question, value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            self._check_bounds(question, value, context)
        return value

    def _check_bounds(self, question: Question, value: float, context: dict[str, Any]) -> None:
        rules = question.validation
        fix = f" ({rules.message})" if rules.message else ""
        tests: tuple[tuple[Any, Callable[[float, float], bool], str], ...] = (
            (rules.min, lambda v, b: v >= b, "at least"),
            (rules.max, lambda v, b: v <= b, "at most"),
            (rules.exclusive_min, lambda v, b: v > b, "more than"),
            (rules.exclusive_max, lambda v, b: v < b, "less than"),
        )
        for bound, ok, words in tests:
            limit = self._bound(bound, context, question)
            if limit is not None and not ok(value, limit):
                raise AnswerError(question.name, f"must be {words} {limit:g}, got {value:g}{fix}")

    def _bound(self, bound: Any, context: dict[str, Any], question: Question) -> float | None:
        if bound is None or isinstance(bound, int | float):
            return bound
        value = evaluate(self.env, str(bound), context, f"question '{question.name}': validation bound")
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            return value
        raise TemplateError(f"question '{question.name}': bound {bound!r} is not a number: {value!r}")

    def _truthy(self, condition: str | bool | None, context: dict[str, Any], q: Question, what: str) -> bool:
        if condition is None:
            return True
        if isinstance(condition, bool):
            return condition
        return bool(evaluate(self.env, condition, context, f"question '{q.name}': {what}"))


_MISSING = object()


def _dependencies(env: jinja2.Environment, question: Question) -> frozenset[str]:
    """The answer names a question's default, conditions, choices and bounds read."""
    from jinja2 import meta

    sources: list[str] = []
    if question.default_is_template:
        sources.append(str(question.default))
    rules = question.validation
    for expr in (question.when, question.ask_when, rules.min, rules.max, rules.exclusive_min,
                 rules.exclusive_max, *(c.when for c in question.choices)):  # fmt: skip
        if isinstance(expr, str):
            sources.append("{{ " + expr + " }}")
    names: set[str] = set()
    for source in sources:
        try:
            names |= meta.find_undeclared_variables(env.parse(source))
        except Exception as err:  # a syntax error: reported with its question when evaluated
            raise TemplateError(f"question '{question.name}': cannot parse {source!r}: {err}") from err
    if "project_slug" in names:
        names.add("project_name")
    if "cookiecutter" in names:  # cookiecutter.<any answer>
        names.add(_ANY_ANSWER)
    return frozenset(names)


_ANY_ANSWER = "*"
