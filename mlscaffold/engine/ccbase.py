"""A project whose base is a cookiecutter template: the template's files exactly as `cookiecutter
--no-input` writes them (engine.ccrender), and the mlscaffold base and stages fitted to them as `add`
fits them to a repo mlscaffold did not write (engine.fit): a pipeline package of its own beside the
template's package, namespaced make targets, its own CI workflow, merges into the shared files.

A path both sides write is resolved by the rules below (docs/templates.md lists them) or reported before
anything is written; it is never silently dropped:

- pyproject.toml, .gitignore, Makefile, the CI workflow: fitted by `engine.fit` (dependencies and the
  pipeline package added; missing ignore lines appended; `ml-*` targets appended, the pipeline's own
  targets in mlscaffold.mk; the workflow written as .github/workflows/ml-pipeline.yml);
- .dockerignore: the missing lines are appended;
- tests/conftest.py: the pipeline's fixtures go to the root conftest.py instead;
- documentation and tool settings (README, LICENSE, docs/...): the template's file is kept;
- an `__init__.py` the template has: the template's is kept;
- anything else: an error naming every such path, before anything is written.
"""

from __future__ import annotations

import contextlib
import fnmatch
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlscaffold.engine import edits, fit
from mlscaffold.engine.ccrender import Rendered, render_cookiecutter
from mlscaffold.engine.layout import Packaging, detect_packaging, import_name
from mlscaffold.engine.render import FileSpec
from mlscaffold.engine.templates import Unit, cookiecutter_variables, read_cookiecutter_json
from mlscaffold.errors import AnswerError, TemplateError

BASE_PACKAGE = "base_package"  # the answer naming the template's package when it has several
KEPT_FROM_BASE = (
    "README*", "LICENSE*", "LICENCE*", "COPYING*", "AUTHORS*", "CHANGELOG*", "HISTORY*", "CONTRIBUTING*",
    "CODE_OF_CONDUCT*", "SECURITY*", ".pre-commit-config.yaml", ".editorconfig", "docs/*",
)  # fmt: skip
LINE_MERGED = (".dockerignore",)
_CONFTEST = "tests/conftest.py"
_ROOT_LINE = "ROOT = Path(__file__).resolve().parents[1]"
# Answers that may name the template's package or project, in the order they are tried.
_NAME_KEYS = ("package_name", "module_name", "project_slug", "repo_name", "project_name")


@dataclass(frozen=True)
class Composed:
    """The files of the whole project, the one-line notes of every merge, and the commands to run."""

    files: dict[str, FileSpec]
    merges: tuple[str, ...]
    next_step: str


