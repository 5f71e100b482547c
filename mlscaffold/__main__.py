"""`python -m mlscaffold` and the `mlscaffold` command (pyproject's entry point is `main` here).

Ctrl-C is a clean `error: interrupted` and exit 130 from the first instruction: until `cli.main` takes
over, while the CLI's modules are still being imported and nothing has been written, a SIGINT ends the
process at once instead of raising KeyboardInterrupt inside an import (a traceback)."""

# `_signal`, not `signal`: the latter imports enum, functools and collections first (~30 ms).
import _signal  # type: ignore[import-not-found]  # (no stub: CPython's C module)
import os


def _interrupted_at_start(signum: int, frame: object) -> None:
    os.write(2, b"error: interrupted; nothing was written\n")
    os._exit(130)


try:  # noqa: SIM105 - no import (contextlib) before the handler is in place
    _signal.signal(_signal.SIGINT, _interrupted_at_start)
except ValueError:  # imported from a thread other than the main one: not an entry point
    pass


def main() -> None:
    """Run the CLI; `cli.main` puts back Python's own Ctrl-C handling once it can catch it."""
    from mlscaffold.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
