"""The rules `check` runs. Each is a small object with an id, a description and `check(repo)`.

`build_rules(policy)` turns a validated policy into the list of rules to run, in a stable order.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator

from mlscaffold.conventions import pyspec, secrets
from mlscaffold.conventions.model import Finding, Severity
from mlscaffold.conventions.policy import (
    RULE_IDS,
    CiGateOptions,
    CustomRuleSpec,
    DriftOptions,
    FormulationOptions,
    LargeFilesOptions,
    Policy,
    PythonOptions,
    SecretsOptions,
)
from mlscaffold.errors import UserError
from mlscaffold.repoview import ci
from mlscaffold.repoview.globs import compile_glob, matches_any
from mlscaffold.repoview.view import RepoView

RECORD = ".mlscaffold.yaml"
MAX_FINDINGS_PER_FILE = 20


class Rule(ABC):
    """One convention. `check` yields a Finding per violation; none means the repo complies."""

    id: str
    description: str

    def __init__(self, severity: Severity) -> None:
        self.severity: Severity = severity

    @abstractmethod
    def check(self, repo: RepoView) -> Iterator[Finding]: ...

    def prepare(self, repo: RepoView) -> None:
        """Start slow work early (before any rule runs); most rules need none."""
        return None

    def found(self, message: str, file: str | None = None, line: int | None = None) -> Finding:
        return Finding(self.id, self.severity, message, file, line)


class RequiredStages(Rule):
    id = RULE_IDS["required_stages"]
    description = "The stages the team requires are applied (listed in the record)."

    def __init__(self, severity: Severity, stages: tuple[str, ...]) -> None:
        super().__init__(severity)
        self.stages = stages

    def check(self, repo: RepoView) -> Iterator[Finding]:
        record = repo.record
        if record is None:
            yield self.found(f"no {RECORD} record, so the applied stages are unknown", None)
            return
        for stage in self.stages:
            if stage not in record.stages:
                yield self.found(
                    f"required stage '{stage}' is not applied; run `mlscaffold add {stage}`", RECORD
                )


class RequiredFiles(Rule):
    id = RULE_IDS["required_files"]
    description = "Files the team requires are in the repo (tracked by git)."

    def __init__(self, severity: Severity, patterns: tuple[str, ...], message: str = "") -> None:
        super().__init__(severity)
        self.patterns = patterns
        self.message = message

    def check(self, repo: RepoView) -> Iterator[Finding]:
        state = "tracked by git" if repo.git_tracked else "found"
        for pattern in self.patterns:
            if not repo.glob(_from_root(pattern)):
                extra = f": {self.message}" if self.message else ""
                yield self.found(f"required file '{pattern}' is not {state}{extra}", None)


def _from_root(pattern: str) -> str:
    """Required paths are named from the repo root: `README.md` is not satisfied by docs/README.md."""
    return pattern if pattern.startswith(("/", "**")) else "/" + pattern.removeprefix("./")


class RequiredAnswers(Rule):
    id = RULE_IDS["required_answers"]
    description = "Answers the team requires (such as ready_threshold) are set in the record."

    def __init__(self, severity: Severity, answers: tuple[str, ...]) -> None:
        super().__init__(severity)
        self.answers = answers

    def check(self, repo: RepoView) -> Iterator[Finding]:
        record = repo.record
        if record is None:
            yield self.found(f"no {RECORD} record, so the required answers cannot be read", None)
            return
        for key in self.answers:
            value = record.answers.get(key)
            if value is None or (isinstance(value, str | list | dict) and not value):
                yield self.found(
                    f"answer '{key}' is not set; set it with `--set {key}=...` and record it", RECORD
                )


_HEADING_RX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_COMMENT_RX = re.compile(r"<!--.*?-->", re.DOTALL)


class FormulationFilled(Rule):
    id = RULE_IDS["formulation"]
    description = "The formulation document is filled in: no empty sections, no placeholder text."

    def __init__(self, severity: Severity, options: FormulationOptions) -> None:
        super().__init__(severity)
        self.file = options.file
        self.placeholders = [re.compile(p) for p in options.placeholders]

    def check(self, repo: RepoView) -> Iterator[Finding]:
        text = repo.read_text(self.file) if repo.has(self.file) else None
        if text is None:
            yield self.found(f"'{self.file}' is missing: write the problem formulation", None)
            return
        findings = [*self._empty_sections(text), *self._placeholders(text)]
        findings.sort(key=lambda f: f.line or 0)
        yield from findings[:MAX_FINDINGS_PER_FILE]
        if len(findings) > MAX_FINDINGS_PER_FILE:
            more = len(findings) - MAX_FINDINGS_PER_FILE
            yield self.found(f"... and {more} more unfinished places", self.file)

    def _empty_sections(self, text: str) -> Iterator[Finding]:
        lines = _COMMENT_RX.sub(lambda m: "\n" * m.group(0).count("\n"), text).splitlines()
        heads = [(i, len(m.group(1)), m.group(2)) for i, m in _headings(lines)]
        for k, (i, level, title) in enumerate(heads):
            end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
            deeper_next = k + 1 < len(heads) and heads[k + 1][1] > level
            if not deeper_next and not any(line.strip() for line in lines[i + 1 : end]):
                yield self.found(f"section '{title}' is empty", self.file, i + 1)

    def _placeholders(self, text: str) -> Iterator[Finding]:
        in_fence = False
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith(("```", "~~~")):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            for rx in self.placeholders:
                match = rx.search(line)
                if match:
                    shown = match.group(0)[:40]
                    yield self.found(f"placeholder text '{shown}' left to fill in", self.file, number)
                    break


def _headings(lines: list[str]) -> Iterator[tuple[int, re.Match[str]]]:
    in_fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence and (match := _HEADING_RX.match(line)):
            yield i, match


class CiReadinessGate(Rule):
    id = RULE_IDS["ci_gate"]
    description = "CI runs the readiness gate (a workflow runs `make all` or the evaluate step)."

    def __init__(self, severity: Severity, options: CiGateOptions) -> None:
        super().__init__(severity)
        self.options = options
        self.pattern = re.compile(options.pattern)

    def check(self, repo: RepoView) -> Iterator[Finding]:
        workflows = repo.glob_any(self.options.workflows)
        if not workflows:
            yield self.found("no CI workflow found (.github/workflows/*.yml); add one that runs `make all`")
            return
        for rel in workflows:
            data, problem = ci.load_workflow(repo, rel)
            if data is None:
                yield self.found(f"CI cannot run this workflow: {problem}", rel, _line_of(problem))
        commands = ci.ci_commands(repo, self.options.workflows)
        if any(self._runs_gate(command) for command in commands):
            return
        record = repo.record
        if record is not None and record.stages and "evaluate" not in record.stages:
            return  # no gate to run yet: whether the repo must have one is `required_stages`' job
        yield self.found(self._missing(repo, commands), workflows[0])

    def _runs_gate(self, command: ci.CiCommand) -> bool:
        """A command reached through a target the Makefile defines, or a workflow line that is not a
        make call (a make call counts only through what its targets really run)."""
        if command.via:
            return command.via in self.options.targets or self.pattern.search(command.text) is not None
        return any(
            ci.make_targets(line) is None and self.pattern.search(line) for line in command.text.splitlines()
        )

    def _missing(self, repo: RepoView, commands: list[ci.CiCommand]) -> str:
        """Why the gate is not reached: a make target CI calls that does not exist, or none at all."""
        mk = ci.read_makefile(repo)
        for command in commands:
            if command.via:
                continue
            for line in command.text.splitlines():
                for target in ci.make_targets(line) or []:
                    if mk is None:
                        return f"CI runs `make {target}`, but the repo has no Makefile"
                    if not mk.defines(target):
                        return f"CI runs `make {target}`, but the Makefile has no '{target}' target"
        wanted = " or ".join(f"`make {t}`" for t in self.options.targets)
        return (
            f"no CI workflow runs the readiness gate ({wanted}, or a command matching "
            f"'{self.options.pattern}', reached through targets the Makefile defines)"
        )


def _line_of(problem: str) -> int | None:
    match = re.search(r"line (\d+)", problem)
    return int(match.group(1)) if match else None


class NoSecrets(Rule):
    id = RULE_IDS["secrets"]
    description = "No credentials in tracked files: tokens, private keys, passwords in URLs."

    def __init__(self, severity: Severity, options: SecretsOptions) -> None:
        super().__init__(severity)
        self.exclude = options.exclude

    def prepare(self, repo: RepoView) -> None:
        repo.start_scan(secrets.NEEDLES)

    def check(self, repo: RepoView) -> Iterator[Finding]:
        per_file: dict[str, int] = {}
        with secrets.scanner() as find_secrets:
            yield from self._scan(repo, find_secrets, per_file)

    def _scan(
        self, repo: RepoView, find_secrets: Callable[[str], list[str]], per_file: dict[str, int]
    ) -> Iterator[Finding]:
        for line in repo.scan(secrets.NEEDLES):
            if self.exclude and matches_any(line.path, self.exclude):
                continue
            for kind in find_secrets(line.text):
                per_file[line.path] = per_file.get(line.path, 0) + 1
                if per_file[line.path] <= MAX_FINDINGS_PER_FILE:
                    yield self.found(
                        f"possible {kind} (value not shown); remove it, rotate it, and read it from "
                        "the environment instead",
                        line.path,
                        line.number,
                    )


class NoLargeFiles(Rule):
    id = RULE_IDS["large_files"]
    description = "No large files tracked in git: data and models belong in storage, not in git."

    def __init__(self, severity: Severity, options: LargeFilesOptions) -> None:
        super().__init__(severity)
        self.max_bytes = int(options.max_kb * 1024)
        self.max_kb = options.max_kb
        self.exclude = options.exclude

    def check(self, repo: RepoView) -> Iterator[Finding]:
        exempt = [compile_glob(p) for p in (*self.exclude, *_lfs_patterns(repo))]
        root = str(repo.root) + os.sep
        for rel in repo.files:
            try:
                size = os.lstat(root + rel).st_size  # a symlink's own size
            except OSError:
                continue
            if size > self.max_bytes and not any(rx.match(rel) for rx in exempt):
                yield self.found(
                    f"{_human(size)} tracked in git, over the {self.max_kb:g} KB limit; keep data "
                    "and models out of git (object storage, DVC or Git LFS)",
                    rel,
                )


def _lfs_patterns(repo: RepoView) -> list[str]:
    text = repo.read_text(".gitattributes") if repo.has(".gitattributes") else None
    if not text:
        return []
    return [line.split()[0] for line in text.splitlines() if "filter=lfs" in line and line.split()]


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024:.0f} KB"


class PythonVersion(Rule):
    id = RULE_IDS["python"]
    description = "pyproject.toml declares requires-python, and it admits the team's Python versions."

    def __init__(self, severity: Severity, options: PythonOptions) -> None:
        super().__init__(severity)
        self.versions = options.versions

    def check(self, repo: RepoView) -> Iterator[Finding]:
        data = repo.pyproject
        if data is None:
            yield self.found("no pyproject.toml, so the supported Python versions are not declared")
            return
        project = data.get("project")
        spec = project.get("requires-python") if isinstance(project, dict) else None
        if not isinstance(spec, str) or not spec.strip():
            yield self.found("[project] requires-python is not set", "pyproject.toml")
            return
        for version in self.versions:
            try:
                ok = pyspec.admits(spec, version, "pyproject.toml: requires-python")
            except UserError as err:
                yield self.found(str(err), "pyproject.toml")
                return
            if not ok:
                yield self.found(
                    f"requires-python '{spec}' excludes Python {version}, which the team policy requires",
                    "pyproject.toml",
                )


class TemplateDrift(Rule):
    id = RULE_IDS["template_drift"]
    description = "Files the team keeps as the template renders them have not drifted (`mlscaffold diff`)."

    def __init__(self, severity: Severity, options: DriftOptions) -> None:
        super().__init__(severity)
        self.paths = options.paths

    def check(self, repo: RepoView) -> Iterator[Finding]:
        from mlscaffold.errors import MlscaffoldError
        from mlscaffold.rerender import drift

        if repo.record is None:
            yield self.found(f"no {RECORD} record, so there is no template to compare with")
            return
        try:
            _, found = drift(repo.root)
        except MlscaffoldError as err:
            yield self.found(f"could not render the template to compare: {err}", RECORD)
            return
        source = repo.record.template_source
        for entry in found:
            if matches_any(entry.path, self.paths):
                yield self.found(
                    f"differs from what template {source} renders today; see `mlscaffold diff`, "
                    "or `mlscaffold update` to bring template changes in",
                    entry.path,
                )


class ForbidFiles(Rule):
    description = "Files matching the team's forbidden patterns are not tracked."

    def __init__(self, spec: CustomRuleSpec) -> None:
        super().__init__(spec.severity)
        self.id = spec.id
        self.patterns = spec.patterns
        self.message = spec.message
        self.description = spec.message or f"No tracked file matches {', '.join(spec.patterns)}."

    def check(self, repo: RepoView) -> Iterator[Finding]:
        for rel in repo.glob_any(self.patterns)[:100]:
            yield self.found(self.message or "this file matches a forbidden pattern", rel)


class RequireText(Rule):
    description = "A file contains text the team requires."

    def __init__(self, spec: CustomRuleSpec) -> None:
        super().__init__(spec.severity)
        self.id = spec.id
        self.files = spec.patterns
        self.regex = re.compile(spec.regex, re.MULTILINE)
        self.message = spec.message
        self.description = spec.message or f"{', '.join(spec.patterns)} match /{spec.regex}/."

    def check(self, repo: RepoView) -> Iterator[Finding]:
        paths = repo.glob_any([_from_root(f) for f in self.files])
        if not paths:
            yield self.found(f"no file matches {', '.join(self.files)}; expected /{self.regex.pattern}/")
            return
        for rel in paths:
            text = repo.read_text(rel)
            if text is None or not self.regex.search(text):
                yield self.found(self.message or f"expected text /{self.regex.pattern}/", rel)


def _custom(spec: CustomRuleSpec) -> Rule:
    if spec.kind == "forbid_files":
        return ForbidFiles(spec)
    if spec.kind == "require_text":
        return RequireText(spec)
    rule = RequiredFiles(spec.severity, spec.patterns, spec.message)
    rule.id = spec.id
    rule.description = spec.message or f"Required files: {', '.join(spec.patterns)}."
    return rule


def build_rules(policy: Policy) -> list[Rule]:
    """The rules a policy turns on, each at its severity; rules set to 'off' are left out."""
    candidates: list[Rule] = []
    level = policy.level
    if policy.required_stages:
        candidates.append(RequiredStages("error", policy.required_stages))
    if policy.required_files:
        candidates.append(RequiredFiles("error", policy.required_files))
    if policy.required_answers:
        candidates.append(RequiredAnswers("error", policy.required_answers))
    if policy.formulation is not None:
        candidates.append(FormulationFilled("error", policy.formulation))
    if policy.ci_gate is not None:
        candidates.append(CiReadinessGate("error", policy.ci_gate))
    if policy.secrets is not None:
        candidates.append(NoSecrets("error", policy.secrets))
    if policy.large_files is not None:
        candidates.append(NoLargeFiles("error", policy.large_files))
    if policy.python is not None:
        candidates.append(PythonVersion("error", policy.python))
    if policy.template_drift is not None:
        candidates.append(TemplateDrift("error", policy.template_drift))
    candidates.extend(_custom(spec) for spec in policy.custom)
    rules: list[Rule] = []
    for rule in candidates:
        chosen = level(rule.id, rule.severity)
        if chosen != "off":
            rule.severity = chosen
            rules.append(rule)
    return rules
