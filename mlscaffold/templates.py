"""Finding template sets (built-in or a local folder) and reading their manifests.

A template set is a folder with `template.yaml` naming a project base and its stages; each of those is
a folder with `manifest.yaml` and a `files/` tree. The format is documented in docs/templates.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import TemplateError, TrustError, UserError, did_you_mean
from .yamlio import load_mapping

SET_MANIFEST = "template.yaml"
UNIT_MANIFEST = "manifest.yaml"
BUILTIN = "builtin"

_SET_KEYS = {"name", "version", "base", "stages", "questions", "description"}
_UNIT_KEYS = {
    "kind",
    "name",
    "purpose",
    "needs",
    "order",
    "dependencies",
    "dev_dependencies",
    "questions",
    "templates_suffix",
    "copy_without_render",
    "jinja_extensions",
    "tasks",
    "produces",
    "commands",
}


@dataclass(frozen=True)
class Unit:
    """The project base or one stage: a manifest and a tree of files."""

    kind: Literal["base", "stage"]
    name: str
    root: Path
    purpose: str = ""
    needs: tuple[str, ...] = ()
    order: int = 0
    dependencies: tuple[str, ...] = ()
    dev_dependencies: tuple[str, ...] = ()
    questions: tuple[Any, ...] = ()
    templates_suffix: str = ".jinja"
    copy_without_render: tuple[str, ...] = ()
    jinja_extensions: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()

    @property
    def files_root(self) -> Path:
        return self.root / "files"

    def code_features(self) -> list[str]:
        """What in this unit would run code: the reasons `--trust` is needed."""
        found = []
        hooks = self.root / "hooks"
        if hooks.is_dir() and any(hooks.iterdir()):
            found.append(f"{self.name}: hooks ({hooks.name}/)")
        if self.jinja_extensions:
            found.append(f"{self.name}: Jinja extensions ({', '.join(self.jinja_extensions)})")
        if self.tasks:
            found.append(f"{self.name}: tasks ({len(self.tasks)})")
        return found


@dataclass(frozen=True)
class TemplateSet:
    """A base and its stages, as found at `source`."""

    source: str
    root: Path
    name: str
    version: str
    base: Unit
    stages: dict[str, Unit] = field(default_factory=dict)
    questions: tuple[Any, ...] = ()

    def code_features(self) -> list[str]:
        found = self.base.code_features()
        for unit in self.stages.values():
            found.extend(unit.code_features())
        return found

    def require_trust(self, trusted: bool) -> None:
        """Refuse (exit 4) a template with code unless the user passed --trust (promise P3)."""
        features = self.code_features()
        if features and not trusted:
            raise TrustError(
                f"template '{self.source}' contains code that runs on your machine: "
                + "; ".join(features)
                + ". Re-run with --trust if you trust its authors."
            )

    def stage(self, name: str) -> Unit:
        try:
            return self.stages[name]
        except KeyError:
            raise UserError(
                f"unknown stage '{name}'{did_you_mean(name, self.stages)}; "
                f"available: {', '.join(self.stages)}"
            ) from None

    def order_stages(self, names: list[str] | tuple[str, ...]) -> list[str]:
        """Validate stage names, add the stages they need, and sort them into pipeline order."""
        wanted: list[str] = []

        def visit(name: str, chain: tuple[str, ...]) -> None:
            if name in chain:
                raise TemplateError(f"stage '{name}': circular 'needs': {' -> '.join((*chain, name))}")
            for need in self.stage(name).needs:
                visit(need, (*chain, name))
            if name not in wanted:
                wanted.append(name)

        for name in names:
            visit(name, ())
        position = {name: i for i, name in enumerate(self.stages)}
        return sorted(wanted, key=lambda n: (self.stages[n].order, position[n]))


def builtin_root() -> Path:
    """The templates shipped with mlscaffold: inside the wheel, or beside the package in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_templates", here.parent / "templates"):
        if (candidate / SET_MANIFEST).is_file():
            return candidate
    raise TemplateError(f"the built-in templates are missing (looked in {here / '_templates'})")


