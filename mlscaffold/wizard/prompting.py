"""The terminal side of the wizard: the only module that imports questionary and prompt_toolkit.

`QuestionaryAsker` turns one `Question` into one questionary prompt, shows the help line above it,
re-asks with the validation message until the answer is valid, and at the end shows the summary and
the feasibility advice. Ctrl-C (or end of input) at any prompt raises `Interrupted`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import questionary
from prompt_toolkit import print_formatted_text
from prompt_toolkit.formatted_text import FormattedText

from mlscaffold.errors import Interrupted
from mlscaffold.wizard.advice import formulation_summary
from mlscaffold.wizard.asking import Review, SummaryRow, Validator
from mlscaffold.wizard.probe import Finding, fix_text
from mlscaffold.wizard.questions import Choice, Question

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

INTRO = (
    "mlscaffold: from a product goal to an ML problem formulation.\n"
    "Enter accepts the default shown; Ctrl-C stops at any time and writes nothing."
)
GENERATE = "Generate the project"
EDIT = "Edit an answer"
QUIT = "Quit without writing anything"


def display(value: Any, width: int = 60) -> str:
    """A one-line rendering of an answer for the summary."""
    if value is None:
        text = "(not specified yet)"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list | tuple):
        text = ", ".join(str(v) for v in value) if value else "(none)"
    else:
        text = str(value)
    first, _, rest = text.partition("\n")
    if rest or len(first) > width:
        first = first[: width - 1] + "…"
    return first


class QuestionaryAsker:
    """Asks through questionary; `input`/`output` are for tests (create_pipe_input, DummyOutput)."""

    def __init__(self, *, input: Input | None = None, output: Output | None = None) -> None:
        self._io: dict[str, Any] = {}
        if input is not None:
            self._io["input"] = input
        if output is not None:
            self._io["output"] = output
        self._greeted = False

    def say(self, text: str, style: str = "") -> None:
        print_formatted_text(FormattedText([(style, text)]), output=self._io.get("output"))

    def ask(
        self, question: Question, *, default: Any, choices: tuple[Choice, ...], validate: Validator
    ) -> Any:
        if not self._greeted:
            self.say(INTRO, "bold")
            self._greeted = True
        if question.help:
            self.say(f"  {question.help}", "fg:ansibrightblack")
        prompt = self._build(question, default, choices, validate)
        return self._run(prompt, question.name)

    def _build(
        self, question: Question, default: Any, choices: tuple[Choice, ...], validate: Validator
    ) -> Any:
        def check(raw: Any) -> bool | str:
            return validate(raw) or True

        if question.type == "bool":
            return questionary.confirm(
                question.prompt, default=True if default is None else bool(default), **self._io
            )
        if question.type == "choice":
            options = [questionary.Choice(title=c.label, value=c.value) for c in choices]
            selected = default if default in {c.value for c in choices} else None
            return questionary.select(question.prompt, choices=options, default=selected, **self._io)
        if question.type == "multichoice":
            chosen = set(default or ())
            options = [
                questionary.Choice(title=c.label, value=c.value, checked=c.value in chosen) for c in choices
            ]
            return questionary.checkbox(question.prompt, choices=options, validate=check, **self._io)
        if question.type == "list":
            return questionary.text(
                question.prompt,
                default=", ".join(default or ()),
                instruction="(comma-separated; empty for none)",
                validate=check,
                **self._io,
            )
        return questionary.text(
            question.prompt,
            default="" if default is None else str(default),
            validate=check,
            multiline=question.multiline,
            **self._io,
        )

    def _run(self, prompt: Any, where: str) -> Any:
        try:
            return prompt.unsafe_ask()
        except (KeyboardInterrupt, EOFError):
            raise Interrupted(f"interrupted at '{where}'; nothing was written") from None

    def review(
        self, rows: Sequence[SummaryRow], warnings: Sequence[str], *, findings: Sequence[Finding] = ()
    ) -> Review:
        self.say("\nYour formulation:", "bold")
        for line in formulation_summary({row.key: row.value for row in rows}):
            self.say(f"  {line}")
        self.say("")
        width = max((len(row.key) for row in rows), default=0)
        for row in rows:
            self.say(f"  {row.key.ljust(width)}  {display(row.value)}")
        if warnings:
            self.say("\nAdvice (you may go ahead anyway):", "bold")
            for warning in warnings:
                self.say(f"  ! {warning}", "fg:ansiyellow")
        if findings:
            self.say("\nFeasibility probe findings:", "bold")
            for number, finding in enumerate(findings, 1):
                self.say(f"  {number}. {finding.message}", "fg:ansiyellow")
        fixes = [
            questionary.Choice(title=f"Apply fix {number}: {fix_text(finding)}", value=number - 1)
            for number, finding in enumerate(findings, 1)
            if finding.fix
        ]  # first, so that Enter (one keystroke) accepts the first proposed fix
        action = self._run(
            questionary.select("What next?", choices=[*fixes, GENERATE, EDIT, QUIT], **self._io), "summary"
        )
        if isinstance(action, int):
            return Review("fix", findings[action].key, dict(findings[action].fix))
        if action == GENERATE:
            return Review("generate")
        if action == QUIT:
            return Review("quit")
        options = [
            questionary.Choice(title=f"{row.key}: {display(row.value, 40)}", value=row.key) for row in rows
        ]
        key = self._run(questionary.select("Which answer?", choices=options, **self._io), "summary")
        return Review("edit", str(key))


def confirm(message: str, *, default: bool = False) -> bool:
    """A yes/no question (e.g. consent before `add` overwrites files). Ctrl-C raises Interrupted."""
    answer = questionary.confirm(message, default=default).ask()
    if answer is None:
        raise Interrupted("interrupted; nothing was written")
    return bool(answer)


def choose(message: str, choices: list[str]) -> str:
    """Pick one of `choices` (e.g. which package `add` wires the pipeline to). Ctrl-C raises Interrupted."""
    answer = questionary.select(message, choices=choices).ask()
    if answer is None:
        raise Interrupted("interrupted; nothing was written")
    return str(answer)
