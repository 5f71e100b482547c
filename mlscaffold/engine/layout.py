"""Which Python package a repo holds, and how it is packaged: read from the packaging metadata first
(setuptools, hatch, poetry, PDM, flit), then from where the `__init__.py` files are.

Pure: works on a list of relative POSIX paths and the parsed `pyproject.toml`, so the same answer
comes out for a repo on disk (`add`) and for a rendered tree (a cookiecutter base). Used by `add` and
by cookiecutter-based bases; nothing here writes.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Backend = Literal["setuptools", "hatch", "poetry", "pdm", "flit", "other", "none"]
Layout = Literal["src", "flat"]

# Top-level folders that hold no importable project code, whatever they contain.
NOT_PACKAGES = frozenset(
    {"tests", "test", "testing", "docs", "doc", "examples", "example", "scripts", "tools", "benchmarks",
     "bench", "notebooks", "build", "dist", "site", "venv", ".venv", "env", "data", "mk", "reports",
     "artifacts", "logs", "predictions", "migrations", "conftest"}
)  # fmt: skip
_BACKENDS: tuple[tuple[str, Backend], ...] = (
    ("setuptools", "setuptools"),
    ("hatchling", "hatch"),
    ("poetry", "poetry"),
    ("pdm", "pdm"),
    ("flit", "flit"),
)


@dataclass(frozen=True)
class Packaging:
    """What the packaging metadata and the tree say about a repo's code."""

    backend: Backend
    has_project: bool  # a [project] table (PEP 621): dependencies can be added there
    name: str | None  # the distribution name
    packages: tuple[str, ...]  # import names of the top-level packages, metadata's first
    layout: Layout
    source: str  # where `packages` was read from, for messages
    declared: bool  # the metadata names the packages explicitly (a list that must learn new ones)

    @property
    def ambiguous(self) -> bool:
        """More than one package, and nothing (metadata, project name) says which is the project's."""
        return len(self.packages) > 1 and not self._named_after_project()

    def _named_after_project(self) -> bool:
        return self.name is not None and import_name(self.name) == self.packages[0]


def import_name(distribution: str) -> str:
    """`Churn-Model.core` -> `churn_model_core`: a distribution name as the identifier it usually is."""
    return re.sub(r"[^0-9a-zA-Z_]+", "_", distribution).strip("_").lower()


def backend_of(pyproject: Mapping[str, Any] | None) -> Backend:
    if pyproject is None:
        return "none"
    build = pyproject.get("build-system")
    backend = str(build.get("build-backend", "")) if isinstance(build, dict) else ""
    for needle, name in _BACKENDS:
        if needle in backend:
            return name
    tool = _table(pyproject, "tool")
    if "poetry" in tool and "project" not in pyproject:
        return "poetry"
    # PEP 517: no build-backend means setuptools' legacy backend.
    return "setuptools" if not backend else "other"


def find_packages(paths: Iterable[str]) -> dict[str, Layout]:
    """Top-level import packages in a tree: `src/x/__init__.py`, `x/__init__.py`, and namespace packages
    (`src/acme/models/__init__.py` with no `src/acme/__init__.py` gives `acme.models`)."""
    files = set(paths)
    found: dict[str, Layout] = {}
    for path in sorted(files):
        parts = path.split("/")
        if parts[-1] != "__init__.py" or any(p.startswith(".") for p in parts):
            continue
        # `src/__init__.py` makes `src` itself the package (`from src.models import ...`, common in
        # data-science repos), not a src layout
        src = parts[0] == "src" and "src/__init__.py" not in files
        dirs = parts[1:-1] if src else parts[:-1]
        if not dirs or (not src and dirs[0] in NOT_PACKAGES) or not all(d.isidentifier() for d in dirs):
            continue
        prefix = "src/" if src else ""
        # the outermost folder with an __init__.py is the package; folders above it are namespaces
        for depth in range(1, len(dirs) + 1):
            if f"{prefix}{'/'.join(dirs[:depth])}/__init__.py" in files:
                name = ".".join(dirs[:depth])
                if not any(name == p or name.startswith(p + ".") for p in found):
                    found[name] = "src" if src else "flat"
                break
    return found