def _strings(value: Any, key: str, where: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TemplateError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _check_keys(data: dict[str, Any], known: set[str], where: Path) -> None:
    for key in data:
        if key not in known:
            raise TemplateError(f"{where}: unknown key '{key}'{did_you_mean(key, known)}")


def load_unit(root: Path, kind: Literal["base", "stage"], default_name: str) -> Unit:
    manifest = root / UNIT_MANIFEST
    if root.is_symlink() or not manifest.is_file():
        raise TemplateError(f"{manifest}: missing; every base and stage folder needs one")
    data = load_mapping(manifest)
    _check_keys(data, _UNIT_KEYS, manifest)
    declared = data.get("kind", kind)
    if declared != kind:
        raise TemplateError(f"{manifest}: 'kind' is '{declared}' but this folder is used as a {kind}")
    order = data.get("order", 0)
    if not isinstance(order, int):
        raise TemplateError(f"{manifest}: 'order' must be a whole number")
    questions = data.get("questions") or []
    if not isinstance(questions, list):
        raise TemplateError(f"{manifest}: 'questions' must be a list")
    suffix = data.get("templates_suffix", ".jinja")
    if not isinstance(suffix, str):
        raise TemplateError(f"{manifest}: 'templates_suffix' must be a string ('' renders every file)")
    return Unit(
        kind=kind,
        name=str(data.get("name", default_name)),
        root=root,
        purpose=str(data.get("purpose", "")),
        needs=_strings(data.get("needs"), "needs", manifest),
        order=order,
        dependencies=_strings(data.get("dependencies"), "dependencies", manifest),
        dev_dependencies=_strings(data.get("dev_dependencies"), "dev_dependencies", manifest),
        questions=tuple(questions),
        templates_suffix=suffix,
        copy_without_render=_strings(data.get("copy_without_render"), "copy_without_render", manifest),
        jinja_extensions=_strings(data.get("jinja_extensions"), "jinja_extensions", manifest),
        tasks=_strings(data.get("tasks"), "tasks", manifest),
        produces=_strings(data.get("produces"), "produces", manifest),
        commands=_strings(data.get("commands"), "commands", manifest),
    )


def _inside(root: Path, relative: str, where: Path, key: str) -> Path:
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root.resolve()) or (root / relative).is_symlink():
        raise TemplateError(f"{where}: '{key}' points outside the template: {relative}")
    return candidate


def load_template_set(source: str | None = None) -> TemplateSet:
    """Load the built-in set (source None or 'builtin') or a template set from a local folder."""
    if source in (None, BUILTIN):
        root, shown = builtin_root(), BUILTIN
    else:
        root, shown = Path(source).expanduser(), str(source)
        if not root.is_dir():
            raise UserError(f"template '{shown}': no such folder")
    manifest = root / SET_MANIFEST
    if not manifest.is_file():
        raise TemplateError(f"{manifest}: missing; a template set needs a {SET_MANIFEST}")
    data = load_mapping(manifest)
    _check_keys(data, _SET_KEYS, manifest)
    base = load_unit(_inside(root, str(data.get("base", "base")), manifest, "base"), "base", "base")
    stages: dict[str, Unit] = {}
    for name in _strings(data.get("stages"), "stages", manifest):
        unit = load_unit(_inside(root, f"stages/{name}", manifest, "stages"), "stage", name)
        stages[unit.name] = unit
    questions = data.get("questions") or []
    if not isinstance(questions, list):
        raise TemplateError(f"{manifest}: 'questions' must be a list")
    return TemplateSet(
        source=shown,
        root=root,
        name=str(data.get("name", root.name)),
        version=str(data.get("version", "0")),
        base=base,
        stages=stages,
        questions=tuple(questions),
    )
