"""Wizard questions as data: loaded from a template set's manifest, coerced and checked without a terminal.

A question names an answer key, says how to ask for it (prompt, help line, type, choices) and how to
default it. `default`, `when`, `ask_when`, a choice's `when` and numeric bounds may be Jinja over the
earlier answers, so defaults follow the interview: task type -> primary metric -> ready threshold.

- `default`: a literal value, or a string holding `{{ ... }}` / `{% ... %}` that is rendered and then
  read by the question's type (so "0.8" becomes 0.8 and "data,baseline" a list). Empty means none.
- `when`: an expression; when false the question is irrelevant: not asked, and absent from the answers
  (unless the user gave it explicitly).
- `ask_when`: an expression; when false the question is relevant but not asked: its default is used.
"""

from __future__ import annotations

import keyword
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from mlscaffold.engine.names import check_package_name, derived_names
from mlscaffold.engine.schema import validate
from mlscaffold.errors import AnswerError, TemplateError, did_you_mean

QuestionType = Literal["str", "int", "float", "bool", "choice", "multichoice", "list"]
Rule = Literal["project_name", "python_identifier", "expression"]
Bound = float | str | None

_TRUE = frozenset({"y", "yes", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "false", "off", "0"})
_ALLOWED_CONTROLS = frozenset("\n\r\t")


@dataclass(frozen=True)
class Choice:
    """One option of a choice or multichoice question; `when` limits it to some contexts."""

    value: str
    label: str
    when: str | None = None


@dataclass(frozen=True)
class Validation:
    """Rules an answer must meet besides its type. Bounds may be Jinja expressions (None: no bound)."""

    pattern: str | None = None
    min: Bound = None
    max: Bound = None
    exclusive_min: Bound = None
    exclusive_max: Bound = None
    min_length: int | None = None
    max_length: int | None = None
    rule: Rule | None = None
    message: str | None = None


@dataclass(frozen=True)
class Question:
    """One wizard question. See the module docstring for `default`, `when` and `ask_when`."""

    name: str
    prompt: str
    help: str = ""
    type: QuestionType = "str"
    choices: tuple[Choice, ...] = ()
    default: Any = None
    when: str | bool | None = None
    ask_when: str | bool | None = None
    required: bool = True
    validation: Validation = field(default_factory=Validation)
    multiline: bool = False

    @property
    def default_is_template(self) -> bool:
        """True when the default is Jinja to render over the earlier answers."""
        return isinstance(self.default, str) and ("{{" in self.default or "{%" in self.default)

    def choice_values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)


# ---------------------------------------------------------------------------------------------
# Loading from a manifest


def load_questions(raw: object, where: str) -> tuple[Question, ...]:
    """Build the questions from a manifest's `questions:` list. Its shape is the schema's
    (mlscaffold/schemas/question.schema.json: unknown keys and wrong types are errors, P14); what a
    schema cannot say is checked here: names, choices, defaults, patterns."""
    validate(raw, "question.schema.json#/$defs/list", where, error=TemplateError, at=("questions",))
    questions: list[Question] = []
    seen: set[str] = set()
    for index, item in enumerate(cast(list[dict[str, Any]], raw or [])):
        here = f"{where}: questions[{index}]"
        question = _load_question(item, here)
        if question.name in seen:
            raise TemplateError(f"{here}: question '{question.name}' is defined twice")
        seen.add(question.name)
        questions.append(question)
    return tuple(questions)


def _load_question(item: dict[str, Any], here: str) -> Question:
    name = item["name"]
    if not name.isidentifier() or keyword.iskeyword(name):
        raise TemplateError(f"{here}: 'name' must be a Python identifier, got {name!r}")
    here = f"{here} ({name})"
    qtype = item.get("type", "str")
    question = Question(
        name=name,
        prompt=item.get("prompt", name),
        help=item.get("help", ""),
        type=qtype,
        choices=_load_choices(item.get("choices"), qtype, here),
        default=item.get("default"),
        when=item.get("when"),
        ask_when=item.get("ask_when"),
        required=item.get("required", True),
        validation=_load_validation(item.get("validation") or {}, here),
        multiline=item.get("multiline", False),
    )
    if question.default is not None and not question.default_is_template:
        try:
            coerce_value(question, question.default, choices=question.choices)
        except AnswerError as err:
            raise TemplateError(f"{here}: default {question.default!r} is invalid: {err}") from err
    return question


def _load_choices(raw: list[Any] | None, qtype: str, here: str) -> tuple[Choice, ...]:
    if qtype not in ("choice", "multichoice"):
        if raw is not None:
            raise TemplateError(f"{here}: 'choices' is only for choice and multichoice questions")
        return ()
    if not raw:
        raise TemplateError(f"{here}: a {qtype} question needs a non-empty 'choices' list")
    choices = tuple(
        Choice(**{"label": e["value"], **e}) if isinstance(e, dict) else Choice(value=str(e), label=str(e))
        for e in raw
    )
    values = [c.value for c in choices]
    if len(set(values)) != len(values):
        raise TemplateError(f"{here}: choices repeat a value")
    return choices