def detect_packaging(paths: Iterable[str], pyproject: Mapping[str, Any] | None) -> Packaging:
    """The repo's packages and layout, from the metadata when it names them, else from the tree."""
    tree = find_packages(paths)
    backend = backend_of(pyproject)
    project = _table(pyproject or {}, "project")
    name = project.get("name") if isinstance(project.get("name"), str) else None
    if name is None and backend == "poetry":
        poetry = _table(_table(pyproject or {}, "tool"), "poetry")
        name = poetry.get("name") if isinstance(poetry.get("name"), str) else None
    declared, source = _declared(pyproject or {}, backend, tree)
    if declared:
        packages = list(declared)
        layout = declared[packages[0]]
        is_declared = True
    else:
        packages = list(tree)
        layout = (
            tree[packages[0]] if packages else ("src" if any(p.startswith("src/") for p in tree) else "flat")
        )
        source = "the folders with an __init__.py"
        is_declared = False
    if name:  # the package named after the project comes first
        own = import_name(name)
        packages.sort(key=lambda p: p.replace(".", "_") != own and p.split(".")[-1] != own)
        if packages and (packages[0].replace(".", "_") == own or packages[0].split(".")[-1] == own):
            layout = (declared or tree).get(packages[0], layout)
    return Packaging(backend, bool(project), name, tuple(packages), layout, source, is_declared)


def _declared(
    pyproject: Mapping[str, Any], backend: Backend, tree: Mapping[str, Layout]
) -> tuple[dict[str, Layout], str]:
    """Packages the metadata names explicitly, with their layout; {} when it leaves them to discovery."""
    tool = _table(pyproject, "tool")
    if backend == "setuptools":
        return _setuptools(_table(tool, "setuptools"), tree)
    if backend == "hatch":
        wheel = _table(_table(_table(_table(tool, "hatch"), "build"), "targets"), "wheel")
        found: dict[str, Layout] = {}
        for entry in _strings(wheel.get("packages")):
            path = entry.strip("/")
            found[path.split("/")[-1]] = "src" if path.startswith("src/") else "flat"
        return found, "[tool.hatch.build.targets.wheel] packages"
    if backend == "poetry":
        found = {}
        for entry in _table(tool, "poetry").get("packages") or []:
            if isinstance(entry, dict) and isinstance(entry.get("include"), str):
                base = str(entry.get("from", "")).strip("/")
                found[entry["include"].replace("/", ".")] = "src" if base == "src" else "flat"
        return found, "[tool.poetry] packages"
    if backend == "flit":
        module = _table(_table(tool, "flit"), "module").get("name")
        if isinstance(module, str):
            return {module: tree.get(module, "flat")}, "[tool.flit.module] name"
    if backend == "pdm":
        build = _table(_table(tool, "pdm"), "build")
        where = "src" if build.get("package-dir") == "src" else None
        if where:
            return {
                p: where_ for p, where_ in tree.items() if where_ == "src"
            }, "[tool.pdm.build] package-dir"
    return {}, ""


def _setuptools(table: Mapping[str, Any], tree: Mapping[str, Layout]) -> tuple[dict[str, Layout], str]:
    package_dir = table.get("package-dir")
    src = isinstance(package_dir, dict) and str(package_dir.get("", "")).strip("/") == "src"
    listed = table.get("packages")
    if isinstance(listed, list):
        tops = [p for p in _strings(listed) if "." not in p] or [p.split(".")[0] for p in _strings(listed)]
        return {p: "src" if src else tree.get(p, "flat") for p in dict.fromkeys(tops)}, (
            "[tool.setuptools] packages"
        )
    find = _table(_table(table, "packages"), "find")
    if find:
        where = [w.strip("./") for w in _strings(find.get("where"))] or [""]
        layout: Layout = "src" if "src" in where else "flat"
        include = _strings(find.get("include")) or ["*"]
        exclude = _strings(find.get("exclude"))
        chosen = {
            p: layout
            for p, where_ in tree.items()
            if where_ == layout
            and any(fnmatch.fnmatchcase(p, pat) for pat in include)
            and not any(fnmatch.fnmatchcase(p, pat) for pat in exclude)
        }
        return chosen, "[tool.setuptools.packages.find]"
    return {}, ""


def _table(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
