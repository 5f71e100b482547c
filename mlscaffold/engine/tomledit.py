"""Minimal, format-preserving edits to a generated project's pyproject.toml (comments and order kept)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from mlscaffold.errors import UserError

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _canonical(requirement: str) -> str:
    match = _NAME.match(requirement)
    name = match.group(1) if match else requirement
    return re.sub(r"[-_.]+", "-", name).lower()


def _extend(array: object, requirements: Iterable[str], key: str) -> bool:
    if not isinstance(array, list):
        raise UserError(f"pyproject.toml: {key} must be a list of requirements")
    present = {_canonical(str(item)) for item in array}
    changed = False
    for requirement in requirements:
        if _canonical(requirement) not in present:
            array.append(requirement)
            present.add(_canonical(requirement))
            changed = True
    return changed


def _table(parent: Any, key: str, where: str) -> Any:
    """The table `parent[key]`, created when absent; anything else there is an error naming it."""
    if key not in parent:
        parent[key] = tomlkit.table()
    value = parent[key]
    if not isinstance(value, dict):
        raise UserError(f"pyproject.toml: {where} must be a table")
    return value


def add_dependencies(text: str, dependencies: Iterable[str], dev_dependencies: Iterable[str] = ()) -> str:
    """Add requirements to [project].dependencies and the `dev` extra, skipping packages already named
    (whatever their version). Comments, order and line endings are kept; the text comes back unchanged
    when nothing is new. A layout the edit cannot be sure of is an error, never a silent loss."""
    dependencies, dev_dependencies = list(dependencies), list(dev_dependencies)
    if not dependencies and not dev_dependencies:
        return text
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as err:
        raise UserError(f"pyproject.toml: not valid TOML: {err}") from err
    if "project" not in doc:
        raise UserError("pyproject.toml: no [project] table to add dependencies to")
    project = _table(doc, "project", "[project]")
    changed = False
    if dependencies:
        if "dependencies" not in project:
            project["dependencies"] = tomlkit.array()
        changed |= _extend(project["dependencies"], dependencies, "[project].dependencies")
    if dev_dependencies:
        extras = _table(project, "optional-dependencies", "[project.optional-dependencies]")
        if "dev" not in extras:
            extras["dev"] = tomlkit.array()
        changed |= _extend(extras["dev"], dev_dependencies, "[project.optional-dependencies].dev")
    if not changed:
        return text
    array = project.get("dependencies")
    if isinstance(array, tomlkit.items.Array) and len(array) > 2:
        array.multiline(True)
    out = tomlkit.dumps(doc)
    _verify(out, dependencies, dev_dependencies)
    if "\r\n" in text:
        out = out.replace("\r\n", "\n").replace("\n", "\r\n")
    return out


def _verify(out: str, dependencies: list[str], dev_dependencies: list[str]) -> None:
    """Read the result back as plain TOML: every requirement must be where it was meant to go."""
    import tomllib

    try:
        project = tomllib.loads(out).get("project", {})
        found = {_canonical(r) for r in project.get("dependencies", [])}
        found_dev = {_canonical(r) for r in project.get("optional-dependencies", {}).get("dev", [])}
    except (tomllib.TOMLDecodeError, AttributeError, TypeError) as err:
        raise UserError(f"pyproject.toml: could not be edited safely ({err})") from err
    missing = [r for r in dependencies if _canonical(r) not in found]
    missing += [r for r in dev_dependencies if _canonical(r) not in found_dev]
    if missing:
        raise UserError(
            "pyproject.toml: its layout (dotted keys?) could not be edited safely; "
            f"add these requirements by hand: {', '.join(missing)}"
        )


# ---------------------------------------------------------------------------------------------------
# fitting a repo's own pyproject.toml so its install also ships the pipeline package


def ensure_project_table(text: str, name: str) -> tuple[str, str | None]:
    """A pyproject.toml with only [tool.*] tables gets a minimal [project] table (name, version,
    requires-python, dependencies) and, when it names no build backend, setuptools'. Returns the text and
    a note saying what was added (None when it already had [project])."""
    doc = _parse(text)
    if "project" in doc:
        return text, None
    project = tomlkit.table()
    project["name"] = name
    project["version"] = "0.1.0"
    project["requires-python"] = ">=3.11"
    project["dependencies"] = tomlkit.array()
    added = ["[project] (name, version, requires-python, dependencies)"]
    if "build-system" not in doc:
        build = tomlkit.table()
        build["requires"] = ["setuptools>=64"]
        build["build-backend"] = "setuptools.build_meta"
        doc.add("build-system", build)
        added.append("[build-system] (setuptools)")
    doc.add("project", project)
    return _dumps(doc, text), "added " + " and ".join(added)


def include_packages(
    text: str, backend: str, declared: bool, layout: str, own: list[str], pipeline: list[str]
) -> tuple[str, str | None]:
    """Make the build ship the pipeline package (`pipeline`: it and its subpackages, dotted) beside the
    user's (`own`: their top-level packages). Only what the backend cannot find alone is written; the note
    says what (None when nothing was needed)."""
    doc = _parse(text)
    tool = doc.get("tool", {})
    top = pipeline[0]
    prefix = "src/" if layout == "src" else ""
    note: str | None = None
    if backend == "setuptools":
        note = _setuptools_include(doc, tool.get("setuptools", {}), layout, own, pipeline)
    elif backend == "hatch":
        wheel = _path(doc, ("tool", "hatch", "build", "targets", "wheel"))
        packages = wheel.get("packages")
        if packages is None:
            wheel["packages"] = [f"{prefix}{p}" for p in own] + [f"{prefix}{top}"]
            note = "[tool.hatch.build.targets.wheel] packages lists your package(s) and " + top
        elif f"{prefix}{top}" not in packages:
            packages.append(f"{prefix}{top}")
            note = f"[tool.hatch.build.targets.wheel] packages += {prefix}{top}"
    elif backend == "poetry":
        poetry = _path(doc, ("tool", "poetry"))
        entry = {"include": top, **({"from": "src"} if layout == "src" else {})}
        packages = poetry.get("packages")
        if packages is None:
            entries = [{"include": p, **({"from": "src"} if layout == "src" else {})} for p in own]
            poetry["packages"] = [_inline(e) for e in [*entries, entry]]
            note = "[tool.poetry] packages lists your package(s) and " + top
        elif not any(isinstance(e, dict) and e.get("include") == top for e in packages):
            packages.append(_inline(entry))
            note = f"[tool.poetry] packages += {top}"
    elif backend == "pdm":
        build = tool.get("pdm", {}).get("build", {})
        includes = build.get("includes") if isinstance(build, dict) else None
        if isinstance(includes, list) and f"{prefix}{top}" not in includes:
            includes.append(f"{prefix}{top}")
            note = f"[tool.pdm.build] includes += {prefix}{top}"
    if note is None:
        return text, None
    return _dumps(doc, text), note


def _setuptools_include(doc: Any, table: Any, layout: str, own: list[str], pipeline: list[str]) -> str | None:
    top = pipeline[0]
    listed = table.get("packages") if isinstance(table, dict) else None
    if isinstance(listed, list):
        missing = [p for p in pipeline if p not in listed]
        listed.extend(missing)
        return f"[tool.setuptools] packages += {', '.join(missing)}" if missing else None
    find = listed.get("find") if isinstance(listed, dict) else None
    if isinstance(find, dict):
        include = find.get("include")
        if isinstance(include, list) and not any(fnmatch_any(top, str(p)) for p in include):
            include.extend([top, f"{top}.*"])
            return f"[tool.setuptools.packages.find] include += {top}, {top}.*"
        return None
    if layout == "src":
        return None  # setuptools' automatic discovery finds every package under src/
    find = _path(doc, ("tool", "setuptools", "packages", "find"))
    find["include"] = [pattern for p in [*own, top] for pattern in (p, f"{p}.*")]
    return (
        "[tool.setuptools.packages.find] include lists your package(s) and "
        f"{top} (automatic discovery refuses a flat layout with several top-level folders)"
    )


def fnmatch_any(name: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name, pattern)


def _path(doc: Any, keys: tuple[str, ...]) -> Any:
    """The table at doc[k1][k2]..., created (as super-tables where possible) when absent."""
    node = doc
    for key in keys:
        if key not in node:
            node[key] = tomlkit.table(is_super_table=key != keys[-1])
        node = node[key]
        if not isinstance(node, dict):
            raise UserError(f"pyproject.toml: [{'.'.join(keys)}] must be a table")
    return node


def _inline(entry: dict[str, str]) -> Any:
    table = tomlkit.inline_table()
    table.update(entry)
    return table


def _parse(text: str) -> Any:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as err:
        raise UserError(f"pyproject.toml: not valid TOML: {err}") from err


def _dumps(doc: Any, original: str) -> str:
    out = tomlkit.dumps(doc)
    if "\r\n" in original:
        out = out.replace("\r\n", "\n").replace("\n", "\r\n")
    return out


def added_requirements(before: str, after: str) -> list[str]:
    """The requirements `add_dependencies` added between two versions of a pyproject.toml."""
    import tomllib

    def named(text: str) -> list[str]:
        project = tomllib.loads(text).get("project", {}) if text.strip() else {}
        extras = project.get("optional-dependencies", {})
        return [*project.get("dependencies", []), *extras.get("dev", [])]

    had = {_canonical(r) for r in named(before)}
    return [r for r in named(after) if _canonical(r) not in had]
