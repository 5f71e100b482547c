"""`python -m mlscaffold` runs the command-line interface."""

from .cli import main

main()
