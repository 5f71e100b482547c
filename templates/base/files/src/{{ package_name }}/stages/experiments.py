"""`experiments`: the recorded runs side by side (newest first) and what changed between the two latest.

Reads the tracking store of tracking.py (the project's mlruns.db, or MLFLOW_TRACKING_URI). For the
full picture, with charts: `pip install mlflow` then `mlflow ui --backend-store-uri sqlite:///mlruns.db`.
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import UTC, datetime
from typing import Any

from ..config import Config
from ..errors import ConfigError

ORDER = 90
PIPELINE_STEP = None
log = logging.getLogger(__name__)
# Parameters that differ between any two runs and say nothing about the model.
NOISE = frozenset({"model_description"})


def run(config: Config, argv: list[str]) -> int:
    """Show the recorded runs side by side and what changed between the two latest."""
    parser = argparse.ArgumentParser(prog="experiments", description=run.__doc__)
    parser.add_argument("--limit", type=int, default=10, help="how many runs (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.limit < 1:
        raise ConfigError("experiments --limit must be 1 or more")

    from ..tracking import experiment_name, recent_runs, tracking_enabled, tracking_uri

    if not tracking_enabled(config):
        raise ConfigError(
            "tracking.backend is none in config.yaml: no runs are recorded (set it to mlflow)"
        )
    runs = recent_runs(config, args.limit)
    metric = config.evaluate.primary_metric
    rows = [summarise(r, metric) for r in runs]
    changes = compare(runs[1], runs[0]) if len(runs) >= 2 else None
    if args.json:
        print(json.dumps({"runs": rows, "changes": changes}, indent=2, default=str))
        return 0
    where = f"experiment '{experiment_name(config)}' in {tracking_uri(config)}"
    if not rows:
        print(f"no runs yet in {where}: run `make train` (or `make all`)")
        return 0
    print(f"{len(rows)} latest run(s) of {where}:\n")
    print(table(rows, metric))
    if changes is not None:
        print("\n" + describe_changes(changes))
    return 0


def summarise(record: Any, metric: str) -> dict[str, Any]:
    """One run as a row: when, which model, on which data, how good, ready or not."""
    m, tags = record.metrics, record.tags
    low, high = m.get(f"test_{metric}_ci_low"), m.get(f"test_{metric}_ci_high")
    return {
        "run_id": record.run_id,
        "started": datetime.fromtimestamp(record.start_time / 1000, UTC).strftime("%Y-%m-%d %H:%M"),
        "status": record.status,
        "model": tags.get("candidate") or record.params.get("candidate", ""),
        "data_version": tags.get("data_version", ""),
        "git_commit": (tags.get("git_commit") or "")[:8],
        "cv": m.get(f"cv_{metric}"),
        "test": m.get(f"test_{metric}"),
        "ci95": [low, high] if low is not None and high is not None else None,
        "ready": tags.get("ready"),
    }


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def table(rows: list[dict[str, Any]], metric: str) -> str:
    header = ["started (UTC)", "run", "model", "data", "commit", f"cv {metric}", f"test {metric}"]
    header += ["95% CI", "ready?"]
    lines = [header]
    for row in rows:
        ci = row["ci95"]
        lines.append(
            [
                row["started"],
                row["run_id"][:8],
                row["model"] or "-",
                row["data_version"][:8] or "-",
                row["git_commit"] or "-",
                _num(row["cv"]),
                _num(row["test"]),
                f"{_num(ci[0])}-{_num(ci[1])}" if ci else "-",
                {"true": "yes", "false": "NO"}.get(str(row["ready"]), "not evaluated"),
            ]
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def compare(older: Any, newer: Any) -> dict[str, Any]:
    """Parameters, tags and metrics that differ between two runs."""

    def differ(a: dict[str, Any], b: dict[str, Any], skip: frozenset[str]) -> dict[str, Any]:
        keys = sorted((set(a) | set(b)) - skip)
        return {k: [a.get(k), b.get(k)] for k in keys if a.get(k) != b.get(k)}

    tag_skip = frozenset({"model_version", "ready"}) | {
        k for k in set(older.tags) | set(newer.tags) if k.startswith("check.")
    }
    metrics = {
        k: [older.metrics.get(k), newer.metrics.get(k)]
        for k in sorted(set(older.metrics) | set(newer.metrics))
        if (k.startswith("test_") or k.startswith("cv_") or k == "ready")
        and older.metrics.get(k) != newer.metrics.get(k)
    }
    return {
        "older": older.run_id,
        "newer": newer.run_id,
        "params": differ(older.params, newer.params, NOISE),
        "tags": differ(older.tags, newer.tags, tag_skip),
        "metrics": metrics,
    }


def describe_changes(changes: dict[str, Any]) -> str:
    lines = [f"What changed from run {changes['older'][:8]} to {changes['newer'][:8]}:"]
    for kind in ("params", "tags", "metrics"):
        for key, (before, after) in changes[kind].items():
            if kind == "metrics" and before is not None and after is not None:
                lines.append(f"  {key}: {before:.4f} -> {after:.4f} ({after - before:+.4f})")
            else:
                lines.append(f"  {key}: {before if before is not None else '-'} -> {after}")
    if len(lines) == 1:
        lines.append("  nothing: same parameters, data, code and metrics")
    return "\n".join(lines)


COMMANDS = {"experiments": run}
