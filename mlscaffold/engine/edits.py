"""Minimal edits to files a project already has and stages share (Makefile, .gitignore, README, pyproject),
and moving rendered files to fit a repo's layout. Used by `add` and by cookiecutter-based bases."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from mlscaffold.engine.render import FileSpec

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


# ---------------------------------------------------------------------------------------------------
# fitting the stages to a repo mlscaffold did not write

PIPELINE_MAKEFILE = "mlscaffold.mk"  # the pipeline's own makefile, beside a Makefile the user wrote
FOREIGN_CI = ".github/workflows/ml-pipeline.yml"  # beside the user's own workflows, never over them
BLOCK_START = "# >>> mlscaffold: the ML pipeline's targets, namespaced (they run mlscaffold.mk)"
BLOCK_END = "# <<< mlscaffold"
_TARGET_RX = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)\s*:(?!=)", re.M)


def make_targets_of(texts: Iterable[str]) -> list[str]:
    """The explicit targets that makefile texts define, in order (special `.X` targets left out)."""
    found: dict[str, None] = {}
    for text in texts:
        for match in _TARGET_RX.finditer(text):
            found.setdefault(match.group(1), None)
    return list(found)


def namespaced_block(targets: Iterable[str]) -> list[str]:
    """`ml-<target>` rules for a user's Makefile: each runs `<target>` of mlscaffold.mk in a sub-make, so
    no target or variable of theirs (a `data`, `clean` or `PKG` of their own) ever meets the pipeline's."""
    names = list(targets)
    lines = [BLOCK_START, f".PHONY: {' '.join(f'ml-{t}' for t in names)}"]
    for name in names:
        lines += [f"ml-{name}:", f"\t$(MAKE) -f {PIPELINE_MAKEFILE} {name}"]
    return [*lines, BLOCK_END]


def merge_namespaced_block(current: str, targets: Iterable[str]) -> bytes | None:
    """Put (or refresh) the namespaced block at the end of the user's Makefile; None when unchanged."""
    block = namespaced_block(targets)
    lines = current.splitlines()
    if BLOCK_START in lines and BLOCK_END in lines:
        start, end = lines.index(BLOCK_START), lines.index(BLOCK_END)
        if lines[start : end + 1] == block:
            return None
        newline = "\r\n" if "\r\n" in current else "\n"
        kept = [*lines[:start], *block, *lines[end + 1 :]]
        return (newline.join(kept) + newline).encode("utf-8", "surrogateescape")
    return _join(current, ["", *block, ""])


def gitignore_additions(
    current: str, rendered: str, covered: Callable[[str], list[str]], produced: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Lines to add to the user's .gitignore, and notes. A line that would hide files the repo tracks
    (`covered(line)` names them) is replaced by the exact outputs the stages write under it."""
    have = {line.strip() for line in current.splitlines()}
    outputs = list(produced)
    extra: list[str] = []
    notes: list[str] = []
    for line in rendered.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#") or entry in have or entry in extra:
            continue
        hidden = covered(entry)
        if not hidden:
            extra.append(entry)
            continue
        folder = entry.strip("/")
        exact = [f"/{o}" for o in outputs if o.startswith(folder + "/") and o not in hidden]
        extra.extend(e for e in exact if e.strip() not in have and e not in extra)
        notes.append(
            f"'{entry}' not added: it would hide {len(hidden)} tracked file(s) ({hidden[0]}"
            f"{', ...' if len(hidden) > 1 else ''})"
            + (f"; ignoring {', '.join(exact)} instead" if exact else "")
        )
    return extra, notes


def append_lines(current: str, lines: list[str]) -> bytes:
    return _join(current, ["", "# Added by mlscaffold", *lines, ""])


def foreign_ci(install: list[str], pipeline: str, tests: str) -> bytes:
    """The CI workflow for a repo mlscaffold did not write: install, run the pipeline with its readiness
    gate, run every test, using only commands that exist in that repo."""
    run_install = "\n".join(f"          {line}" for line in ["python -m pip install --upgrade pip", *install])
    return (
        "# Added by mlscaffold: the ML pipeline (data -> train -> evaluate gate -> ...) and the tests.\n"
        "# The pipeline step fails when reports/readiness.json says the model is not ready.\n"
        "name: ml-pipeline\n\n"
        "on:\n  push:\n    branches: [main]\n  pull_request:\n  workflow_dispatch:\n\n"
        "jobs:\n  pipeline:\n    runs-on: ubuntu-latest\n    timeout-minutes: 30\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - uses: actions/setup-python@v5\n"
        '        with:\n          python-version: "3.11"\n          cache: pip\n'
        f"      - name: Install\n        run: |\n{run_install}\n"
        f"      - name: Pipeline (data -> train -> evaluate gate -> ...)\n        run: {pipeline}\n"
        f"      - name: Tests\n        run: {tests}\n"
        "      - name: Keep the reports\n        if: always()\n"
        "        uses: actions/upload-artifact@v4\n"
        "        with:\n          name: reports\n          path: reports/\n"
        "          if-no-files-found: ignore\n"
    ).encode()


def kept_meaning(path: str, package: str) -> str:
    """What keeping the user's file (instead of the stage's) means for the stage."""
    name = path.rsplit("/", 1)[-1]
    if path == "tests/conftest.py":
        return (
            "the stage's tests use fixtures from it (run_module, copy_project, trained_project): "
            "merge them into yours or those tests fail"
        )
    if path.startswith("tests/"):
        return "the stage's own tests are not added"
    if path == "config.yaml":
        return (
            "the pipeline reads its settings from config.yaml: yours must carry its sections "
            "(data, paths, evaluate, monitor) or the stages stop with an error naming the key"
        )
    if path.startswith((f"{package}/", f"src/{package}/")):
        return f"the stage runs your {name} instead of its own"
    if path.startswith("mk/") or path in ("Makefile", PIPELINE_MAKEFILE):
        return f"the stage's make targets come from your file; `python -m {package} COMMAND` still works"
    if path.startswith(".github/workflows/"):
        return "CI will not run the pipeline and its readiness gate"
    if name in ("Dockerfile", ".dockerignore"):
        return "`make docker-build` builds your image instead of the service's"
    if path.startswith("data/"):
        return "the pipeline reads your file instead of the shipped sample"
    if path.startswith("docs/") or name.endswith(".md"):
        return "documentation only: nothing runs differently"
    if name == ".pre-commit-config.yaml":
        return "only the pre-commit hooks: nothing in the pipeline depends on it"
    return "the stage uses your file as it is"
