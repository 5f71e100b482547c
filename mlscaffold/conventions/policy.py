"""The conventions policy: where it comes from, what keys it has, and their validation.

Sources, the first found wins: `--policy FILE` (YAML or TOML), `[tool.mlscaffold]` in the repo's
pyproject.toml, `policy.yaml` in the team template named by the repo's record (a local folder),
else the built-in default below. Its shape is mlscaffold/schemas/policy.schema.json: unknown keys and
wrong types are errors with a "did you mean" (P14). A policy that turns every rule off is an error: it
must not pass silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlscaffold.conventions.model import Level, Severity
from mlscaffold.errors import UserError, did_you_mean

RULE_IDS: dict[str, str] = {
    "required_stages": "required-stages",
    "required_files": "required-files",
    "required_answers": "required-answers",
    "formulation": "formulation-filled",
    "ci_gate": "ci-readiness-gate",
    "secrets": "no-secrets",
    "large_files": "no-large-files",
    "python": "python-version",
    "template_drift": "template-drift",
}
CUSTOM_KINDS = ("require_files", "forbid_files", "require_text")

DEFAULT_PLACEHOLDERS: tuple[str, ...] = (
    r"(?<![A-Za-z0-9])TODO(?![A-Za-z0-9])",
    r"(?<![A-Za-z0-9])TBD(?![A-Za-z0-9])",
    r"(?<![A-Za-z0-9])FIXME(?![A-Za-z0-9])",
    r"\{\{.*?\}\}",
    r"\{%.*?%\}",
    r"<(?:fill|describe|to be|your|add|insert)\b[^>]*>",
    r"\?\?\?",
    r"(?i)lorem ipsum",
    # what mlscaffold's own canvas writes for an answer not given yet
    r"(?i)(?<![a-z])not (?:specified|chosen) yet(?![a-z])",
)

# The built-in policy: what every mlscaffold project should keep. A fresh project passes it (P13).
DEFAULT_POLICY: dict[str, Any] = {
    "required_files": ["README.md", "pyproject.toml"],
    "formulation": True,
    "ci_gate": True,
    "secrets": True,
    "large_files": {"max_kb": 1024},
    "python": True,
    "severity": {"formulation-filled": "warning"},
}


@dataclass(frozen=True)
class FormulationOptions:
    file: str = "docs/formulation.md"
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS


@dataclass(frozen=True)
class CiGateOptions:
    workflows: tuple[str, ...] = (".github/workflows/*.yml", ".github/workflows/*.yaml", "/.gitlab-ci.yml")
    targets: tuple[str, ...] = ("evaluate",)
    pattern: str = r"\bevaluate\b"


@dataclass(frozen=True)
class SecretsOptions:
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class LargeFilesOptions:
    max_kb: float = 1024.0
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class PythonOptions:
    versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class DriftOptions:
    # files a team keeps as the template renders them; the rest (config, docs, code) is for editing
    paths: tuple[str, ...] = (".github/workflows/", "Makefile", "mk/", ".pre-commit-config.yaml")


@dataclass(frozen=True)
class CustomRuleSpec:
    id: str
    kind: Literal["require_files", "forbid_files", "require_text"]
    patterns: tuple[str, ...] = ()  # globs (require_files, forbid_files, require_text's files)
    regex: str = ""  # require_text only
    message: str = ""
    severity: Severity = "error"


@dataclass(frozen=True)
class Policy:
    source: str
    required_stages: tuple[str, ...] = ()
    required_files: tuple[str, ...] = ()
    required_answers: tuple[str, ...] = ()
    formulation: FormulationOptions | None = None
    ci_gate: CiGateOptions | None = None
    secrets: SecretsOptions | None = None
    large_files: LargeFilesOptions | None = None
    python: PythonOptions | None = None
    template_drift: DriftOptions | None = None
    custom: tuple[CustomRuleSpec, ...] = ()
    severity: dict[str, Level] = field(default_factory=dict)

    def level(self, rule_id: str, default: Severity = "error") -> Level:
        return self.severity.get(rule_id, default)


# ---------------------------------------------------------------------------------- sources


def load_policy(root: Path, policy_file: Path | None = None) -> Policy:
    """Find the policy for the repo at `root` and validate it."""
    if policy_file is not None:
        return parse_policy(_read_policy_file(policy_file), str(policy_file))
    from_pyproject = _from_pyproject(root)
    if from_pyproject is not None:
        return parse_policy(from_pyproject, f"{root / 'pyproject.toml'} [tool.mlscaffold]")
    team = _team_policy_file(root)
    if team is not None:
        return parse_policy(_read_policy_file(team), str(team))
    return parse_policy(DEFAULT_POLICY, "built-in default policy")


def _read_policy_file(path: Path) -> dict[str, Any]:
    from mlscaffold.yamlio import load_mapping

    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".toml"):
        raise UserError(f"{path}: a policy file must be YAML (.yaml, .yml) or TOML (.toml)")
    data = load_mapping(path)
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("mlscaffold") if isinstance(data.get("tool"), dict) else None
        if not isinstance(table, dict):
            raise UserError(f"{path}: no [tool.mlscaffold] table to read the policy from")
        return table
    return data


def _from_pyproject(root: Path) -> dict[str, Any] | None:
    from mlscaffold.yamlio import load_mapping

    path = root / "pyproject.toml"
    if not path.is_file():
        return None
    tool = load_mapping(path).get("tool")
    if not isinstance(tool, dict) or "mlscaffold" not in tool:
        return None
    table = tool["mlscaffold"]
    if not isinstance(table, dict):
        raise UserError(f"{path}: [tool.mlscaffold] must be a table")
    return table


def _team_policy_file(root: Path) -> Path | None:
    """`<template source>/policy.yaml` when the record names a template in a local folder."""
    from mlscaffold.engine.record import RECORD_NAME, read_record

    if not (root / RECORD_NAME).is_file():
        return None
    source = read_record(root).template_source
    if not source or source == "builtin" or "://" in source or re.match(r"[\w.-]+@[\w.-]+:", source):
        return None  # the built-in set (its default is below) or a git URL: nothing local to read
    for text in (source, source.rsplit("@", 1)[0]):  # a local folder, maybe pinned as PATH@REF
        folder = Path(text).expanduser()
        folder = folder if folder.is_absolute() else root / folder
        if (folder / "policy.yaml").is_file():
            return folder / "policy.yaml"
    return None


# ---------------------------------------------------------------------------------- parsing


def parse_policy(data: dict[str, Any], source: str) -> Policy:
    """Validate a policy mapping: its shape against mlscaffold/schemas/policy.schema.json (unknown keys
    and wrong types are UserErrors naming the key), then what a schema cannot say."""
    from mlscaffold.engine.schema import validate

    validate(data, "policy.schema.json", source, what="policy key")
    if not data:
        raise UserError(f"{source}: the policy is empty, so it would check nothing; add rules")
    if "extends" in data:
        data = _extend(data)
    custom = tuple(_custom(item, source, i) for i, item in enumerate(data.get("custom") or ()))
    policy = Policy(
        source=source,
        required_stages=tuple(data.get("required_stages") or ()),
        required_files=tuple(data.get("required_files") or ()),
        required_answers=tuple(data.get("required_answers") or ()),
        formulation=_formulation(_options(data.get("formulation")), source),
        ci_gate=_ci_gate(_options(data.get("ci_gate")), source),
        secrets=_secrets(_options(data.get("secrets"))),
        large_files=_large_files(_options(data.get("large_files"))),
        python=_python(_options(data.get("python")), source),
        template_drift=_drift(_options(data.get("template_drift"))),
        custom=custom,
        severity=_severity(data.get("severity") or {}, source, {c.id for c in custom}),
    )
    _unique_ids(custom, source)
    return policy


def _extend(data: dict[str, Any]) -> dict[str, Any]:
    own = {k: v for k, v in data.items() if k != "extends"}
    if data["extends"] == "none":
        return own
    merged = {**DEFAULT_POLICY, **own}
    merged["severity"] = {**DEFAULT_POLICY["severity"], **(own.get("severity") or {})}
    return merged


def _options(value: bool | dict[str, Any] | None) -> dict[str, Any] | None:
    """`true` -> defaults, `false`/absent -> off, a mapping -> its options."""
    if value is None or value is False:
        return None
    return {} if value is True else value


def _globs(value: str | list[str] | None) -> tuple[str, ...]:
    """An option's one glob or list of globs (the schema checked which), as a tuple."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _regex(value: str, name: str, source: str) -> str:
    try:
        re.compile(value)
    except re.error as err:
        raise UserError(f"{source}: '{name}' is not a valid regular expression: {err}") from err
    return value