def template_answers(unit: Unit, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers that are the template's variables, as cookiecutter's extra context (empty is "")."""
    names = cookiecutter_variables(read_cookiecutter_json(unit.root))
    return {k: ("" if answers[k] is None else answers[k]) for k in names if k in answers}


def render_base(
    unit: Unit, answers: Mapping[str, Any], *, trusted: bool, hooks: bool, output_dir: Path | None
) -> Rendered:
    """The template rendered by cookiecutter with the answers that are its variables."""
    return render_cookiecutter(
        unit.root, template_answers(unit, answers), trusted=trusted, hooks=hooks, output_dir=output_dir
    )


@contextlib.contextmanager
def on_disk(rendered: Rendered) -> Iterator[Path]:
    """The rendered template in a temporary folder named as cookiecutter names it (`engine.fit` reads a
    repo from disk); removed at the end (P15)."""
    with tempfile.TemporaryDirectory(prefix="mlscaffold-base-") as scratch:
        root = Path(scratch) / rendered.project_dir
        for rel, (data, mode) in rendered.files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(mode)
        root.mkdir(exist_ok=True)
        yield root


def facts_for(
    repo: Path,
    rendered: Rendered,
    answers: Mapping[str, Any],
    choose: Callable[[Sequence[str]], str] | None = None,
) -> fit.RepoFacts:
    """Where the pipeline goes: beside the template's real package (from its packaging metadata, else
    from its folders; when several, the one its answers name, else the `base_package` answer)."""
    pyproject = _pyproject(rendered)
    packaging = detect_packaging(rendered.files, pyproject)
    chosen = choose_package(packaging, answers, choose)
    facts = fit.detect_repo(repo, None, chosen, None)
    project = str(answers.get("project_name") or rendered.project_dir)
    return replace(facts, pipeline=fit.pipeline_for(chosen, project))


def _pyproject(rendered: Rendered) -> dict[str, Any] | None:
    found = rendered.files.get("pyproject.toml")
    if found is None:
        return None
    try:
        return tomllib.loads(found[0].decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise TemplateError(
            f"pyproject.toml (rendered by the cookiecutter template): not valid TOML: {err}"
        ) from err


def choose_package(
    packaging: Packaging,
    answers: Mapping[str, Any],
    choose: Callable[[Sequence[str]], str] | None = None,
) -> str | None:
    """The template's package: the one the `base_package` answer names, the only one, the one the
    metadata names after the project, the one a name answer (package_name, project_slug...) names, or
    the one `choose` (a person on a terminal) picks among them."""
    found = list(packaging.packages)
    given = answers.get(BASE_PACKAGE)
    if given:
        if str(given) not in found:
            raise AnswerError(
                BASE_PACKAGE,
                f"{given!r} is not a package of the template (found: {', '.join(found) or 'none'})",
            )
        return str(given)
    if not packaging.ambiguous:
        return found[0] if found else None
    for key in _NAME_KEYS:
        value = answers.get(key)
        named = import_name(str(value)) if value else ""
        matches = [p for p in found if p.replace(".", "_") == named or p.split(".")[-1] == named]
        if len(matches) == 1:
            return matches[0]
    if choose is not None:
        picked = choose(tuple(found))
        if picked in found:
            return picked
    raise AnswerError(
        BASE_PACKAGE,
        f"the template has several packages ({', '.join(found)}) and no answer names one; "
        f"say which with --set {BASE_PACKAGE}=NAME",
    )


# ---------------------------------------------------------------------------------------------------
# putting the two sides together


def compose(rendered: Rendered, fitted: fit.Fitted, facts: fit.RepoFacts, template: Path) -> Composed:
    """The template's files, the fitted edits of its shared files, and mlscaffold's files, with every
    path both write resolved by the module's rules (or all of them reported at once)."""
    files = {
        rel: FileSpec(rel, data, mode, f"cookiecutter/{rel}") for rel, (data, mode) in rendered.files.items()
    }
    for change in fitted.edits:
        mine = files[change.path]
        files[change.path] = replace(mine, data=change.content, origin=f"merged: {change.path}")
    merges = list(fitted.merges)
    conflicts: list[str] = []
    for spec in fitted.specs:
        ours = replace(spec, force_add=True)
        own = _same_document(files, spec.path)
        if own is not None:  # README.rst of the template: no second README.md beside it
            merges.append(f"{spec.path}: not written; the template has its own {own}")
            continue
        theirs = files.get(spec.path)
        if theirs is None or theirs.content == spec.content:
            files[spec.path] = ours
            continue
        note = _resolve(files, theirs, ours, conflicts)
        if note:
            merges.append(note)
    if conflicts:
        raise TemplateError(
            f"{template}: the template writes {len(conflicts)} file(s) that the stages write too: "
            f"{', '.join(sorted(conflicts))}; nothing was written (rename them in the template, or leave "
            "out the stage that writes them)"
        )
    return Composed(files, tuple(merges), _next_step(fitted, facts))


def _same_document(files: dict[str, FileSpec], path: str) -> str | None:
    """The template's root README, LICENSE... in another format (`README.rst` for our `README.md`)."""
    if "/" in path or not any(fnmatch.fnmatch(path, pattern) for pattern in KEPT_FROM_BASE):
        return None
    stem = path.split(".")[0].upper()
    return next(
        (p for p in sorted(files) if "/" not in p and p != path and p.split(".")[0].upper() == stem), None
    )


def _resolve(files: dict[str, FileSpec], theirs: FileSpec, ours: FileSpec, conflicts: list[str]) -> str:
    """One path both write: a documented merge (the note says what), or a conflict."""
    path = theirs.path
    if path.endswith("/__init__.py") or path == "__init__.py":
        return ""  # the template's package stays the template's
    if any(fnmatch.fnmatch(path, pattern) for pattern in KEPT_FROM_BASE):
        return f"{path}: the template's file is kept (mlscaffold's version is not written)"
    if path in LINE_MERGED:
        have = theirs.content.decode("utf-8", "surrogateescape")
        present = {h.strip() for h in have.splitlines()}
        lines = [
            line
            for line in ours.content.decode("utf-8").splitlines()
            if line.strip() and not line.startswith("#") and line.strip() not in present
        ]
        if lines:
            files[path] = replace(theirs, data=edits.append_lines(have, lines), origin=f"merged: {path}")
            return f"{path}: appended {len(lines)} line(s) the service image needs"
        return ""
    if path == _CONFTEST and "conftest.py" not in files and _ROOT_LINE in ours.content.decode("utf-8"):
        text = ours.content.decode("utf-8").replace(_ROOT_LINE, "ROOT = Path(__file__).resolve().parent")
        files["conftest.py"] = replace(ours, path="conftest.py", data=text.encode("utf-8"))
        return "conftest.py: the pipeline's test fixtures (the template has its own tests/conftest.py)"
    conflicts.append(path)
    return ""


def _next_step(fitted: fit.Fitted, facts: fit.RepoFacts) -> str:
    """Install, the whole pipeline, the project's tests: commands that exist in the project."""
    install = fitted.install or ["pip install -e '.[dev]'"]
    steps = " && ".join([*install, fitted.run, fitted.tests])
    return f"{steps}   (without make: python -m {facts.pipeline} all)"
