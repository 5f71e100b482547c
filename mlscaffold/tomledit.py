"""Minimal, format-preserving edits to a generated project's pyproject.toml (comments and order kept)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import tomlkit
from tomlkit.exceptions import TOMLKitError

from .errors import UserError

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _canonical(requirement: str) -> str:
    match = _NAME.match(requirement)
    name = match.group(1) if match else requirement
    return re.sub(r"[-_.]+", "-", name).lower()


def _extend(array: object, requirements: Iterable[str]) -> bool:
    if not isinstance(array, list):
        raise UserError("pyproject.toml: dependencies must be a list")
    present = {_canonical(str(item)) for item in array}
    changed = False
    for requirement in requirements:
        if _canonical(requirement) not in present:
            array.append(requirement)
            present.add(_canonical(requirement))
            changed = True
    return changed


def add_dependencies(text: str, dependencies: Iterable[str], dev_dependencies: Iterable[str] = ()) -> str:
    """Add requirements to [project].dependencies and the `dev` extra, skipping packages already named
    (whatever their version). Returns the text unchanged when nothing is new."""
    dependencies, dev_dependencies = list(dependencies), list(dev_dependencies)
    if not dependencies and not dev_dependencies:
        return text
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as err:
        raise UserError(f"pyproject.toml: not valid TOML: {err}") from err
    project = doc.get("project")
    if project is None:
        raise UserError("pyproject.toml: no [project] table to add dependencies to")
    changed = False
    if dependencies:
        if "dependencies" not in project:
            project["dependencies"] = tomlkit.array()
        changed |= _extend(project["dependencies"], dependencies)
    if dev_dependencies:
        extras = project.setdefault("optional-dependencies", tomlkit.table())
        if "dev" not in extras:
            extras["dev"] = tomlkit.array()
        changed |= _extend(extras["dev"], dev_dependencies)
    if not changed:
        return text
    for key in ("dependencies",):
        array = project.get(key)
        if isinstance(array, tomlkit.items.Array) and len(array) > 2:
            array.multiline(True)
    return tomlkit.dumps(doc)
