"""Writing the evaluation: reports/readiness.json (for machines and CI), reports/evaluation.md (for
people) and reports/model_card.md (Mitchell et al.'s sections, filled from config and results)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .evaluation import PREDICTORS, Evaluation, duplicates_summary
from .metrics import METRICS


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "n/a"
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.2g}"
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]" if value else "none"
    return str(value)


def readiness(result: Evaluation) -> dict[str, Any]:
    cfg = result.config.evaluate
    return {
        "ready": result.ready,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_version": result.meta.get("model_version"),
        "task_type": result.config.task.type,
        "primary_metric": {
            "name": result.metric.name,
            "greater_is_better": result.metric.greater_is_better,
            "value": result.primary["model"],
            "ci95": result.ci.get("model"),
            "ready_threshold": cfg.ready_threshold,
            "baseline_margin": cfg.baseline_margin,
            "baselines": {
                "dummy": result.primary["dummy"],
                "heuristic": result.primary["heuristic"],
            },
        },
        "test_rows": len(result.test),
        "metrics": result.metrics,
        "bootstrap": result.ci,
        "slices": result.slices,
        "candidate": result.meta.get("candidate"),
        "versus_linear": result.versus_linear,
        "versus_champion": result.versus_champion,
        "fairness": result.groups,
        "breakdown": result.breakdown,
        "checks": [c.as_dict() for c in result.checks],
        "failed": [c.id for c in result.checks if c.blocking and c.status == "fail"],
    }


def evaluation_markdown(result: Evaluation, figures: list[Path]) -> str:
    cfg = result.config
    metric = result.metric
    verdict = "READY" if result.ready else "NOT READY"
    ci = result.ci.get("model")
    lines = [
        f"# Evaluation: {cfg.project.name}",
        "",
        f"**{verdict}** — model `{result.meta.get('model_version')}`, {cfg.task.type}, "
        f"{len(result.test)} held-out test rows.",
        "",
        f"Primary metric **{metric.label}** ({'higher' if metric.greater_is_better else 'lower'} is "
        f"better): model **{fmt(result.primary['model'])}**"
        + (f" (95% bootstrap CI {fmt(ci[0])} – {fmt(ci[1])})" if ci else "")
        + f", dummy {fmt(result.primary['dummy'])}, heuristic {fmt(result.primary['heuristic'])}.",
        "",
        duplicates_line(result),
        "",
        "## Readiness checks",
        "",
        "| id | check | value | threshold | status | blocking |",
        "|---|---|---|---|---|---|",
    ]
    for check in result.checks:
        mark = {"pass": "✅ pass", "fail": "❌ fail", "warn": "⚠️ warn"}.get(
            check.status, check.status
        )
        name = check.name + (f" — {check.detail}" if check.detail else "")
        lines.append(
            f"| {check.id} | {name} | {fmt(check.value)} | {fmt(check.threshold)} | {mark} | "
            f"{'yes' if check.blocking else 'no'} |"
        )
    lines += ["", "## Model and baselines on the test split", ""]
    lines += ["| metric | " + " | ".join(PREDICTORS) + " |", "|---|" + "---|" * len(PREDICTORS)]
    for name in result.metrics["model"]:
        label = METRICS[name].label
        values = " | ".join(fmt(result.metrics[p][name]) for p in PREDICTORS)
        lines.append(f"| {label} | {values} |")
    lines += ["", "What each predictor is:", ""]
    lines += [f"- **{p}**: {result.descriptions.get(p, '')}" for p in PREDICTORS]
    if result.meta.get("model_loss"):
        lines.append(f"- the model's loss: {result.meta['model_loss']}")
    if result.meta.get("threshold") is not None:
        lines.append(
            f"- decision threshold {result.meta['threshold']:.3f}, chosen on 5-fold cross-validation of"
            f" the training data to minimise expected cost (false positive {cfg.evaluate.cost_fp},"
            f" false negative {cfg.evaluate.cost_fn})"
        )
    lines += _candidates_section(result)
    if result.slices:
        lines += [
            "",
            "## Slices",
            "",
            f"| slice | n | {metric.label} (model) | best baseline | floor | status |",
            "|---|---|---|---|---|---|",
        ]
        for s in result.slices:
            lines.append(
                f"| {s['column']} = {s['value']} | {s['n']} | {fmt(s.get('metric'))} | "
                f"{fmt(s.get('baseline'))} | {fmt(s.get('floor'))} | {s['status']} |"
            )
    lines += _lifecycle_section(result)
    lines += _breakdown_section(result)
    lines += _errors_section(result)
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{p.stem}](figures/{p.name})" for p in figures]
    return "\n".join(lines) + "\n"


def _lifecycle_section(result: Evaluation) -> list[str]:
    """R7 (the champion on the same test rows) and R9 (per-group metrics)."""
    lines = ["", "## Against the champion", ""]
    versus = result.versus_champion
    if versus is None:
        lines.append(
            "No champion yet: this is the first model (R7 skipped). `make promote` after a pass."
        )
    elif versus["same_model"]:
        lines.append(f"This model is the champion (version {versus['version']}).")
    else:
        low, high = versus["difference_ci95"]
        lines.append(
            f"Champion version {versus['version']}: {fmt(versus['champion_value'])}; this model: "
            f"{fmt(versus['challenger_value'])}; difference {fmt(versus['difference'])} "
            f"(95% paired bootstrap CI {fmt(low)} – {fmt(high)})."
        )
    for entry in result.groups:
        if entry.get("missing"):
            lines += ["", f"Sensitive column `{entry['column']}` is missing from the test split."]
            continue
        lines += [
            "",
            f"### {result.metric.label} by `{entry['column']}` (largest gap {fmt(entry['gap'])})",
            "",
            "| group | n | value |",
            "|---|---|---|",
        ]
        lines += [f"| {g['group']} | {g['n']} | {fmt(g['value'])} |" for g in entry["groups"]]
    return lines


def _candidates_section(result: Evaluation) -> list[str]:
    """How the model was chosen (cross-validation on train) and how it compares with the linear model."""
    selection = result.meta.get("selection")
    if not selection:
        return []
    lines = [
        "",
        "## Model candidates",
        "",
        f"Cross-validated on the training split ({selection['folds']} folds, {selection['metric']}); "
        f"rule: {selection['rule']}. Chosen: **{selection['chosen']}**.",
        "",
        "| candidate | CV mean | standard error | fit time (s) |",
        "|---|---|---|---|",
    ]
    for row in selection["candidates"]:
        mark = " (chosen)" if row["name"] == selection["chosen"] else ""
        lines.append(
            f"| {row['name']}{mark} | {fmt(row['cv_mean'])} | {fmt(row['cv_stderr'])} | "
            f"{fmt(row['fit_seconds'])} |"
        )
    if selection.get("params"):
        lines += ["", f"Hyperparameters from the Optuna search: `{selection['params']}`."]
    versus = result.versus_linear
    if versus:
        low, high = versus["difference_ci95"]
        verdict = (
            "not worse than the linear model beyond its bootstrap interval"
            if versus["within_interval"]
            else "WORSE than the linear model by more than its bootstrap interval: prefer linear"
        )
        lines += [
            "",
            f"On the test split: {versus['chosen']} {fmt(versus['chosen_value'])} vs linear "
            f"{fmt(versus['linear_value'])}; difference {fmt(versus['difference'])} "
            f"(95% paired bootstrap CI {fmt(low)} – {fmt(high)}): {verdict}.",
        ]
    return lines


def _errors_section(result: Evaluation) -> list[str]:
    """The most confident mistakes: where to look first when improving the model."""
    cfg = result.config
    out = result.outputs["model"]
    id_column = cfg.task.id_column if cfg.task.id_column in result.test.columns else None
    # without an id column, a row is named by its position in the source data (0 = first data row)
    index = result.test.index
    ids = result.test[id_column].astype(str) if id_column else pd.Series(index.astype(str), index)
    row_label = id_column or "source row"
    truth = result.test[cfg.task.target]
    if cfg.task.type == "regression":
        error = (out["prediction"] - truth.astype(float)).abs()
        worst = error.sort_values(ascending=False).head(5).index
        rows = [
            f"| {ids[i]} | {fmt(float(truth[i]))} | {fmt(float(out['prediction'][i]))} |"
            for i in worst
        ]
        header = [f"| {row_label} | actual | predicted |", "|---|---|---|"]
    else:
        if "score" in out.columns:  # binary: the probability of the class it predicted
            positive = str(result.meta["positive_class"])
            said_positive = out["prediction"].astype(str) == positive
            confidence = out["score"].where(said_positive, 1 - out["score"])
        else:
            confidence = out[[c for c in out.columns if c.startswith("proba_")]].max(axis=1)
        wrong = out["prediction"].astype(str) != truth.astype(str)
        worst = confidence[wrong].sort_values(ascending=False).head(5).index
        rows = [
            f"| {ids[i]} | {truth[i]} | {out['prediction'][i]} | {fmt(float(confidence[i]))} |"
            for i in worst
        ]
        header = [f"| {row_label} | actual | predicted | confidence |", "|---|---|---|---|"]
        text = cfg.task.text_column if cfg.task.type == "text_classification" else None
        if text and text in result.test.columns:  # ids alone do not show what the model misread
            rows = [
                row[:-1] + f"| {_cell(result.test[text][i])} |"
                for row, i in zip(rows, worst, strict=True)
            ]
            header = [header[0] + " text |", header[1] + "---|"]
    if not rows:
        return []
    return ["", "## Most confident mistakes", "", *header, *rows]


def _breakdown_section(result: Evaluation) -> list[str]:
    """Per-class precision and recall, top tokens per class (text), error by target decile."""
    lines: list[str] = []
    found = result.breakdown
    if found.get("per_class"):
        lines += ["", "## Per class (test split)", ""]
        lines += ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        lines += [
            f"| {_cell(r['class'])} | {fmt(r['precision'])} | {fmt(r['recall'])} | "
            f"{fmt(r['f1'])} | {r['support']} |"
            for r in found["per_class"]
        ]
    if found.get("top_tokens"):
        lines += ["", "## Top tokens per class (the model's largest TF-IDF weights)", ""]
        lines += [
            f"- **{_cell(label)}**: {', '.join(_cell(t) for t in tokens)}"
            for label, tokens in found["top_tokens"].items()
        ]
    if found.get("by_decile"):
        lines += ["", "## Error by target decile (test split)", ""]
        lines += [
            "| decile | actual from | to | n | MAE | mean signed error |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['decile']} | {fmt(r['target_from'])} | {fmt(r['target_to'])} | {r['n']} | "
            f"{fmt(r['mae'])} | {fmt(r['bias'])} |"
            for r in found["by_decile"]
        ]
    return lines


def duplicates_line(result: Evaluation) -> str:
    """What the data stage did with exact duplicate rows, and the overlap they cause."""
    found = duplicates_summary(result)
    if not found:
        return "Duplicates: not recorded (run `make data` again)."
    if not found.get("rows"):
        return "Duplicates: no exact duplicate rows in the data."
    line = (
        f"Duplicates: {found['rows']} exact duplicate row(s) ({100 * float(found['share']):.1f}%),"
        f" {'kept' if found.get('policy') == 'keep' else 'dropped before splitting'}"
        " (data.duplicates)"
    )
    if found.get("policy") == "keep":
        line += (
            f"; {found.get('test_rows_in_train', 0)} of {len(result.test)} test rows have an"
            " identical row in train"
        )
    return line + ". Rows are named by their position in the source data (`source_row`)."


def _cell(value: object, limit: int = 160) -> str:
    """Text fit for one Markdown table cell: one line, no pipes, shortened."""
    text = " ".join(str(value).split()).replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _decision_line(result: Evaluation) -> str:
    meta, cfg = result.meta, result.config.evaluate
    if meta.get("threshold") is not None:
        return (
            f"- Decision threshold {meta['threshold']:.3f} on P({meta.get('positive_class')}), chosen"
            f" for the lowest expected cost (false positive {cfg.cost_fp:g}, false negative"
            f" {cfg.cost_fn:g})."
        )
    if result.config.is_classification:
        return "- Decisions: the most probable class."
    return "- Output: a number in the target's units."


def model_card(result: Evaluation) -> str:
    cfg, meta = result.config, result.meta
    metric = result.metric
    ci = result.ci.get("model")
    features = meta["features"]
    kinds = {
        k: sum(1 for f in features if f["kind"] == k) for k in ("numeric", "categorical", "text")
    }
    failing = [c for c in result.checks if c.status in ("fail", "warn")]
    lines = [
        f"# Model card: {cfg.project.name}",
        "",
        "## Model details",
        "",
        f"- Version `{meta.get('model_version')}`, trained {meta.get('trained_at')}.",
        f"- Task: {cfg.task.type}; predicts `{cfg.task.target}`"
        + (f"; positive class `{meta['positive_class']}`" if "positive_class" in meta else "")
        + ".",
        f"- Model: {result.descriptions.get('model')}"
        + (f"; loss: {meta['model_loss']}" if meta.get("model_loss") else "")
        + ".",
        _decision_line(result),
        f"- Libraries: {', '.join(f'{k} {v}' for k, v in meta.get('library_versions', {}).items())}.",
        f"- Owner: {cfg.project.owner or 'not recorded (set project.owner in config.yaml)'}.",
        "",
        "## Intended use",
        "",
        f"- Goal: {cfg.project.goal or 'see docs/formulation.md'}.",
        f"- Serving: {cfg.serving.mode}"
        + (
            f", latency budget {cfg.serving.latency_budget_ms:g} ms"
            if cfg.serving.mode != "batch"
            else ""
        )
        + ".",
        "- Not for uses outside the population the training data describes; see docs/formulation.md.",
        "",
        "## Factors",
        "",
        f"- Slices evaluated: {', '.join(cfg.evaluate.slices) or 'none configured (evaluate.slices)'}.",
        "",
        "## Metrics",
        "",
        f"- Primary: {metric.label}; ready when "
        + (
            f"{'≥' if metric.greater_is_better else '≤'} {cfg.evaluate.ready_threshold}"
            if cfg.evaluate.ready_threshold is not None
            else "no absolute threshold is set"
        )
        + f" and better than both baselines by {cfg.evaluate.baseline_margin}"
        + (" (absolute)." if metric.bounded else " (relative)."),
        f"- Secondary: {', '.join(METRICS[m].label for m in result.metrics['model'] if m != metric.name)}.",
        "- Uncertainty: 95% bootstrap intervals over the test rows.",
        "",
        "## Evaluation data",
        "",
        f"- The held-out test split: {len(result.test)} rows (split: {cfg.split.method}, "
        f"fingerprint `{meta.get('test_data_fingerprint')}`).",
        "",
        "## Training data",
        "",
        f"- {meta.get('training_rows')} rows from {cfg.data.source}"
        + (f" (`data/sample/{cfg.data.sample}`)" if cfg.data.source == "sample" else "")
        + f"; {len(features)} features ({', '.join(f'{v} {k}' for k, v in kinds.items() if v)}).",
        *sampled_line(meta),
        f"- {duplicates_line(result)}",
        "",
        "## Quantitative analyses",
        "",
        f"| predictor | {metric.label} |",
        "|---|---|",
        f"| model | {fmt(result.primary['model'])}"
        + (f" (95% CI {fmt(ci[0])} – {fmt(ci[1])})" if ci else "")
        + " |",
        f"| dummy baseline | {fmt(result.primary['dummy'])} |",
        f"| heuristic baseline | {fmt(result.primary['heuristic'])} |",
        "",
        "Per-slice results and figures: reports/evaluation.md.",
        "",
        "## Ethical considerations",
        "",
        f"- Columns never used as features: {', '.join(cfg.features.forbidden) or 'none declared'}"
        " (features.forbidden; the gate checks the model does not use them).",
        "- Review who is affected by errors of each kind before deciding automatically.",
        "",
        "## Caveats and recommendations",
        "",
    ]
    if failing:
        lines += [
            f"- {c.id} {c.name}: {c.status}" + (f" ({c.detail})" if c.detail else "")
            for c in failing
        ]
    else:
        lines.append("- Every readiness check passed on this test split.")
    lines.append(
        f"- Test set of {len(result.test)} rows: differences smaller than the interval width are noise."
    )
    return "\n".join(lines) + "\n"


def sampled_line(meta: dict[str, Any]) -> list[str]:
    """The model card's line saying the model was fitted on a sample (train.max_rows), if it was."""
    sample = meta.get("training_sample") or {}
    if not sample.get("sampled"):
        return []
    return [
        f"- Fitted on a sample: {sample['rows_used']} of {sample['rows_available']} training rows, "
        f"{sample['how']} (`train.max_rows` in config.yaml)."
    ]
