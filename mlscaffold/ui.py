"""The only module that prints. Results go to stdout; warnings and errors to stderr."""

from __future__ import annotations

import sys


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def warn(text: str) -> None:
    sys.stderr.write(f"warning: {text}\n")


def error(text: str) -> None:
    """One line, starting with `error:` (promise P8); embedded newlines are kept as indented lines."""
    first, *rest = str(text).strip().splitlines() or [""]
    sys.stderr.write(f"error: {first}\n")
    for line in rest:
        sys.stderr.write(f"  {line.strip()}\n")
    sys.stderr.flush()
