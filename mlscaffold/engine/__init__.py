"""The engine: template sets in, planned files out, applied all-or-nothing.

templates (load a template set: built-in, folder, git URL@ref, cookiecutter base) -> project (context and
rendering of a whole project) -> render (one unit, sandboxed Jinja) -> write (apply, stage, lock); record,
pristine and merge serve add/update; edits merges shared files (pyproject, .gitignore, Makefile).
Nothing here prints, asks or imports a verb.
"""
