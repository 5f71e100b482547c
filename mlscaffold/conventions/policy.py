"""The conventions policy: where it comes from, what keys it has, and their validation.

Sources, the first found wins: `--policy FILE` (YAML or TOML), `[tool.mlscaffold]` in the repo's
pyproject.toml, `policy.yaml` in the team template named by the repo's record (a local folder),
else the built-in default below. Unknown keys are errors with a "did you mean" (P14), and a policy
that turns every rule off is an error: it must not pass silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlscaffold.conventions.model import LEVELS, Level, Severity
from mlscaffold.errors import UserError, require_known_keys

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
TOP_KEYS = frozenset({"extends", "custom", "severity", *RULE_IDS})
CUSTOM_KINDS = ("require_files", "forbid_files", "require_text")
CUSTOM_KEYS = frozenset({"id", "message", "severity", *CUSTOM_KINDS})
ID_RX = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}\Z")

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
    """Validate a policy mapping; unknown keys and wrong types are UserErrors naming the key."""
    _known(data, TOP_KEYS, source, "")
    if not data:
        raise UserError(f"{source}: the policy is empty, so it would check nothing; add rules")
    if "extends" in data:
        data = _extend(data, source)
    custom = tuple(_custom(item, source, i) for i, item in enumerate(_list(data, "custom", source)))
    policy = Policy(
        source=source,
        required_stages=_strings(data, "required_stages", source),
        required_files=_strings(data, "required_files", source),
        required_answers=_strings(data, "required_answers", source),
        formulation=_formulation(data.get("formulation"), source),
        ci_gate=_ci_gate(data.get("ci_gate"), source),
        secrets=_secrets(data.get("secrets"), source),
        large_files=_large_files(data.get("large_files"), source),
        python=_python(data.get("python"), source),
        template_drift=_drift(data.get("template_drift"), source),
        custom=custom,
        severity=_severity(data.get("severity"), source, {c.id for c in custom}),
    )
    _unique_ids(custom, source)
    return policy


def _extend(data: dict[str, Any], source: str) -> dict[str, Any]:
    base = data["extends"]
    if base not in ("default", "none"):
        raise UserError(f"{source}: 'extends' must be 'default' or 'none', not {base!r}")
    own = {k: v for k, v in data.items() if k != "extends"}
    if base == "none":
        return own
    merged = {**DEFAULT_POLICY, **own}
    if isinstance(own.get("severity"), dict):
        merged["severity"] = {**DEFAULT_POLICY["severity"], **own["severity"]}
    elif "severity" not in own:
        merged["severity"] = dict(DEFAULT_POLICY["severity"])
    return merged


def _known(data: dict[str, Any], keys: frozenset[str], source: str, prefix: str) -> None:
    require_known_keys(data, keys, source, what="policy key", prefix=prefix)


def _list(data: dict[str, Any], key: str, source: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise UserError(f"{source}: '{key}' must be a list")
    return value


def _strings(data: dict[str, Any], key: str, source: str) -> tuple[str, ...]:
    items = _list(data, key, source)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise UserError(f"{source}: '{key}' must be a list of non-empty strings, got {item!r}")
    return tuple(items)


def _options(value: Any, key: str, source: str, keys: frozenset[str]) -> dict[str, Any] | None:
    """`true` -> defaults, `false`/absent -> off, a mapping -> its options."""
    if value is None or value is False:
        return None
    if value is True:
        return {}
    if not isinstance(value, dict):
        raise UserError(f"{source}: '{key}' must be true, false or a mapping of options")
    _known(value, keys, source, f"{key}.")
    return value


def _opt_strings(opts: dict[str, Any], key: str, source: str, prefix: str) -> tuple[str, ...] | None:
    if key not in opts:
        return None
    return _named_strings(opts[key], f"{prefix}.{key}", source)


def _named_strings(value: Any, name: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UserError(f"{source}: '{name}' must be a list of non-empty strings")
    return tuple(value)


def _regex(value: Any, name: str, source: str) -> str:
    if not isinstance(value, str) or not value:
        raise UserError(f"{source}: '{name}' must be a regular expression (a string)")
    try:
        re.compile(value)
    except re.error as err:
        raise UserError(f"{source}: '{name}' is not a valid regular expression: {err}") from err
    return value


def _formulation(value: Any, source: str) -> FormulationOptions | None:
    opts = _options(value, "formulation", source, frozenset({"file", "placeholders"}))
    if opts is None:
        return None
    default = FormulationOptions()
    file = opts.get("file", default.file)
    if not isinstance(file, str) or not file.strip():
        raise UserError(f"{source}: 'formulation.file' must be one path, like docs/formulation.md")
    placeholders = _opt_strings(opts, "placeholders", source, "formulation")
    if placeholders is None:
        placeholders = default.placeholders  # an explicit [] keeps only the empty-section check
    for i, rx in enumerate(placeholders):
        _regex(rx, f"formulation.placeholders[{i}]", source)
    return FormulationOptions(file=file, placeholders=placeholders)


def _ci_gate(value: Any, source: str) -> CiGateOptions | None:
    opts = _options(value, "ci_gate", source, frozenset({"workflows", "targets", "pattern"}))
    if opts is None:
        return None
    default = CiGateOptions()
    return CiGateOptions(
        workflows=_opt_strings(opts, "workflows", source, "ci_gate") or default.workflows,
        targets=_opt_strings(opts, "targets", source, "ci_gate") or default.targets,
        pattern=_regex(opts.get("pattern", default.pattern), "ci_gate.pattern", source),
    )


def _secrets(value: Any, source: str) -> SecretsOptions | None:
    opts = _options(value, "secrets", source, frozenset({"exclude"}))
    if opts is None:
        return None
    return SecretsOptions(exclude=_opt_strings(opts, "exclude", source, "secrets") or ())


def _large_files(value: Any, source: str) -> LargeFilesOptions | None:
    opts = _options(value, "large_files", source, frozenset({"max_kb", "exclude"}))
    if opts is None:
        return None
    max_kb = opts.get("max_kb", LargeFilesOptions.max_kb)
    if isinstance(max_kb, bool) or not isinstance(max_kb, int | float) or max_kb <= 0:
        raise UserError(f"{source}: 'large_files.max_kb' must be a positive number, got {max_kb!r}")
    exclude = _opt_strings(opts, "exclude", source, "large_files") or ()
    return LargeFilesOptions(max_kb=float(max_kb), exclude=exclude)


def _python(value: Any, source: str) -> PythonOptions | None:
    opts = _options(value, "python", source, frozenset({"versions"}))
    if opts is None:
        return None
    raw = opts.get("versions", [])
    raw = [raw] if isinstance(raw, str | int | float) and not isinstance(raw, bool) else raw
    if not isinstance(raw, list):
        raise UserError(f"{source}: 'python.versions' must be a list of versions like \"3.11\"")
    versions = tuple(str(v) for v in raw)
    for v in versions:
        if not re.fullmatch(r"\d+(\.\d+){1,2}", v):
            raise UserError(f"{source}: 'python.versions': {v!r} is not a version like \"3.11\"")
    return PythonOptions(versions=versions)


def _drift(value: Any, source: str) -> DriftOptions | None:
    opts = _options(value, "template_drift", source, frozenset({"paths"}))
    if opts is None:
        return None
    return DriftOptions(paths=_opt_strings(opts, "paths", source, "template_drift") or DriftOptions.paths)


def _custom(item: Any, source: str, index: int) -> CustomRuleSpec:
    where = f"custom[{index}]"
    if not isinstance(item, dict):
        raise UserError(f"{source}: '{where}' must be a mapping with an 'id' and one rule kind")
    _known(item, CUSTOM_KEYS, source, f"{where}.")
    rule_id = item.get("id")
    if not isinstance(rule_id, str) or not ID_RX.match(rule_id):
        raise UserError(f"{source}: '{where}.id' must be lower-case letters, digits, '-', '_' or '.'")
    if rule_id in RULE_IDS.values():
        raise UserError(f"{source}: '{where}.id' {rule_id!r} is the id of a built-in rule")
    kinds = [k for k in CUSTOM_KINDS if k in item]
    if len(kinds) != 1:
        raise UserError(f"{source}: '{where}' needs exactly one of {', '.join(CUSTOM_KINDS)}")
    kind = kinds[0]
    severity = item.get("severity", "error")
    if severity not in ("error", "warning"):
        raise UserError(f"{source}: '{where}.severity' must be 'error' or 'warning'")
    message = item.get("message", "")
    if not isinstance(message, str):
        raise UserError(f"{source}: '{where}.message' must be a string")
    if kind == "require_text":
        spec = item[kind]
        if not isinstance(spec, dict):
            raise UserError(f"{source}: '{where}.require_text' must be a mapping: file, pattern")
        _known(spec, frozenset({"file", "pattern"}), source, f"{where}.require_text.")
        files = _named_strings(spec.get("file"), f"{where}.require_text.file", source)
        regex = _regex(spec.get("pattern"), f"{where}.require_text.pattern", source)
        return CustomRuleSpec(rule_id, "require_text", files, regex, message, severity)
    patterns = _named_strings(item[kind], f"{where}.{kind}", source)
    chosen: Literal["require_files", "forbid_files"] = (
        "require_files" if kind == "require_files" else "forbid_files"
    )
    return CustomRuleSpec(rule_id, chosen, patterns, "", message, severity)


def _severity(value: Any, source: str, custom_ids: set[str]) -> dict[str, Level]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserError(f"{source}: 'severity' must map rule ids to error, warning or off")
    known = frozenset(RULE_IDS.values()) | custom_ids
    _known(value, known, source, "severity.")
    out: dict[str, Level] = {}
    for rule_id, level in value.items():
        if level is False:  # YAML 1.1 reads a bare `off` as false
            level = "off"
        if level not in LEVELS:
            raise UserError(f"{source}: 'severity.{rule_id}' must be one of {', '.join(LEVELS)}")
        out[rule_id] = level
    return out


def _unique_ids(custom: tuple[CustomRuleSpec, ...], source: str) -> None:
    seen: set[str] = set()
    for spec in custom:
        if spec.id in seen:
            raise UserError(f"{source}: custom rule id {spec.id!r} is used twice")
        seen.add(spec.id)
