"""Minimal, format-preserving edits to a generated project's pyproject.toml (comments and order kept)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from .errors import UserError

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
