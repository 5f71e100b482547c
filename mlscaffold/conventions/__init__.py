"""`mlscaffold check`: a repo against the team's conventions policy.

    report = check_repo(repo=Path("."))
    print(format_report(report, "text"))   # exit 1 when report.failed

The policy comes from `--policy FILE`, `[tool.mlscaffold]` in pyproject.toml, the team template's
policy.yaml, or the built-in default (see docs/conventions.md). Only git-tracked files are read.
"""

from __future__ import annotations

from pathlib import Path

from mlscaffold.conventions.model import CheckReport, Finding, RuleInfo, Severity
from mlscaffold.conventions.output import format_report

__all__ = ["CheckReport", "Finding", "RuleInfo", "Severity", "check_repo", "format_report"]


def check_repo(
    *, repo: Path = Path("."), policy_file: Path | None = None, worktree: bool = False
) -> CheckReport:
    """Check the repo at `repo` (what git tracks; `worktree`: the files on disk). Raises UserError
    (exit 2) for a bad or empty policy."""
    from mlscaffold.conventions.policy import load_policy
    from mlscaffold.conventions.rules import build_rules
    from mlscaffold.errors import UserError
    from mlscaffold.repoview.view import RepoView

    root = repo.resolve()
    view = RepoView(root, worktree=worktree)
    policy = load_policy(root, policy_file)
    rules = build_rules(policy)
    if not rules:
        raise UserError(f"{policy.source}: every rule is turned off, so the policy checks nothing")
    for rule in rules:
        rule.prepare(view)
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(rule.check(view))
    return CheckReport(
        path=root,
        findings=tuple(findings),
        rules_run=tuple(rule.id for rule in rules),
        policy_source=policy.source,
        rules=tuple(RuleInfo(rule.id, rule.description, rule.severity) for rule in rules),
        files_checked=len(view.files),
        git_tracked=view.git_tracked,
    )
