"""Finding template sets (built-in or a local folder) and reading their manifests.

A template set is a folder with `template.yaml` naming a project base and its stages; each of those is
a folder with `manifest.yaml` and a `files/` tree. The format is documented in docs/templates.md.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlscaffold.engine.schema import validate
from mlscaffold.errors import TemplateError, TrustError, UserError, did_you_mean
from mlscaffold.yamlio import load_mapping

SET_MANIFEST = "template.yaml"
UNIT_MANIFEST = "manifest.yaml"
BUILTIN = "builtin"


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
    optional: bool = False  # a stage `new` leaves out unless chosen (`--set stages=...`, `add`)
    files_dir: str = "files"
    is_cookiecutter: bool = False

    @property
    def files_root(self) -> Path:
        return self.root / self.files_dir

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
    locked: dict[str, Any] = field(default_factory=dict)
    commit: str | None = None  # the exact git commit, for a template from a git repository
    overlay: Unit | None = None  # for a cookiecutter base: the mlscaffold base layered on top of it
    advice: tuple[str, ...] = ()  # named advice rule sets for these questions (e.g. "feasibility")

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

    @property
    def default_stages(self) -> list[str]:
        """The stages `new` applies when none are chosen: all but the optional ones."""
        return [name for name, unit in self.stages.items() if not unit.optional]

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
    here = Path(__file__).resolve().parents[1]  # the mlscaffold package
    for candidate in (here / "_templates", here.parent / "templates"):
        if (candidate / SET_MANIFEST).is_file():
            return candidate
    raise TemplateError(f"the built-in templates are missing (looked in {here / '_templates'})")


def _strings(value: str | list[str] | None) -> tuple[str, ...]:
    """A manifest's one string or list of strings (the schema checked which), as a tuple."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def load_unit(root: Path, kind: Literal["base", "stage"], default_name: str) -> Unit:
    manifest = root / UNIT_MANIFEST
    if root.is_symlink() or not manifest.is_file():
        raise TemplateError(f"{manifest}: missing; every base and stage folder needs one")
    data = load_mapping(manifest)
    validate(data, "manifest.schema.json", str(manifest), error=TemplateError)
    declared = data.get("kind", kind)
    if declared != kind:
        raise TemplateError(f"{manifest}: 'kind' is '{declared}' but this folder is used as a {kind}")
    return Unit(
        kind=kind,
        name=data.get("name", default_name),
        root=root,
        purpose=data.get("purpose", ""),
        needs=_strings(data.get("needs")),
        order=int(data.get("order", 0)),
        dependencies=_strings(data.get("dependencies")),
        dev_dependencies=_strings(data.get("dev_dependencies")),
        questions=tuple(data.get("questions") or ()),
        templates_suffix=data.get("templates_suffix", ".jinja"),
        copy_without_render=_strings(data.get("copy_without_render")),
        jinja_extensions=_strings(data.get("jinja_extensions")),
        tasks=_strings(data.get("tasks")),
        produces=_strings(data.get("produces")),
        commands=_strings(data.get("commands")),
        optional=data.get("optional", False),
    )


def _inside(root: Path, relative: str, where: Path, key: str) -> Path:
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root.resolve()) or (root / relative).is_symlink():
        raise TemplateError(f"{where}: '{key}' points outside the template: {relative}")
    return candidate


def default_source() -> str | None:
    """The template to use when none is named: $MLSCAFFOLD_TEMPLATE, then `template:` in the user
    config file ($XDG_CONFIG_HOME/mlscaffold/config.yaml), else the built-in set."""
    import os

    from_env = os.environ.get("MLSCAFFOLD_TEMPLATE", "").strip()
    if from_env:
        return from_env
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    config = base / "mlscaffold" / "config.yaml"
    if config.is_file():
        data = load_mapping(config)
        validate(data, "config.schema.json", str(config))
        value = data.get("template")
        if value is not None:
            return str(value)
    return None


