"""A CheckReport as text for people, JSON for tools, and SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal

from mlscaffold._version import __version__
from mlscaffold.conventions.model import CheckReport, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/mlscaffold/mlscaffold"
# A result needs a location for code scanning to show it; repo-wide findings point at the first
# of these files that the repo has.
ANCHORS = (".mlscaffold.yaml", "pyproject.toml", "README.md")


def format_report(report: CheckReport, fmt: Literal["text", "json", "sarif"]) -> str:
    """The report as text or JSON (SARIF too for check), without a final newline."""
    if fmt == "text":
        return _text(report)
    if fmt == "json":
        return json.dumps(_json(report), indent=2)
    if fmt == "sarif":
        return json.dumps(_sarif(report), indent=2)
    raise ValueError(f"unknown format {fmt!r}")


def _text(report: CheckReport) -> str:
    source = "tracked files" if report.git_tracked else "files (not a git repo: walked the folder)"
    lines = [
        f"policy: {report.policy_source}",
        f"checked {report.files_checked} {source} with {_plural(len(report.rules_run), 'rule')}: "
        + ", ".join(report.rules_run),
    ]
    for f in report.findings:
        where = f"{f.where()}: " if f.file else ""
        lines.append(f"{where}{f.severity}: {f.message} [{f.rule_id}]")
    n_err, n_warn = len(report.errors), len(report.warnings)
    if not report.findings:
        lines.append("ok: no violations")
    else:
        verdict = "failed" if report.failed else "passed with warnings"
        lines.append(f"{verdict}: {_plural(n_err, 'error')}, {_plural(n_warn, 'warning')}")
    return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _json(report: CheckReport) -> dict[str, Any]:
    return {
        "path": str(report.path),
        "policy_source": report.policy_source,
        "rules_run": list(report.rules_run),
        "files_checked": report.files_checked,
        "git_tracked": report.git_tracked,
        "ok": not report.failed,
        "summary": {"errors": len(report.errors), "warnings": len(report.warnings)},
        "findings": [dataclasses.asdict(f) for f in report.findings],
    }


def _sarif(report: CheckReport) -> dict[str, Any]:
    rules = [
        {
            "id": info.id,
            "name": "".join(part.capitalize() for part in info.id.replace("_", "-").split("-")),
            "shortDescription": {"text": info.description},
            "fullDescription": {"text": info.description},
            "defaultConfiguration": {"level": info.severity},
            "helpUri": INFO_URI + "/blob/main/docs/conventions.md",
        }
        for info in report.rules
    ]
    index = {info.id: i for i, info in enumerate(report.rules)}
    anchor = _anchor(report)
    results = [_sarif_result(f, index, anchor) for f in report.findings]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mlscaffold",
                        "semanticVersion": __version__,
                        "informationUri": INFO_URI,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": "mlscaffold/check/"},
                "properties": {"policySource": report.policy_source},
                "results": results,
            }
        ],
    }


def _anchor(report: CheckReport) -> str:
    for name in ANCHORS:
        if (report.path / name).is_file():
            return name
    return "."


def _sarif_result(f: Finding, index: dict[str, int], anchor: str) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": f.file or anchor, "uriBaseId": "%SRCROOT%"}}
    physical["region"] = {"startLine": f.line if f.line is not None else 1}
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": f.severity,
        "message": {"text": f.message},
        "locations": [{"physicalLocation": physical}],
    }
    if f.rule_id in index:
        result["ruleIndex"] = index[f.rule_id]
    return result
