"""Fitting a rendering to a repo mlscaffold did not write, for `add`.

The pipeline gets a package of its own beside the user's (`<package>_pipeline`), in the user's layout;
the repo's install is taught to ship it; a Makefile the user wrote gets namespaced `ml-*` targets that
run the pipeline's own `mlscaffold.mk`; `.gitignore` additions never hide tracked files; the CI workflow
uses only commands that exist. Every edit of a user's file is described in one line (`Fitted.merges`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlscaffold import vcs
from mlscaffold.engine import edits, tomledit
from mlscaffold.engine.layout import Layout, Packaging, detect_packaging, find_packages
from mlscaffold.engine.names import check_package_name, derived_names
from mlscaffold.engine.record import Record
from mlscaffold.engine.render import Change, FileSpec
from mlscaffold.engine.templates import Unit
from mlscaffold.errors import UserError

Choose = Callable[[str, list[str]], str]
_SKIP_DIRS = frozenset(
    {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox", "build", "dist"}
)


@dataclass(frozen=True)
class RepoFacts:
    """What `add` needs to know about the repo it adds to."""

    project_name: str
    pipeline: str  # the pipeline's package
    layout: Layout  # where the pipeline's package goes: src/<pipeline> or <pipeline>
    foreign: bool  # the repo's own Makefile / packaging must be fitted (not a generated project)
    package: str | None = None  # the user's package the pipeline sits beside
    packaging: Packaging | None = None


@dataclass
class Fitted:
    specs: list[FileSpec]
    edits: list[Change] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)
    next_step: str = ""
    install: list[str] = field(default_factory=list)  # the install commands, in order
    run: str = "make all"  # the command that runs the whole pipeline
    tests: str = "make test"  # the command that runs every test of the repo
    namespaced: list[str] = field(default_factory=list)  # the pipeline's targets reached as `ml-<target>`


def repo_files(repo: Path) -> list[str]:
    """The repo's files: tracked and untracked-but-not-ignored in git, else a walk of the folder."""
    if (repo / ".git").exists():
        try:
            out = vcs.listed_files(repo)
        except Exception:
            out = None
        if out is not None:
            return out
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        rel = os.path.relpath(dirpath, repo)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        found.extend(prefix + name for name in filenames)
    return found


def read_pyproject(repo: Path) -> dict[str, Any] | None:
    path = repo / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not valid TOML: {err}") from err


def detect_repo(repo: Path, record: Record | None, package: str | None, choose: Choose | None) -> RepoFacts:
    """The facts for `add`: from the record when mlscaffold made (or already fitted) the repo, else from
    the packaging metadata, asking (`choose`) or taking `package` when it names several packages."""
    if record is not None:
        pipeline = str(record.answers.get("package_name") or derived_names(repo.name)[1])
        if "base_package" in record.answers:  # made on a cookiecutter base: the pipeline sits beside it
            name = str(record.answers.get("project_name") or repo.name)
            pipeline = pipeline_for(str(record.answers["base_package"]), name)
        layout: Layout = (
            "flat" if (repo / pipeline).is_dir() and not (repo / "src" / pipeline).is_dir() else "src"
        )
        foreign = (repo / edits.PIPELINE_MAKEFILE).is_file()
        return RepoFacts(str(record.answers.get("project_name", repo.name)), pipeline, layout, foreign)
    files = repo_files(repo)
    packaging = detect_packaging(files, read_pyproject(repo))
    chosen = _choose_package(repo, packaging, package, choose)
    tree = find_packages(files)
    layout = tree.get(chosen, packaging.layout) if chosen else ("src" if (repo / "src").is_dir() else "flat")
    name = packaging.name or repo.name
    pipeline = f"{chosen.replace('.', '_')}_pipeline" if chosen else derived_names(name)[1]
    check_package_name(pipeline)
    return RepoFacts(name, pipeline, layout, True, chosen, packaging)


