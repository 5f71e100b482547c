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

from mlscaffold.errors import TemplateError, TrustError, UserError, did_you_mean, require_known_keys
from mlscaffold.yamlio import load_mapping

SET_MANIFEST = "template.yaml"
UNIT_MANIFEST = "manifest.yaml"
BUILTIN = "builtin"

_SET_KEYS = {
    "name", "version", "base", "stages", "questions", "description", "extends", "defaults", "locked",
    "advice",
}  # fmt: skip
USER_CONFIG_KEYS = {"template"}
ADVICE_SETS = ("feasibility",)  # the wizard's named advice rule sets (wizard/advice.py)
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


def _strings(value: Any, key: str, where: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TemplateError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _key_name(key: Any) -> str:
    """How a key that is not text was written in YAML: `null:` and `~:` read as None, `1:` as 1."""
    if key is None:
        return "null"
    return str(key).lower() if isinstance(key, bool) else str(key)


def _check_keys(data: dict[str, Any], known: set[str], where: Path) -> None:
    require_known_keys(data, known, str(where), error=TemplateError)


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
        _check_keys(data, USER_CONFIG_KEYS, config)
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
    _check_keys(data, _SET_KEYS, manifest)
    parent = _parent_set(root, data.get("extends"), manifest, (*chain, root.resolve()))
    base = _load_base(root, data.get("base"), manifest) if "base" in data or parent is None else parent.base
    stages: dict[str, Unit] = dict(parent.stages) if parent else {}
    for name in _strings(data.get("stages"), "stages", manifest):
        unit = load_unit(_inside(root, f"stages/{name}", manifest, "stages"), "stage", name)
        stages[unit.name] = unit
    questions = _merge_questions(parent.questions if parent else (), data.get("questions"), manifest)
    defaults = _mapping(data.get("defaults"), "defaults", manifest)
    locked = {**(parent.locked if parent else {}), **_mapping(data.get("locked"), "locked", manifest)}
    pinned = {**defaults, **locked}
    questions = tuple(
        {**q, "default": pinned[q["name"]]} if isinstance(q, dict) and q.get("name") in pinned else q
        for q in questions
    )
    advice = _strings(data["advice"], "advice", manifest) if "advice" in data else None
    for name in advice or ():
        if name not in ADVICE_SETS:
            raise TemplateError(
                f"{manifest}: 'advice': unknown rule set {name!r}{did_you_mean(name, ADVICE_SETS)}"
            )
    overlay = None
    if base.is_cookiecutter:
        overlay = parent.base if parent else _load_set(builtin_root(), BUILTIN, None, ()).base
    return TemplateSet(
        source=shown,
        root=root,
        name=str(data.get("name", root.name)),
        version=str(data.get("version", "0")),
        base=base,
        stages=stages,
        questions=questions,
        locked=locked,
        commit=commit,
        overlay=overlay,
        advice=tuple(advice) if advice is not None else (parent.advice if parent else ()),
    )


def _mapping(value: Any, key: str, where: Path) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TemplateError(f"{where}: '{key}' must be a mapping of answer keys to values")
    for name in value:
        if not isinstance(name, str):
            raise TemplateError(f"{where}: '{key}': key '{_key_name(name)}' is not an answer key")
    return value


def _parent_set(root: Path, extends: Any, manifest: Path, chain: tuple[Path, ...]) -> TemplateSet | None:
    if extends is None:
        return None
    if not isinstance(extends, str):
        raise TemplateError(f"{manifest}: 'extends' must be 'builtin' or a folder path")
    if extends == BUILTIN:
        return _load_set(builtin_root(), BUILTIN, None, chain)
    parent = (root / extends).resolve()
    if not parent.is_dir():
        raise TemplateError(f"{manifest}: 'extends': no such folder {extends}")
    return _load_set(parent, str(parent), None, chain)


def _load_base(root: Path, value: Any, manifest: Path) -> Unit:
    """`base: folder` (an mlscaffold base) or `base: {cookiecutter: folder}` (a cookiecutter template)."""
    if isinstance(value, dict):
        _check_keys(value, {"cookiecutter"}, manifest)
        folder = _inside(root, str(value.get("cookiecutter", "")), manifest, "base.cookiecutter")
        return cookiecutter_unit(folder)
    return load_unit(_inside(root, str(value or "base"), manifest, "base"), "base", "base")


def _merge_questions(inherited: tuple[Any, ...], own: Any, manifest: Path) -> tuple[Any, ...]:
    if own is None:
        return inherited
    if not isinstance(own, list):
        raise TemplateError(f"{manifest}: 'questions' must be a list")
    replaced = {q.get("name") for q in own if isinstance(q, dict)}
    kept = [q for q in inherited if not (isinstance(q, dict) and q.get("name") in replaced)]
    return (*kept, *own)


# ---------------------------------------------------------------------------------------------------
# cookiecutter templates as a project base


def cookiecutter_unit(folder: Path) -> Unit:
    """A cookiecutter template (cookiecutter.json + one `{{ cookiecutter.* }}` folder) as a base unit:
    every text file is rendered (cookiecutter's habit), `_copy_without_render` is honoured, and its
    variables become questions."""
    import json
    import re

    config = folder / "cookiecutter.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TemplateError(f"{config}: cannot read: {err}") from err
    if not isinstance(data, dict):
        raise TemplateError(f"{config}: expected a JSON object")
    inner = [p.name for p in sorted(folder.iterdir()) if p.is_dir() and "{{" in p.name]
    if len(inner) != 1:
        raise TemplateError(
            f"{folder}: a cookiecutter template needs exactly one '{{{{ cookiecutter.* }}}}' folder"
        )
    questions = []
    for key, value in data.items():
        if key.startswith("_"):
            continue
        plain = re.sub(r"\bcookiecutter\.", "", value) if isinstance(value, str) else value
        if isinstance(plain, list) and plain:
            questions.append(
                {"name": key, "prompt": f"{key}?", "type": "choice", "choices": plain, "default": plain[0]}
            )
        elif isinstance(plain, bool):
            questions.append({"name": key, "prompt": f"{key}?", "type": "bool", "default": plain})
        elif isinstance(plain, str | int | float):
            questions.append({"name": key, "prompt": f"{key}?", "default": plain})
    copy = data.get("_copy_without_render", [])
    return Unit(
        kind="base",
        name="cookiecutter",
        root=folder,
        purpose=f"cookiecutter template {folder.name}",
        questions=tuple(questions),
        templates_suffix="",
        copy_without_render=tuple(str(c) for c in copy) if isinstance(copy, list) else (),
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