def split_git_source(source: str) -> tuple[str, str | None] | None:
    """`URL[@REF]` -> (URL, REF) for a git source; None for a local folder."""
    import re

    if "://" in source:
        scheme_end = source.index("://") + 3
        slash = source.find("/", scheme_end)
        path_start = slash if slash >= 0 else len(source)
    elif re.match(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:", source):
        path_start = source.index(":") + 1
    else:
        return None
    at = source.rfind("@")
    if at > path_start:
        return source[:at], source[at + 1 :]
    return source, None


_FETCHED: list[Path] = []


@contextlib.contextmanager
def fetched_templates() -> Iterator[None]:
    """Scope for a verb: clones of git templates made inside it are removed when it ends (P15)."""
    try:
        yield
    finally:
        while _FETCHED:
            shutil.rmtree(_FETCHED.pop(), ignore_errors=True)


def _fetch_git(url: str, ref: str | None) -> tuple[Path, str]:
    """Clone a git template into a temporary folder, removed at the end of the verb or of the process."""
    import atexit
    import tempfile

    from mlscaffold.vcs import clone_template

    scratch = Path(tempfile.mkdtemp(prefix="mlscaffold-template-"))
    _FETCHED.append(scratch)
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    checkout = scratch / "template"
    try:
        sha = clone_template(url, ref, checkout)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return checkout, sha


def load_template_set(source: str | None = None) -> TemplateSet:
    """Load a template set: the built-in one, a local folder, or a git repository `URL[@REF]`."""
    if source is None:
        source = default_source()
    if source in (None, BUILTIN):
        return _load_set(builtin_root(), BUILTIN, None, ())
    git_source = split_git_source(source)
    if git_source is not None:
        from mlscaffold.vcs import redact_url

        url, ref = git_source
        root, sha = _fetch_git(url, ref)
        return _load_set(root, redact_url(url), sha, ())
    if not source.strip():
        raise UserError("--template: empty; give a folder or a git URL[@REF]")
    try:
        root = Path(source).expanduser()
    except RuntimeError as err:  # '~nobody/x': no such home folder
        raise UserError(f"template '{source}': {err}") from err
    if not root.is_dir():
        raise UserError(f"template '{source}': no such folder")
    return _load_set(root.absolute(), str(root.absolute()), None, ())


def _load_set(root: Path, shown: str, commit: str | None, chain: tuple[Path, ...]) -> TemplateSet:
    manifest = root / SET_MANIFEST
    if root.resolve() in chain:
        raise TemplateError(f"{manifest}: 'extends' goes round in a circle")
    if not manifest.is_file():
        if (root / "cookiecutter.json").is_file():
            return _cookiecutter_set(root, shown, commit)
        raise TemplateError(f"{manifest}: missing; a template set needs a {SET_MANIFEST}")
    data = load_mapping(manifest)
    validate(data, "template.schema.json", str(manifest), error=TemplateError)
    parent = _parent_set(root, data.get("extends"), manifest, (*chain, root.resolve()))
    base = _load_base(root, data.get("base"), manifest) if "base" in data or parent is None else parent.base
    stages: dict[str, Unit] = dict(parent.stages) if parent else {}
    for name in _strings(data.get("stages")):
        unit = load_unit(_inside(root, f"stages/{name}", manifest, "stages"), "stage", name)
        stages[unit.name] = unit
    questions = _merge_questions(parent.questions if parent else (), data.get("questions"))
    defaults = data.get("defaults") or {}
    locked = {**(parent.locked if parent else {}), **(data.get("locked") or {})}
    pinned = {**defaults, **locked}
    questions = tuple({**q, "default": pinned[q["name"]]} if q["name"] in pinned else q for q in questions)
    advice = _strings(data["advice"]) if "advice" in data else None
    overlay = None
    if base.is_cookiecutter:
        overlay = parent.base if parent else _load_set(builtin_root(), BUILTIN, None, ()).base
    return TemplateSet(
        source=shown,
        root=root,
        name=data.get("name", root.name),
        version=str(data.get("version", "0")),
        base=base,
        stages=stages,
        questions=questions,
        locked=locked,
        commit=commit,
        overlay=overlay,
        advice=tuple(advice) if advice is not None else (parent.advice if parent else ()),
    )


def _parent_set(
    root: Path, extends: str | None, manifest: Path, chain: tuple[Path, ...]
) -> TemplateSet | None:
    if extends is None:
        return None
    if extends == BUILTIN:
        return _load_set(builtin_root(), BUILTIN, None, chain)
    parent = (root / extends).resolve()
    if not parent.is_dir():
        raise TemplateError(f"{manifest}: 'extends': no such folder {extends}")
    return _load_set(parent, str(parent), None, chain)


def _load_base(root: Path, value: Any, manifest: Path) -> Unit:
    """`base: folder` (an mlscaffold base) or `base: {cookiecutter: folder}` (a cookiecutter template)."""
    if isinstance(value, dict):
        folder = _inside(root, value["cookiecutter"], manifest, "base.cookiecutter")
        return cookiecutter_unit(folder)
    return load_unit(_inside(root, str(value or "base"), manifest, "base"), "base", "base")


def _merge_questions(inherited: tuple[Any, ...], own: list[Any] | None) -> tuple[Any, ...]:
    if own is None:
        return inherited
    replaced = {q["name"] for q in own}
    kept = [q for q in inherited if q["name"] not in replaced]
    return (*kept, *own)


# ---------------------------------------------------------------------------------------------------
# cookiecutter templates as a project base


def read_cookiecutter_json(folder: Path) -> dict[str, Any]:
    """A template's cookiecutter.json, in its order; errors name the file."""
    import json

    config = folder / "cookiecutter.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TemplateError(f"{config}: cannot read: {err}") from err
    if not isinstance(data, dict):
        raise TemplateError(f"{config}: expected a JSON object")
    if {"template", "templates"} & set(data):
        raise TemplateError(
            f"{config}: a template of nested templates; pass the folder of the one you want as --template"
        )
    return data


def cookiecutter_variables(data: dict[str, Any]) -> list[str]:
    """The variables a person answers (cookiecutter prompts for them): not `_private`, not dicts."""
    return [k for k, v in data.items() if not k.startswith("_") and not isinstance(v, dict)]


def _cookiecutter_question(key: str, value: Any, prompts: dict[str, Any]) -> dict[str, Any]:
    """One cookiecutter variable as a wizard question, with the template's own prompt
    (`__prompts__`) when it has one. Its default is the template's, rendered over the earlier answers as
    cookiecutter renders it (`{{ cookiecutter.x }}` works as it is)."""
    shown = prompts.get(key)
    if isinstance(shown, dict):
        shown = shown.get("__prompt__")
    question: dict[str, Any] = {"name": key, "prompt": str(shown) if shown else f"{key}?", "required": False}
    if isinstance(value, list) and value:
        values = [str(v) for v in value]
        return {**question, "type": "choice", "choices": values, "default": values[0]}
    if isinstance(value, bool):
        return {**question, "type": "bool", "default": value}
    # cookiecutter renders every other value as text ("1" for 1), and so do the answers
    return {**question, "default": "" if value is None else str(value)}


def cookiecutter_unit(folder: Path) -> Unit:
    """A cookiecutter template (cookiecutter.json + its `{{ cookiecutter.* }}` folder) as a base unit,
    rendered by the cookiecutter library (engine.ccrender); its variables become questions. Hooks and
    `_extensions` of its own are code (--trust)."""
    from mlscaffold.engine.ccrender import own_extensions

    data = read_cookiecutter_json(folder)
    # cookiecutter's own rule (cookiecutter.find): the first entry naming cookiecutter between {{ }}
    inner = [p.name for p in sorted(folder.iterdir()) if "cookiecutter" in p.name and "{{" in p.name]
    if not inner or not (folder / inner[0]).is_dir():
        raise TemplateError(
            f"{folder}: a cookiecutter template needs a '{{{{ cookiecutter.* }}}}' folder "
            "beside cookiecutter.json"
        )
    found = data.get("__prompts__")
    prompts: dict[str, Any] = found if isinstance(found, dict) else {}
    questions = [_cookiecutter_question(k, data[k], prompts) for k in cookiecutter_variables(data)]
    copy = data.get("_copy_without_render", [])
    return Unit(
        kind="base",
        name="cookiecutter",
        root=folder,
        purpose=f"cookiecutter template {folder.name}",
        questions=tuple(questions),
        templates_suffix="",
        copy_without_render=tuple(str(c) for c in copy) if isinstance(copy, list) else (),
        jinja_extensions=tuple(own_extensions(data)),
        files_dir=inner[0],
        is_cookiecutter=True,
    )


def _cookiecutter_set(root: Path, shown: str, commit: str | None) -> TemplateSet:
    """A bare cookiecutter template used as a whole set: its base plus the built-in stages."""
    builtin = _load_set(builtin_root(), BUILTIN, None, ())
    base = cookiecutter_unit(root)
    return TemplateSet(
        source=shown,
        root=root,
        name=root.name,
        version="0",
        base=base,
        stages=builtin.stages,
        questions=builtin.questions,
        commit=commit,
        overlay=builtin.base,
        advice=builtin.advice,
    )
