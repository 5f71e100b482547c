"""The only module that prints. Results go to stdout; warnings and errors to stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def warn(text: str) -> None:
    sys.stderr.write(f"warning: {text}\n")


def listing(paths: Iterable[str]) -> None:
    """Paths an error is about, one per line on stderr, before the `error:` line that sums them up."""
    for path in paths:
        sys.stderr.write(f"  {path}\n")


def error(text: str) -> None:
    """One line, starting with `error:`, last on stderr (promise P8); a message's own line breaks are
    folded into it."""
    sys.stderr.write(f"error: {'; '.join(line.strip() for line in str(text).strip().splitlines())}\n")
    sys.stderr.flush()
