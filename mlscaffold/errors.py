"""The error hierarchy. Library code raises these; only ``cli.py`` turns them into exit codes.

Every message names the file, key or answer at fault, in words a person can act on.
"""

from __future__ import annotations

from collections.abc import Iterable


class MlscaffoldError(Exception):
    """Base of every error mlscaffold reports to a user (exit 1: a runtime failure)."""

    exit_code = 1


class UserError(MlscaffoldError):
    """Invalid input or usage: a bad name, answer, URL, config or answers file (exit 2)."""

    exit_code = 2


class AnswerError(UserError):
    """An answer that fails validation, or a required answer that is missing."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"answer '{key}': {message}")
        self.key = key


class TemplateError(UserError):
    """A template that cannot be used as it is (bad manifest, unsafe path, undefined variable)."""


SHOWN_PATHS = 3


def name_paths(paths: Iterable[str], shown: int = SHOWN_PATHS) -> str:
    """'a, b, c and 4 more': the first few paths for a one-line message (P8)."""
    paths = list(paths)
    named = ", ".join(paths[:shown])
    return f"{named} and {len(paths) - shown} more" if len(paths) > shown else named


class ConflictError(UserError):
    """Writing would overwrite or delete files the user has not agreed to lose (exit 2). The message
    names the first few paths; `paths` holds them all (the CLI lists them above the error line)."""

    def __init__(self, message: str, paths: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.paths = paths


class TrustError(MlscaffoldError):
    """The template has code (hooks, tasks, extensions) and ``--trust`` was not given (exit 4)."""

    exit_code = 4


class MergeConflictsRemain(MlscaffoldError):
    """An update finished but left conflicts for the user to resolve (exit 3)."""

    exit_code = 3

    def __init__(self, message: str, paths: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.paths = paths


class FindingsError(MlscaffoldError):
    """``check`` or ``diff --exit-code`` found something (exit 1). The report was already shown."""


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest known word, or '' when none is close."""
    import difflib

    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Interrupted(MlscaffoldError):
    """The user stopped the run (Ctrl-C, or chose 'quit' at the summary); nothing was written."""

    exit_code = 130