def _formulation(opts: dict[str, Any] | None, source: str) -> FormulationOptions | None:
    if opts is None:
        return None
    default = FormulationOptions()
    # an explicit [] keeps only the empty-section check
    placeholders = _globs(opts["placeholders"]) if "placeholders" in opts else default.placeholders
    for i, rx in enumerate(placeholders):
        _regex(rx, f"formulation.placeholders[{i}]", source)
    return FormulationOptions(file=opts.get("file", default.file), placeholders=placeholders)


def _ci_gate(opts: dict[str, Any] | None, source: str) -> CiGateOptions | None:
    if opts is None:
        return None
    default = CiGateOptions()
    return CiGateOptions(
        workflows=_globs(opts.get("workflows")) or default.workflows,
        targets=_globs(opts.get("targets")) or default.targets,
        pattern=_regex(opts.get("pattern", default.pattern), "ci_gate.pattern", source),
    )


def _secrets(opts: dict[str, Any] | None) -> SecretsOptions | None:
    return None if opts is None else SecretsOptions(exclude=_globs(opts.get("exclude")))


def _large_files(opts: dict[str, Any] | None) -> LargeFilesOptions | None:
    if opts is None:
        return None
    max_kb = float(opts.get("max_kb", LargeFilesOptions.max_kb))
    return LargeFilesOptions(max_kb=max_kb, exclude=_globs(opts.get("exclude")))