def pipeline_for(package: str | None, project_name: str) -> str:
    """The pipeline's package beside a cookiecutter base's: `<package>_pipeline`, or named after the
    project when the base has no package or calls it `src` (data-science templates)."""
    if package and package != "src":
        return f"{package.replace('.', '_')}_pipeline"
    return f"{derived_names(project_name)[1]}_pipeline"


def _choose_package(
    repo: Path, packaging: Packaging, package: str | None, choose: Choose | None
) -> str | None:
    found = list(packaging.packages)
    if package is not None:
        if not all(part.isidentifier() for part in package.split(".")):
            raise UserError(
                f"--package {package!r}: not an importable package name (like churnkit or acme.models)"
            )
        on_disk = (repo / package.replace(".", "/")).is_dir() or (
            repo / "src" / package.replace(".", "/")
        ).is_dir()
        if package not in found and not on_disk:
            listed = ", ".join(found) or "none"
            raise UserError(f"--package {package}: no such package in {repo} (found: {listed})")
        return package
    if not packaging.ambiguous:
        return found[0] if found else None
    question = f"Which package should the pipeline be wired to ({packaging.source} names {len(found)})?"
    if choose is not None:
        return choose(question, found)
    where = "pyproject.toml" if packaging.backend != "none" else str(repo)
    raise UserError(
        f"{where}: cannot tell which package to wire the pipeline to ({packaging.source}: "
        f"{', '.join(found)}); pass --package NAME"
    )


# ---------------------------------------------------------------------------------------------------
# fitting the planned files


def fit_specs(repo: Path, facts: RepoFacts, specs: Iterable[FileSpec], units: Sequence[Unit]) -> Fitted:
    """Adjust the planned files of `add` to a repo mlscaffold did not write (see the module docstring)."""
    files = {spec.path: spec for spec in specs}
    fitted = Fitted(list(files.values()))
    if not facts.foreign:
        fitted.next_step = f"pip install -e '.[dev]' && make all   (or: python -m {facts.pipeline} all)"
        return fitted
    run = _fit_makefile(repo, files, fitted)
    install = _fit_pyproject(repo, facts, files, units, fitted)
    _fit_gitignore(repo, files, units, fitted)
    tests = "make test" if run == "make all" else "python -m pytest"
    run = run or f"python -m {facts.pipeline} all"
    fitted.install, fitted.run, fitted.tests = install, run, tests
    _namespace_workflows(files, fitted.namespaced)
    if ".github/workflows/ci.yml" in files:  # the base's workflow assumes the generated layout
        files.pop(".github/workflows/ci.yml")
        content = edits.foreign_ci(
            [line.replace("pip install", "python -m pip install") for line in install], run, tests
        )
        files[edits.FOREIGN_CI] = FileSpec(edits.FOREIGN_CI, content, 0o644, "mlscaffold: CI for this repo")
    fitted.specs = list(files.values())
    steps = " && ".join([*install, run]) if install else run
    fitted.next_step = f"{steps}   (without make: python -m {facts.pipeline} all)"
    return fitted


