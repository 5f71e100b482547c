"""The readiness checks that know what users have now, and who the users are.

R6  a simpler model is not as good: when the chosen model is not the linear one, the linear model
    (artifacts/candidates/linear.joblib) is scored on the same test rows; if it is within
    `evaluate.simpler_tolerance` of the chosen model, the gate says so and, with
    `evaluate.prefer_simpler`, warns that the linear model should be preferred.
R7  no regression against the champion (registry.py): the champion is scored on the same current
    test split; the challenger fails when it is worse by more than `evaluate.champion_tolerance`
    (absolute for [0, 1] metrics, relative for error metrics) AND the 95% paired bootstrap interval of
    (challenger - champion) lies wholly on the worse side of 0, i.e. the regression is larger than
    the tolerance and not sampling noise. No champion yet (the first model), or the model evaluated
    is the champion itself: skipped with a note.
R9  fairness across groups: per-group values of the primary metric (fairlearn's MetricFrame) for
    each column of `evaluate.sensitive_columns` (groups with fewer than `slice_min_n` test rows are
    reported, not judged); the largest gap between groups against `evaluate.fairness_max_gap`
    (absolute for [0, 1] metrics, relative to the overall value for error metrics); for binary
    models also the selection-rate ratio (>= `evaluate.fairness_min_selection_ratio`, the
    four-fifths convention) and the equalized-odds difference (<= `fairness_max_gap`). It blocks
    when `evaluate.fairness_blocking` is true, else it warns. No sensitive columns: skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .metrics import compute

if TYPE_CHECKING:
    from .evaluation import Check, Evaluation


def _check(*args: Any, **kwargs: Any) -> Check:
    from .evaluation import Check

    return Check(*args, **kwargs)


def _truth(result: Evaluation) -> np.ndarray:
    return result.y if result.config.task.type == "regression" else result.y.astype(str)


def _allowed_shortfall(result: Evaluation, reference: float, tolerance: float) -> float:
    """How much worse than `reference` is still within `tolerance` (absolute or relative)."""
    if result.metric.bounded:
        return tolerance
    return abs(reference) * tolerance


# ----------------------------------------------------------------------------- R7


def compare_with_champion(result: Evaluation) -> dict[str, Any] | None:
    """The champion scored on the current test split, beside the challenger (None: no champion)."""
    from .artifacts import load_estimator, read_json
    from .evaluation import paired_difference
    from .predict import predict_frame
    from .registry import open_registry

    champion = open_registry(result.config).champion()
    if champion is None:
        return None
    info: dict[str, Any] = {
        "version": champion.number,
        "model_version": champion.model_version,
        "same_model": champion.model_version == result.meta.get("model_version"),
    }
    if info["same_model"]:
        return info
    meta = read_json(champion.folder / "model_meta.json")
    meta["costs"] = result.meta.get("costs", {})
    outputs = predict_frame(load_estimator(champion.folder / "model.joblib"), meta, result.test)
    value = compute(result.metric.name, _truth(result), outputs, meta)
    point, interval = paired_difference(result, outputs, meta)
    info.update(
        champion_value=value,
        challenger_value=result.primary["model"],
        difference=point,
        difference_ci95=interval,
    )
    return info


def check_champion(result: Evaluation) -> Check:
    name = "No regression against the champion (paired bootstrap)"
    versus = result.versus_champion
    if versus is None:
        return _check(
            "R7", name, "skipped", False, detail="no champion yet: this is the first model"
        )
    if versus["same_model"]:
        return _check(
            "R7",
            name,
            "skipped",
            False,
            detail=f"the model evaluated is the champion (version {versus['version']})",
        )
    tolerance = result.config.evaluate.champion_tolerance
    allowed = _allowed_shortfall(result, versus["champion_value"], tolerance)
    sign = 1 if result.metric.greater_is_better else -1
    shortfall = -sign * versus["difference"]  # > 0: the challenger is worse
    low, high = versus["difference_ci95"]
    significant = (high < 0) if result.metric.greater_is_better else (low > 0)
    regressed = shortfall > allowed and significant
    detail = (
        f"challenger {versus['challenger_value']:.4g} vs champion v{versus['version']} "
        f"{versus['champion_value']:.4g} (difference {versus['difference']:+.4g}, 95% paired "
        f"interval [{low:.4g}, {high:.4g}], allowed shortfall {allowed:.4g})"
    )
    if regressed:
        detail = "worse than the champion beyond the tolerance and beyond noise: " + detail
    return _check(
        "R7",
        name,
        "fail" if regressed else "pass",
        True,
        value=versus["difference"],
        threshold=-allowed if result.metric.greater_is_better else allowed,
        detail=detail,
    )


# ----------------------------------------------------------------------------- R6


def check_simpler(result: Evaluation) -> Check:
    name = "A simpler model is not as good"
    versus = result.versus_linear
    chosen = result.meta.get("candidate")
    if versus is None:
        why = (
            "the chosen model is the linear model, the simplest candidate"
            if chosen in (None, "linear")
            else "artifacts/candidates/linear.joblib not found: run `make train` again"
        )
        return _check(
            "R6", name, "pass" if chosen in (None, "linear") else "skipped", False, detail=why
        )
    tolerance = result.config.evaluate.simpler_tolerance
    allowed = _allowed_shortfall(result, versus["chosen_value"], tolerance)
    sign = 1 if result.metric.greater_is_better else -1
    advantage = sign * (versus["chosen_value"] - versus["linear_value"])
    detail = (
        f"{versus['chosen']} {versus['chosen_value']:.4g} vs linear {versus['linear_value']:.4g} "
        f"(advantage {advantage:+.4g}, tolerance {allowed:.4g})"
    )
    if advantage > allowed:
        return _check("R6", name, "pass", False, value=advantage, threshold=allowed, detail=detail)
    if result.config.evaluate.prefer_simpler:
        detail = (
            "the linear model is within tolerance of the chosen one: prefer it "
            "(models.candidates: [linear]) or set evaluate.prefer_simpler: false; " + detail
        )
        return _check("R6", name, "warn", False, value=advantage, threshold=allowed, detail=detail)
    detail = "the linear model is within tolerance (evaluate.prefer_simpler is false): " + detail
    return _check("R6", name, "pass", False, value=advantage, threshold=allowed, detail=detail)


# ----------------------------------------------------------------------------- R9


def group_metrics(result: Evaluation) -> list[dict[str, Any]]:
    """Per sensitive column: the primary metric per group (fairlearn MetricFrame) and the gap."""
    from fairlearn.metrics import MetricFrame

    cfg = result.config.evaluate
    name = result.metric.name
    outputs = result.outputs["model"].reset_index(drop=True)
    truth = _truth(result)

    def metric(y_true: Any, rows: Any) -> float:  # y_pred carries row positions
        picked = np.asarray(rows, dtype=int)
        return compute(name, np.asarray(y_true), outputs.iloc[picked], result.meta)

    found = []
    for column in cfg.sensitive_columns:
        if column not in result.test.columns:
            found.append({"column": column, "missing": True})
            continue
        groups = result.test[column].astype(object).where(result.test[column].notna(), "(missing)")
        groups = groups.astype(str).reset_index(drop=True)
        frame = MetricFrame(
            metrics={name: metric, "n": lambda y_true, rows: len(y_true)},
            y_true=truth,
            y_pred=np.arange(len(truth)),
            sensitive_features=groups.rename(column),
        )
        by_group = frame.by_group
        judged = by_group[(by_group["n"] >= cfg.slice_min_n) & by_group[name].notna()]
        values = judged[name].astype(float)
        gap = float(values.max() - values.min()) if len(values) >= 2 else None
        entry: dict[str, Any] = {
            "column": column,
            "overall": float(frame.overall[name]),
            "groups": [
                {"group": str(g), "n": int(row["n"]), "value": float(row[name])}
                for g, row in by_group.iterrows()
            ],
            "judged_groups": len(values),
            "gap": gap,
        }
        if result.config.task.type == "binary_classification":
            entry.update(_binary_fairness(result, groups, [str(g) for g in judged.index], outputs))
        found.append(entry)
    return found


def _binary_fairness(
    result: Evaluation, groups: pd.Series, judged: list[str], outputs: pd.DataFrame
) -> dict[str, float]:
    """Binary models: selection-rate ratio (demographic parity) and equalized-odds difference
    over the judged groups (fairlearn)."""
    import warnings

    from fairlearn.metrics import demographic_parity_ratio, equalized_odds_difference

    keep = groups.isin(judged).to_numpy()
    if len(judged) < 2 or not keep.any():
        return {}
    positive = str(result.meta["positive_class"])
    y = (_truth(result)[keep] == positive).astype(int)
    said = (outputs["prediction"].astype(str).to_numpy()[keep] == positive).astype(int)
    with warnings.catch_warnings():  # a group with one class only: fairlearn warns, gives nan
        warnings.simplefilter("ignore")
        ratio = demographic_parity_ratio(y, said, sensitive_features=groups[keep])
        odds = equalized_odds_difference(y, said, sensitive_features=groups[keep])
    return {"selection_rate_ratio": float(ratio), "equalized_odds_difference": float(odds)}


def _fairness_problems(result: Evaluation, entry: dict[str, Any]) -> list[str]:
    cfg = result.config.evaluate
    problems = []
    allowed = _allowed_shortfall(result, entry["overall"], cfg.fairness_max_gap)
    if entry["gap"] is not None and entry["gap"] > allowed:
        problems.append(
            f"{entry['column']}: {result.metric.name} gap {entry['gap']:.4g} > {allowed:.4g}"
        )
    ratio = entry.get("selection_rate_ratio")
    if ratio is not None and np.isfinite(ratio) and ratio < cfg.fairness_min_selection_ratio:
        problems.append(
            f"{entry['column']}: selection-rate ratio {ratio:.3g} < "
            f"{cfg.fairness_min_selection_ratio:.3g}"
        )
    odds = entry.get("equalized_odds_difference")
    if odds is not None and np.isfinite(odds) and odds > cfg.fairness_max_gap:
        problems.append(
            f"{entry['column']}: equalized-odds difference {odds:.3g} > {cfg.fairness_max_gap:.3g}"
        )
    return problems


def check_fairness(result: Evaluation) -> Check:
    name = "Sensitive groups: metric gap, selection rates and equalized odds within bounds"
    cfg = result.config.evaluate
    if not cfg.sensitive_columns:
        return _check(
            "R9",
            name,
            "skipped",
            False,
            detail="no sensitive_columns configured (evaluate.sensitive_columns in config.yaml)",
        )
    missing = [g["column"] for g in result.groups if g.get("missing")]
    if missing:
        return _check(
            "R9", name, "fail", True, value=missing, detail="sensitive column(s) missing from test"
        )
    judged = [e for e in result.groups if e["gap"] is not None]
    if not judged:
        return _check(
            "R9",
            name,
            "skipped",
            False,
            detail=f"fewer than two groups with at least slice_min_n={cfg.slice_min_n} test rows",
        )
    largest = max(judged, key=lambda e: e["gap"])
    problems = [p for entry in judged for p in _fairness_problems(result, entry)]
    summary = (
        f"largest {result.metric.name} gap: {largest['column']} {largest['gap']:.4g} over "
        f"{largest['judged_groups']} groups"
    )
    if not problems:
        return _check(
            "R9",
            name,
            "pass",
            True,
            value=largest["gap"],
            threshold=cfg.fairness_max_gap,
            detail=summary,
        )
    return _check(
        "R9",
        name,
        "fail" if cfg.fairness_blocking else "warn",
        cfg.fairness_blocking,
        value=largest["gap"],
        threshold=cfg.fairness_max_gap,
        detail="; ".join(problems),
    )
