"""Answers: where they come from (--set, --answers, the record, a person), their checks, the interview.

Precedence is the caller's (``given`` arrives merged: --set > --answers > record); this module walks
the questions in order, uses what was given, asks the rest on a terminal (through an `Asker`, by
the CLI passes prompting.py's questionary one) or takes defaults, and checks every value. It never prints:
advice comes from the template set's rule sets (advice.py).
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mlscaffold.engine.jinja_env import evaluate, render_text
from mlscaffold.engine.names import derived_names
from mlscaffold.errors import AnswerError, Interrupted, TemplateError, did_you_mean
from mlscaffold.wizard.advice import advice_for
from mlscaffold.wizard.asking import Asker, SummaryRow
from mlscaffold.wizard.datapeek import DataGuess, peek
from mlscaffold.wizard.probe import Probe
from mlscaffold.wizard.questions import (
    Choice,
    Question,
    check_static,
    coerce_value,
    is_empty,
)

if TYPE_CHECKING:
    import jinja2

__all__ = ["collect_answers"]


# ---------------------------------------------------------------------------------------------
# Non-interactive sources


# ---------------------------------------------------------------------------------------------
# The interview


def collect_answers(
    questions: Sequence[Question],
    *,
    given: Mapping[str, Any],
    interactive: bool,
    env: jinja2.Environment,
    asker: Asker | None = None,
    advice_sets: Collection[str] = ("feasibility",),
    defaults: bool = True,
    probe: Probe | None = None,
) -> dict[str, Any]:
    """Walk the questions in order: use given answers, ask the rest (interactive) or take defaults.

    Unknown given keys are an AnswerError with a did-you-mean; so is a required answer that has no
    default when nobody can be asked, and, with `defaults=False` and nobody to ask, the first
    question that would have been asked and was not answered (no silent guess without a terminal).
    Interactive runs end with a summary: generate, edit, or quit (quit raises Interrupted).
    With a `probe` (data at hand), its findings are shown at the summary with their fixes, and its
    report is recorded in the `feasibility` answer (when the template asks it).
    """
    known = [q.name for q in questions]
    for key in given:
        if key not in known:
            raise AnswerError(key, f"unknown answer key{did_you_mean(key, known)}")
    if interactive and asker is None:
        raise ValueError("an interactive interview needs an asker (wizard.prompting.QuestionaryAsker)")
    interview = _Interview(tuple(questions), dict(given), env, asker if interactive else None)
    interview.advice_sets = tuple(advice_sets)
    interview.defaults = defaults
    interview.probe = probe
    interview.walk(0, frozenset())
    if interview.asker is not None:
        interview.review_loop()
    interview.record_probe()
    return dict(interview.answers)


def _with_filters(env: jinja2.Environment, peek_data: Callable[..., DataGuess]) -> jinja2.Environment:
    """An overlay of the template environment with the helpers defaults may use."""
    overlay = env.overlay()
    overlay.filters["project_slug"] = lambda name: derived_names(str(name))[0]
    overlay.filters["package_name"] = lambda name: derived_names(str(name))[1]
    overlay.globals["peek_data"] = peek_data
    # Today's year, for defaults only (e.g. a copyright year): the answer is recorded, so a later
    # rendering by `update` or `diff` reads the year from the record, never from the clock.
    overlay.globals["current_year"] = datetime.datetime.now(datetime.UTC).year
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
        self.advice_sets: tuple[str, ...] = ()
        self.defaults = True  # False: with nobody to ask, an unanswered question is an error
        self.probe: Probe | None = None
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
        asked = ask_anyway or self._truthy(question.ask_when, context, question, "ask_when")
        if self.asker is not None and asked:
            self.answers[name] = self._ask(question, default, context)
            return
        if asked and not self.defaults:
            raise AnswerError(
                name,
                f"not answered, and there is no terminal to ask on: give it with --set {name}=VALUE "
                "or in --answers FILE, or pass --defaults to take the defaults",
            )
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
            warnings = advice_for(self.advice_sets, self.answers, named_paths=self.named_paths)
            report = self.probe(self.answers, self.named_paths) if self.probe is not None else None
            if report is not None and report.findings:
                warnings = [*warnings, *report.headline()]
                review = self.asker.review(rows, warnings, findings=report.findings)
            else:
                review = self.asker.review(rows, [*warnings, *(report.headline() if report else ())])
            if review.action == "generate":
                return
            if review.action == "quit":
                raise Interrupted("stopped at the summary; nothing was written")
            if review.action == "fix":
                self.apply(review.fix)
            else:
                self.edit(review.key or "")

    def apply(self, fix: Mapping[str, Any]) -> None:
        """Take a probe finding's proposed answers (checked like any answer), then re-settle the later
        questions that depend on them."""
        names = [q.name for q in self.questions]
        keys = [key for key in fix if key in names and key in self.answers]
        for key in keys:
            self.given[key] = fix[key]
            del self.answers[key]
        if keys:
            self.walk(0, frozenset(keys))

    def record_probe(self) -> None:
        """The probe's report (numbers, date, data fingerprint) as the `feasibility` answer, so that
        later renderings by update and diff read it from the record instead of probing again."""
        if self.probe is None or "feasibility" not in {q.name for q in self.questions}:
            return
        report = self.probe(self.answers, self.named_paths)
        if report is not None:
            today = datetime.datetime.now(datetime.UTC).date().isoformat()
            self.answers["feasibility"] = report.summary(today)

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
