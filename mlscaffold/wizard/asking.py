"""The seam between the interview and a person: the `Asker` protocol and what crosses it.

The interview (interview.py) only talks to an `Asker`; the terminal one is prompting.QuestionaryAsker,
built by the CLI and passed in through `AnswerSources.asker`; tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from mlscaffold.wizard.probe import Finding
from mlscaffold.wizard.questions import Choice, Question

Validator = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class Review:
    """What the person chose at the summary: generate, edit one answer (by key), apply a probe
    finding's proposed fix (the answers it sets), or quit."""

    action: Literal["generate", "edit", "fix", "quit"]
    key: str | None = None
    fix: Mapping[str, Any] = field(default_factory=dict)


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

    def review(
        self, rows: Sequence[SummaryRow], warnings: Sequence[str], *, findings: Sequence[Finding] = ()
    ) -> Review:
        """Show the summary and the advice, and ask: generate, edit an answer, or quit. With the
        probe's `findings` (passed only when there are some), offer each proposed fix first, so that
        one keystroke (Enter) accepts it."""
        ...