def _python(opts: dict[str, Any] | None, source: str) -> PythonOptions | None:
    if opts is None:
        return None
    raw = opts.get("versions", [])
    versions = tuple(str(v) for v in (raw if isinstance(raw, list) else [raw]))
    for v in versions:  # a number is read as its text: 3.11 -> "3.11"
        if not re.fullmatch(r"\d+(\.\d+){1,2}", v):
            raise UserError(f"{source}: 'python.versions': {v!r} is not a version like \"3.11\"")
    return PythonOptions(versions=versions)


def _drift(opts: dict[str, Any] | None) -> DriftOptions | None:
    if opts is None:
        return None
    return DriftOptions(paths=_globs(opts.get("paths")) or DriftOptions.paths)


def _custom(item: dict[str, Any], source: str, index: int) -> CustomRuleSpec:
    where = f"custom[{index}]"
    rule_id = item["id"]
    if rule_id in RULE_IDS.values():
        raise UserError(f"{source}: '{where}.id' {rule_id!r} is the id of a built-in rule")
    kinds = [k for k in CUSTOM_KINDS if k in item]
    if len(kinds) != 1:
        raise UserError(f"{source}: '{where}' needs exactly one of {', '.join(CUSTOM_KINDS)}")
    kind = kinds[0]
    severity = item.get("severity", "error")
    message = item.get("message", "")
    if kind == "require_text":
        spec = item[kind]
        regex = _regex(spec["pattern"], f"{where}.require_text.pattern", source)
        return CustomRuleSpec(rule_id, "require_text", _globs(spec["file"]), regex, message, severity)
    chosen: Literal["require_files", "forbid_files"] = (
        "require_files" if kind == "require_files" else "forbid_files"
    )
    return CustomRuleSpec(rule_id, chosen, _globs(item[kind]), "", message, severity)


def _severity(value: dict[str, Any], source: str, custom_ids: set[str]) -> dict[str, Level]:
    """Levels by rule id: a built-in rule's or a custom rule's of the same policy."""
    known = sorted({*RULE_IDS.values(), *custom_ids})
    out: dict[str, Level] = {}
    for rule_id, level in value.items():
        if rule_id not in known:
            hint = did_you_mean(rule_id, known).replace("'", "'severity.", 1)
            raise UserError(f"{source}: unknown policy key 'severity.{rule_id}'{hint}")
        out[rule_id] = "off" if level is False else level  # YAML 1.1 reads a bare `off` as false
    return out


def _unique_ids(custom: tuple[CustomRuleSpec, ...], source: str) -> None:
    seen: set[str] = set()
    for spec in custom:
        if spec.id in seen:
            raise UserError(f"{source}: custom rule id {spec.id!r} is used twice")
        seen.add(spec.id)