def _fit_makefile(repo: Path, files: dict[str, FileSpec], fitted: Fitted) -> str:
    """A Makefile the user wrote keeps theirs; the pipeline's goes to mlscaffold.mk, reached through
    `ml-*` targets appended to theirs. Returns the command that runs the whole pipeline."""
    user_makefile = repo / "Makefile"
    if not user_makefile.is_file():
        return "make all"
    ours = files.pop("Makefile", None)
    if ours is not None:
        files[edits.PIPELINE_MAKEFILE] = FileSpec(
            edits.PIPELINE_MAKEFILE, ours.content, ours.mode, ours.origin
        )
    sources = {p: s.content.decode("utf-8") for p, s in files.items() if _is_pipeline_make(p)}
    for path in [repo / edits.PIPELINE_MAKEFILE, *sorted((repo / "mk").glob("*.mk"))]:
        rel = path.relative_to(repo).as_posix()
        if path.is_file() and rel not in sources:
            sources[rel] = path.read_text(encoding="utf-8")
    texts = [text for _, text in sorted(sources.items(), key=_make_order)]
    # the user's own install, lint and format stay theirs: the pipeline's assume the generated layout
    targets = [t for t in edits.make_targets_of(texts) if t not in ("install", "lint", "format")]
    if not targets:  # the stages bring no make targets: the user's Makefile stays as it is
        return ""
    current = user_makefile.read_bytes().decode("utf-8", "surrogateescape")
    fitted.namespaced = targets
    merged = edits.merge_namespaced_block(current, targets)
    if merged is not None:
        fitted.edits.append(Change("Makefile", "modify", merged, user_makefile.stat().st_mode & 0o777))
        shown = ", ".join(f"ml-{t}" for t in targets[:6]) + (", ..." if len(targets) > 6 else "")
        verb = "refreshed the" if edits.BLOCK_START in current else "appended"
        fitted.merges.append(
            f"Makefile: {verb} namespaced targets ({shown}) that run {edits.PIPELINE_MAKEFILE}; "
            "your own targets and variables are untouched"
        )
    return "make ml-all"


def _namespace_workflows(files: dict[str, FileSpec], targets: list[str]) -> None:
    """The stages' own workflows (monitor.yml: `make data train deploy`) call the namespaced targets
    when the pipeline's make targets live behind `ml-*`: the repo's own `data` is another target."""
    import re

    if not targets:
        return
    call = re.compile(r"\bmake((?:[ \t]+[A-Za-z][A-Za-z0-9_-]*)+)")

    def rename(match: re.Match[str]) -> str:
        words = re.split(r"([ \t]+)", match.group(1))
        return "make" + "".join(f"ml-{w}" if w in targets else w for w in words)

    for path, spec in list(files.items()):
        if path.startswith(".github/workflows/") and path.endswith((".yml", ".yaml")):
            text = spec.content.decode("utf-8")
            fitted = call.sub(rename, text)
            if fitted != text:
                files[path] = replace(spec, data=fitted.encode("utf-8"), source=None)


def _is_pipeline_make(path: str) -> bool:
    return path == edits.PIPELINE_MAKEFILE or (path.startswith("mk/") and path.endswith(".mk"))


def _fit_pyproject(
    repo: Path, facts: RepoFacts, files: dict[str, FileSpec], units: Sequence[Unit], fitted: Fitted
) -> list[str]:
    """Teach the repo's packaging to install the pipeline package and its dependencies. Returns the
    install commands for the next step and CI."""
    rendered = files.get("pyproject.toml")
    if rendered is None:  # a later `add`: the packaging was fitted by the first one
        return []
    packaging = facts.packaging
    assert packaging is not None
    path = repo / "pyproject.toml"
    own = sorted({p.split(".")[0] for p in packaging.packages})
    pipeline = [
        facts.pipeline,
        *sorted({_dotted(s.path, facts) for s in files.values() if _is_subpackage(s.path, facts)}),
    ]
    install = ["pip install -r requirements.txt"] if (repo / "requirements.txt").is_file() else []
    deps = [d for u in units for d in u.dependencies]
    dev = [d for u in units for d in u.dev_dependencies]
    if not path.is_file():
        text = rendered.content.decode("utf-8")
        if facts.layout == "flat":
            text, _ = tomledit.include_packages(
                _without_src_find(text), "setuptools", False, "flat", own, pipeline
            )
        files["pyproject.toml"] = FileSpec(
            "pyproject.toml", text.encode("utf-8"), rendered.mode, rendered.origin
        )
        kept = "; requirements.txt stays as it is: install it as before" if install else ""
        fitted.merges.append(
            "pyproject.toml: new (the repo had none): installs the pipeline package and its "
            "dependencies" + kept
        )
        return [*install, "pip install -e '.[dev]'"]
    files.pop("pyproject.toml")
    text = path.read_text(encoding="utf-8")
    notes: list[str] = []
    if not packaging.has_project:
        if packaging.backend not in ("setuptools", "none"):
            raise UserError(
                f"{path}: a {packaging.backend} project without a [project] table; add one "
                "(PEP 621) so the stages' dependencies have a place, then run add again"
            )
        text, note = tomledit.ensure_project_table(text, derived_names(facts.project_name)[0])
        notes.append(str(note))
        if install:
            notes.append("requirements.txt stays as it is: install it as before")
    text, note = tomledit.include_packages(
        text, packaging.backend, packaging.declared, facts.layout, own, pipeline
    )
    if note:
        notes.append(note)
    if packaging.backend == "flit":
        notes.append(
            f"flit builds one module: {facts.pipeline} runs from the source folder, not from the wheel"
        )
    after = tomledit.add_dependencies(text, deps, dev)
    added = tomledit.added_requirements(text, after)
    if added:
        notes.append(f"dependencies added: {', '.join(added)}")
    if after != path.read_text(encoding="utf-8"):
        fitted.edits.append(
            Change("pyproject.toml", "modify", after.encode("utf-8"), path.stat().st_mode & 0o777)
        )
        fitted.merges.append("pyproject.toml: " + "; ".join(notes))
    return [*install, "pip install -e '.[dev]'"]


