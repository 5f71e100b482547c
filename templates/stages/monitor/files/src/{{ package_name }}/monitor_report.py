"""Writing a monitoring result: <name>.json (the contract), .md (for people), .png (plots)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .artifacts import write_json, write_text
from .monitoring import ACTIONS, Result
from .reference import Reference, bin_edges, numeric_shares

ICONS = {"ok": "ok", "warn": "WARN", "alert": "ALERT", "error": "ERROR"}
# every alert's action, most urgent first (each ACTIONS text names its own kind of alert)
ACTION_ORDER = (
    "skew",
    "data_quality",
    "performance",
    "drift",
    "operations_age",
    "operations_latency",
)


def write_result(result: Result, folder: Path, name: str) -> Path:
    return write_json(folder / f"{name}.json", result.to_dict())


def write_error(folder: Path, name: str, message: str, source: str) -> Path:
    """The could-not-compute report (status error); monitoring then exits 2."""
    payload: dict[str, Any] = {
        "status": "error",
        "error": message,
        "window": {"name": name, "source": source},
        "model_version": None,
        "checks": [],
        "dataset_drift": {},
        "performance": {},
        "recommended_action": ACTIONS["error"],
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_json(folder / f"{name}.json", payload)
    write_text(
        folder / f"{name}.md",
        f"# Monitoring: {name}\n\n**Status: ERROR** (could not compute)\n\n"
        f"{message}\n\n{ACTIONS['error']}\n",
    )
    return folder / f"{name}.json"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return str(value)


def write_markdown(
    result: Result, folder: Path, name: str, plot: Path | None, note: str = ""
) -> Path:
    window, drift, perf = result.window, result.dataset_drift, result.performance
    lines = [
        f"# Monitoring: {name}",
        "",
        f"**Status: {ICONS[result.status]}**. Model `{result.model_version}`; "
        f"window `{window['source']}`, "
        f"{window['n_rows']} rows ({window.get('n_labeled', 0)} labelled)"
        + (f", {window['from']} to {window['to']}" if window.get("from") else "")
        + ".",
        "",
    ]
    if note:
        lines += [f"> {note}", ""]
    lines += [
        f"**Recommended action:** {result.recommended_action}",
        "",
        "## Summary",
        "",
        f"- Dataset drift: {drift.get('drifted', 0)} of {drift.get('n_features', 0)} features "
        "drifted "
        f"(share {_fmt(drift.get('share'))}, alert at {_fmt(drift.get('threshold'))})"
        + (f": {', '.join(drift['drifted_features'])}" if drift.get("drifted_features") else ""),
        f"- Performance ({perf.get('metric')}): realised {_fmt(perf.get('realized'))} on "
        f"{perf.get('n_labeled', 0)} labelled rows vs reference {_fmt(perf.get('reference'))} "
        f"({perf.get('status')})",
        "",
    ]
    if plot is not None:
        lines += [f"![drift and predictions]({plot.name})", ""]
    flagged = [c for c in result.checks if c.status != "ok"]
    lines += ["## Checks that need attention", ""]
    lines += _table(flagged) if flagged else ["None: every check is within its threshold.", ""]
    lines += ["## All checks", "", *_table(result.checks)]
    lines += [
        "## What to do (action mapping)",
        "",
        *[f"- {ACTIONS[key]}" for key in ACTION_ORDER],
        "",
        "Thresholds come from config.yaml (`monitor:`); checks marked [sample-size aware] raise a",
        "default threshold to what sampling noise alone reaches at this window size.",
        "",
    ]
    return write_text(folder / f"{name}.md", "\n".join(lines))


def _table(checks: list[Any]) -> list[str]:
    rows = [
        "| status | group | check | feature | method | value | threshold | n | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in checks:
        note = c.detail.replace("|", "/")
        rows.append(
            f"| {ICONS[c.status]} | {c.group} | {c.id} | {c.feature or '-'} | {c.method} | "
            f"{_fmt(c.value)} | {_fmt(c.threshold)} | {c.n} | {note} |"
        )
    return [*rows, ""]


def write_plot(
    result: Result,
    reference: Reference,
    window: pd.DataFrame,
    folder: Path,
    name: str,
    psi_warn: float,
    psi_alert: float,
) -> Path:
    """Left: PSI per feature against the thresholds. Right: the prediction, reference vs window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    height = max(4.5, 0.25 * _n_psi(result) + 2.0)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, height))
    _psi_panel(left, result, psi_warn, psi_alert)
    _prediction_panel(right, reference, window)
    fig.suptitle(f"{name}: status {result.status}")
    # fixed margins: tight_layout costs more than the rest of the report on small machines
    fig.subplots_adjust(left=0.2, right=0.98, bottom=1.1 / height, top=1 - 0.6 / height, wspace=0.3)
    out = folder / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def _n_psi(result: Result) -> int:
    return min(25, sum(1 for c in result.checks if c.id == "psi" and c.group == "feature_drift"))


def _psi_panel(ax: Any, result: Result, psi_warn: float, psi_alert: float) -> None:
    checks = [
        c
        for c in result.checks
        if c.id == "psi" and c.group == "feature_drift" and c.value is not None
    ]
    checks = sorted(checks, key=lambda c: c.value or 0.0)[-25:]
    colours = {"ok": "tab:green", "warn": "tab:orange", "alert": "tab:red"}
    ax.barh(
        [c.feature for c in checks],
        [c.value for c in checks],
        color=[colours[c.status] for c in checks],
    )
    raised = any((c.threshold or 0.0) > psi_alert for c in checks)
    if raised:  # small window: each feature has its own, higher, alert threshold: draw those
        ax.scatter(
            [c.threshold for c in checks],
            [c.feature for c in checks],
            marker="|",
            s=200,
            linewidths=2,
            color="tab:red",
            zorder=3,
            label=f"alert threshold at this window size (psi_alert {psi_alert}, raised for noise)",
        )
    else:
        ax.axvline(psi_warn, color="tab:orange", linestyle="--", label=f"warn {psi_warn}")
        ax.axvline(psi_alert, color="tab:red", linestyle="--", label=f"alert {psi_alert}")
    ax.set_xlabel("PSI vs reference (bars coloured by status)")
    ax.set_title("Input drift per feature")
    ax.legend(loc="lower right")


def _prediction_panel(ax: Any, reference: Reference, window: pd.DataFrame) -> None:
    column = "score" if "score" in reference.predictions else "prediction"
    entry = reference.predictions.get(column)
    if entry is None or column not in window.columns:
        ax.set_axis_off()
        return
    if entry["kind"] == "numeric":
        edges = bin_edges(entry["bin_edges"])
        labels = [f"bin {i + 1}" for i in range(len(edges) - 1)]
        cur = numeric_shares(
            pd.to_numeric(window[column], errors="coerce").dropna().to_numpy(float), edges
        )
        ref = np.asarray(entry["bin_shares"], dtype=float)
        ax.set_xlabel(f"reference deciles of {column}")
    else:
        labels = list(entry["categories"])
        ref = np.array([entry["categories"][k] for k in labels])
        keys = window[column].dropna().astype(str).value_counts(normalize=True)
        cur = np.array([float(keys.get(k, 0.0)) for k in labels])
        ax.set_xlabel(f"predicted class ({column})")
    x = np.arange(len(labels))
    ax.bar(x - 0.2, ref, width=0.4, label="reference")
    ax.bar(x + 0.2, cur, width=0.4, label="window")
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_ylabel("share of rows")
    ax.set_title("Prediction distribution")
    ax.legend()