def _load_validation(raw: dict[str, Any], here: str) -> Validation:
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as err:
            raise TemplateError(f"{here}: validation pattern {pattern!r} is invalid: {err}") from err
    return Validation(**raw)


# ---------------------------------------------------------------------------------------------
# Reading a value by the question's type


def is_empty(value: object) -> bool:
    """No answer: None, blank text, or an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, list | tuple) and len(value) == 0


def coerce_value(question: Question, value: object, *, choices: Sequence[Choice]) -> Any:
    """Turn a raw value (text from --set or a prompt, or YAML/JSON data) into the question's type.

    Empty values come back as None (or [] for list types); whether that is allowed is checked by
    the caller. Raises AnswerError naming the question, with a message that says how to fix it.
    """
    kind = question.type
    if kind in ("list", "multichoice"):
        items = _as_list(question, value)
        return _check_choices(question, items, choices) if kind == "multichoice" else items
    if is_empty(value):
        return None
    if kind == "str":
        return _as_text(question, value)
    if kind == "bool":
        return _as_bool(question, value)
    if kind == "int":
        return _as_int(question, value)
    if kind == "float":
        return _as_float(question, value)
    return _check_choices(question, [_as_text(question, value).strip()], choices)[0]


def _as_text(question: Question, value: object) -> str:
    if isinstance(value, bool):
        raise AnswerError(question.name, f"expected text, got the boolean {value}; quote it")
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise AnswerError(question.name, f"expected text, got a {type(value).__name__}")
    for char in value:
        if char in _ALLOWED_CONTROLS:
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise AnswerError(question.name, f"contains the control character U+{ord(char):04X}; remove it")
    return value


def _as_bool(question: Question, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise AnswerError(question.name, f"expected yes or no, got {value!r}")


def _as_int(question: Question, value: object) -> int:
    if isinstance(value, bool):
        raise AnswerError(question.name, f"expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip().replace("_", ""), 10)
    except ValueError:
        raise AnswerError(question.name, f"expected a whole number, got {value!r}") from None


def _as_float(question: Question, value: object) -> float:
    if isinstance(value, bool):
        raise AnswerError(question.name, f"expected a number, got {value!r}")
    try:
        number = float(value) if isinstance(value, int | float) else float(str(value).strip())
    except ValueError:
        raise AnswerError(question.name, f"expected a number such as 0.8, got {value!r}") from None
    if not math.isfinite(number):
        raise AnswerError(question.name, f"expected a finite number, got {value!r}")
    return number


def _as_list(question: Question, value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        parts: Sequence[object] = value.split(",")
    elif isinstance(value, list | tuple):
        parts = value
    else:
        raise AnswerError(question.name, "expected a list, or comma-separated text such as a,b")
    items: list[str] = []
    for part in parts:
        text = _as_text(question, part).strip()
        if text and text not in items:
            items.append(text)
    return items


def _check_choices(question: Question, items: list[str], choices: Sequence[Choice]) -> list[str]:
    allowed = [c.value for c in choices]
    for item in items:
        if item not in allowed:
            hint = did_you_mean(item, allowed)
            raise AnswerError(question.name, f"'{item}' is not one of: {', '.join(allowed)}{hint}")
    if question.type == "multichoice":
        return [value for value in allowed if value in items]
    return items


# ---------------------------------------------------------------------------------------------
# Checks that do not depend on other answers


def check_static(question: Question, value: Any) -> None:
    """Check pattern, lengths and named rules. Bounds are checked by answers.py (they may be Jinja)."""
    rules = question.validation
    fix = f" ({rules.message})" if rules.message else ""
    if isinstance(value, str):
        if rules.pattern is not None and re.fullmatch(rules.pattern, value) is None:
            raise AnswerError(question.name, f"{value!r} does not match {rules.pattern}{fix}")
        if rules.rule == "python_identifier":
            check_package_name(value, question.name)
        if rules.rule == "project_name":
            derived_names(value)
        if rules.rule == "expression":
            check_expression(value, question.name)
    if isinstance(value, str | list):
        size = len(value)
        unit = "characters" if isinstance(value, str) else "items"
        if rules.min_length is not None and size < rules.min_length:
            raise AnswerError(question.name, f"needs at least {rules.min_length} {unit}, got {size}{fix}")
        if rules.max_length is not None and size > rules.max_length:
            raise AnswerError(question.name, f"allows at most {rules.max_length} {unit}, got {size}{fix}")


def check_expression(text: str, key: str) -> None:
    """A single Python-syntax expression (what pandas' DataFrame.eval reads), e.g. `x > 15`."""
    import ast

    try:
        ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise AnswerError(
            key, f"{text!r} is not an expression over the columns ({err.msg}); e.g. mean_radius > 15"
        ) from None