def _is_subpackage(path: str, facts: RepoFacts) -> bool:
    prefix = f"src/{facts.pipeline}/" if facts.layout == "src" else f"{facts.pipeline}/"
    return path.startswith(prefix) and path.endswith("/__init__.py") and path.count("/") > prefix.count("/")


def _dotted(path: str, facts: RepoFacts) -> str:
    rel = path.removeprefix("src/") if facts.layout == "src" else path
    return rel.removesuffix("/__init__.py").replace("/", ".")


def _without_src_find(text: str) -> str:
    """The base's pyproject.toml finds packages under src/; a flat repo lists them instead."""
    import tomlkit

    doc = tomlkit.parse(text)
    setuptools = doc.get("tool", {}).get("setuptools", {})
    if isinstance(setuptools, dict) and "packages" in setuptools:
        del setuptools["packages"]
    pytest_options = doc.get("tool", {}).get("pytest", {}).get("ini_options", {})
    if isinstance(pytest_options, dict) and pytest_options.get("pythonpath") == ["src"]:
        pytest_options["pythonpath"] = ["."]
    return tomlkit.dumps(doc)


def _fit_gitignore(repo: Path, files: dict[str, FileSpec], units: Sequence[Unit], fitted: Fitted) -> None:
    """Add only lines that hide no tracked file; where one would, ignore the exact outputs instead."""
    rendered = files.pop(".gitignore", None)
    if rendered is None:
        return
    path = repo / ".gitignore"
    current = path.read_bytes().decode("utf-8", "surrogateescape") if path.is_file() else ""
    produced = [p for u in units for p in u.produces]
    lines, notes = edits.gitignore_additions(
        current, rendered.content.decode("utf-8"), lambda line: vcs.tracked_covered_by(repo, line), produced
    )
    if not lines:
        return
    if path.is_file():
        content = edits.append_lines(current, lines)
        fitted.edits.append(Change(".gitignore", "modify", content, path.stat().st_mode & 0o777))
        fitted.merges.append(
            f".gitignore: added {len(lines)} line(s) for the pipeline's outputs and caches"
            + "".join(f"; {n}" for n in notes)
        )
    else:
        content = (
            "# Written by mlscaffold: the pipeline's outputs and Python caches\n" + "\n".join(lines) + "\n"
        ).encode()
        files[".gitignore"] = FileSpec(".gitignore", content, 0o644, rendered.origin)
        fitted.merges.extend(f".gitignore: {n}" for n in notes)


def _make_order(item: tuple[str, object]) -> tuple[bool, str]:
    return item[0] != edits.PIPELINE_MAKEFILE, item[0]
