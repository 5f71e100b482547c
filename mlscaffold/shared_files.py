"""Minimal edits to files a project already has and stages share (Makefile, .gitignore, README, pyproject),
and moving rendered files to fit a repo's layout. Used by `add` and by cookiecutter-based bases."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .render import FileSpec

MAKE_INCLUDE = "include $(sort $(wildcard mk/*.mk))"


def relayout(files: Iterable[FileSpec], package: str, layout: str) -> list[FileSpec]:
    """Move `src/<pkg>/...` to `<pkg>/...` for a repo with a flat layout."""
    if layout == "src":
        return list(files)
    prefix = f"src/{package}/"
    return [replace(f, path=f.path[4:]) if f.path.startswith(prefix) else f for f in files]


def merge_shared_file(path: str, current: bytes, rendered: bytes) -> bytes | None:
    """For a shared file the user already has: the minimal edit, or None to leave it alone."""
    text = current.decode("utf-8", errors="surrogateescape")
    if path == "Makefile":
        return _makefile_block(text, rendered.decode("utf-8"))
    if path == ".gitignore":
        have = {line.strip() for line in text.splitlines()}
        extra = [
            line
            for line in rendered.decode("utf-8").splitlines()
            if line.strip() and not line.startswith("#") and line.strip() not in have
        ]
        if not extra:
            return None
        return _join(text, ["", "# Added by mlscaffold", *extra, ""])
    return None  # README.md, pyproject.toml (dependencies handled apart): the user's version stays


def _makefile_block(text: str, rendered: str) -> bytes | None:
    """Append what the stages' mk/*.mk files need to a Makefile the user wrote: the variables they use
    (as `?=`, so the user's own definitions win), the include, and a `pipeline` target that runs them all
    (a name unlikely to clash with the user's own `all`)."""
    if MAKE_INCLUDE in text:
        return None
    variables = []
    for line in rendered.splitlines():
        name, sep, value = line.partition(":=") if ":=" in line else line.partition("?=")
        if sep and name.strip() in ("PYTHON", "PKG"):
            variables.append(f"{name.strip()} ?= {value.strip()}")
    block = [
        "",
        "# Stage targets added by mlscaffold: one file per stage in mk/; `make pipeline` runs them in order.",
        *variables,
        "PIPELINE ?=",
        MAKE_INCLUDE,
        ".PHONY: pipeline",
        "pipeline: $(PIPELINE)",
        "",
    ]
    return _join(text, block)


def _join(text: str, lines: list[str]) -> bytes:
    """Append lines to a file's text in the file's own line endings."""
    newline = "\r\n" if "\r\n" in text else "\n"
    joined = text.rstrip("\r\n") + newline + newline.join(lines)
    return joined.encode("utf-8", "surrogateescape")


SHARED = {"Makefile", ".gitignore", "README.md", "pyproject.toml"}


def detect_layout(paths: Iterable[str]) -> tuple[str | None, str]:
    """(package, "src" | "flat") from the paths of a tree: the first package with an __init__.py."""
    ordered = sorted(paths)
    for path in ordered:
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "src" and parts[2] == "__init__.py":
            return parts[1], "src"
    for path in ordered:
        parts = path.split("/")
        if len(parts) == 2 and parts[1] == "__init__.py" and parts[0] not in ("tests", "test", "docs"):
            return parts[0], "flat"
    return None, "src"
