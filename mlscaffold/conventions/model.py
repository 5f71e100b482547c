"""The results of `check`: findings and the report that holds them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]
Level = Literal["error", "warning", "off"]
LEVELS: tuple[Level, ...] = ("error", "warning", "off")


@dataclass(frozen=True)
class Finding:
    """One violation of the policy, with the file (and line) at fault when there is one."""

    rule_id: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None

    def where(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True)
class RuleInfo:
    """What a rule checks, for people (text output) and for code scanning (SARIF)."""

    id: str
    description: str
    severity: Severity


@dataclass(frozen=True)
class CheckReport:
    """The outcome of `check_repo`. `failed` (any error finding) means exit 1."""

    path: Path
    findings: tuple[Finding, ...]
    rules_run: tuple[str, ...]
    policy_source: str
    rules: tuple[RuleInfo, ...] = ()
    files_checked: int = 0
    git_tracked: bool = True

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def failed(self) -> bool:
        return bool(self.errors)
