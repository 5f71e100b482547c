"""`analyze`: what should I do next? Evidence for improving the dataset as well as the model.

- likely label errors: cleanlab's confident learning on out-of-fold probabilities of the chosen model
  over every labelled row (train and test), each with its row id; `reports/label_review.csv` is the
  file a person reviews (see review.py);
- a learning curve: the primary metric against the training-set size (cross-validated, with spread),
  and whether more data of the same kind is likely to help;
- error slices: the segments (categorical values, quartiles of numeric features, text length) where the
  out-of-fold error is highest, with counts and 95% intervals;
- permutation importance on the test split, and features that look like leakage (one feature alone
  nearly predicts the target, or carries almost all of the importance);
- a ranked list of next steps (more data / fix labels / features / model) with the evidence for each.

Only the model's training recipe is reused (the chosen candidate of artifacts/model_meta.json); the
test split is used for the permutation importance, never for choosing anything.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .config import Config

log = logging.getLogger(__name__)
STRENGTH = {"high": 3, "medium": 2, "low": 1}
LEAK_SCORE = 0.98  # one feature alone: balanced accuracy (classes) or R² (regression) at least this
LEAK_SHARE = 0.8  # or this share of the total permutation importance, with a near-perfect model
Z95 = 1.959964


@dataclass
class Labelled:
    """Every labelled row (train then test) with its split and stable row id."""

    frame: pd.DataFrame
    X: pd.DataFrame
    y: pd.Series
    ids: pd.Series
    split: pd.Series


def load_labelled(config: Config, meta: dict[str, Any]) -> Labelled:
    from .artifacts import load_split
    from .predict import feature_names
    from .review import row_ids

    parts, ids, splits = [], [], []
    for name in ("train", "test"):
        frame = load_split(config, name).reset_index(drop=True)
        parts.append(frame)
        ids.append(row_ids(config, frame, name))
        splits += [name] * len(frame)
    frame = pd.concat(parts, ignore_index=True)
    names = feature_names(meta)
    return Labelled(
        frame=frame,
        X=frame[names],
        y=frame[config.task.target],
        ids=pd.concat(ids, ignore_index=True),
        split=pd.Series(splits),
    )


def recipe(config: Config, meta: dict[str, Any], y: pd.Series) -> Any:
    """A fresh, unfitted copy of the chosen candidate's pipeline (no threshold tuning: probabilities)."""
    from .features import Feature
    from .models import get_candidate

    features = [Feature(str(f["name"]), str(f["kind"])) for f in meta["features"]]
    name = meta.get("candidate") or "linear"
    pipeline = get_candidate(config, name, features).build(config, features, y)
    params = (meta.get("selection") or {}).get("params") or {}
    return pipeline.set_params(**params) if params else pipeline


def out_of_fold(config: Config, meta: dict[str, Any], data: Labelled) -> np.ndarray:
    """Out-of-fold probabilities (classes, in meta["classes"] order) or predictions (regression)."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    from .selection import single_threaded

    folds = config.models.cv_folds
    estimator = recipe(config, meta, data.y)
    with single_threaded():
        if not config.is_classification:
            cv = KFold(folds, shuffle=True, random_state=config.split.seed)
            return np.asarray(cross_val_predict(estimator, data.X, data.y, cv=cv), dtype=float)
        folds = max(2, min(folds, int(data.y.value_counts().min())))
        cv = StratifiedKFold(folds, shuffle=True, random_state=config.split.seed)
        proba = cross_val_predict(estimator, data.X, data.y, cv=cv, method="predict_proba")
    fitted_order = [str(c) for c in np.unique(data.y)]  # the order scikit-learn's classes_ use
    wanted = [str(c) for c in meta["classes"]]
    return np.asarray(proba)[:, [fitted_order.index(c) for c in wanted]]


# ----------------------------------------------------------------------------- label errors


def label_issues(
    config: Config, meta: dict[str, Any], data: Labelled, oof: np.ndarray
) -> dict[str, Any]:
    """Rows whose given label disagrees with confident out-of-fold predictions, worst first."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    classes = [str(c) for c in meta["classes"]]
    labels = np.array([classes.index(str(v)) for v in data.y])
    ranked = find_label_issues(labels, oof, return_indices_ranked_by="self_confidence", n_jobs=1)
    quality = get_label_quality_scores(labels, oof, method="self_confidence")
    rows = [
        {
            "row_id": str(data.ids.iloc[i]),
            "split": str(data.split.iloc[i]),
            "given_label": classes[labels[i]],
            "suggested_label": classes[int(np.argmax(oof[i]))],
            "label_quality": float(quality[i]),
        }
        for i in ranked
    ]
    return {
        "method": "cleanlab confident learning (find_label_issues) on out-of-fold probabilities",
        "rows_checked": len(labels),
        "flagged": len(rows),
        "share": len(rows) / max(len(labels), 1),
        "issues": rows,
    }


# ----------------------------------------------------------------------------- learning curve


def learning_curve_verdict(config: Config, meta: dict[str, Any], data: Labelled) -> dict[str, Any]:
    """The metric at growing training sizes (training rows only, cross-validated)."""
    from sklearn.model_selection import learning_curve

    from .artifacts import load_split
    from .selection import LOWER_IS_BETTER, cv_splits, metric_value, single_threaded

    train = load_split(config, "train").reset_index(drop=True)
    X, y = train[list(data.X.columns)], train[config.task.target]
    metric = config.evaluate.primary_metric
    positive = meta.get("positive_class")
    if positive is not None:
        positive = next((c for c in pd.unique(y) if str(c) == str(positive)), positive)

    def scorer(estimator: Any, X_val: pd.DataFrame, y_val: pd.Series) -> float:
        return metric_value(metric, y_val, estimator, X_val, positive)

    points = config.analyze.learning_curve_points
    with single_threaded():
        sizes, train_scores, val_scores = learning_curve(
            recipe(config, meta, y),
            X,
            y,
            train_sizes=np.linspace(0.3, 1.0, points),
            cv=cv_splits(config, train),
            scoring=scorer,
            shuffle=True,
            random_state=config.split.seed,
        )
    mean, std = np.nanmean(val_scores, axis=1), np.nanstd(val_scores, axis=1)
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    gain = float(sign * (mean[-1] - mean[-2]))
    spread = float(std[-1] / math.sqrt(val_scores.shape[1]))
    gap = float(sign * (np.nanmean(train_scores[-1]) - mean[-1]))
    if gain > 2 * spread and gain > 0:
        verdict, strength = "still rising: more data of the same kind is likely to help", "high"
    elif gain > spread and gain > 0:
        verdict, strength = "rising slowly: more data may help a little", "medium"
    else:
        verdict, strength = "flat at the end: more of the same data is unlikely to help much", "low"
    return {
        "metric": metric,
        "train_sizes": [int(s) for s in sizes],
        "validation_mean": [float(v) for v in mean],
        "validation_std": [float(v) for v in std],
        "train_mean": [float(v) for v in np.nanmean(train_scores, axis=1)],
        "last_step_gain": gain,
        "last_point_stderr": spread,
        "train_validation_gap": gap,
        "verdict": verdict,
        "strength": strength,
    }


# ----------------------------------------------------------------------------- error slices


def _interval(errors: np.ndarray, binary: bool) -> tuple[float, float, float]:
    """Mean error and its 95% interval: Wilson for a rate, normal for a mean absolute error."""
    n = len(errors)
    mean = float(np.mean(errors))
    if binary:
        centre = (mean + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 * math.sqrt(mean * (1 - mean) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
        return mean, centre - half, centre + half
    half = Z95 * float(np.std(errors, ddof=1)) / math.sqrt(n) if n > 1 else float("nan")
    return mean, mean - half, mean + half


def _segments(column: pd.Series, kind: str) -> pd.Series:
    if kind == "text":
        words = column.fillna("").astype(str).str.split().str.len()
        return "words " + pd.qcut(words, q=4, duplicates="drop").astype(str)
    if kind == "numeric" and column.nunique() > 8:
        return pd.qcut(column, q=4, duplicates="drop").astype(str).replace("nan", "missing")
    return column.astype(str).replace({"nan": "missing", "None": "missing"})


def error_slices(
    config: Config, meta: dict[str, Any], data: Labelled, oof: np.ndarray
) -> dict[str, Any]:
    """Where the out-of-fold error is highest, by feature segment, with counts and intervals."""
    binary = config.is_classification
    if binary:
        classes = [str(c) for c in meta["classes"]]
        predicted = np.array(classes)[np.argmax(oof, axis=1)]
        errors = (predicted != data.y.astype(str).to_numpy()).astype(float)
        what = "error rate (out-of-fold)"
    else:
        errors = np.abs(oof - data.y.to_numpy(dtype=float))
        what = "mean absolute error (out-of-fold)"
    overall, low, high = _interval(errors, binary)
    rows = []
    for feature in meta["features"]:
        keys = _segments(data.X[feature["name"]], str(feature["kind"]))
        for value in pd.unique(keys):
            mask = (keys == value).to_numpy()
            n = int(mask.sum())
            if n < config.analyze.min_slice_n or n == len(keys):
                continue
            mean, lo, hi = _interval(errors[mask], binary)
            rows.append(
                {
                    "feature": feature["name"],
                    "segment": str(value),
                    "n": n,
                    "error": mean,
                    "ci95": [lo, hi],
                    "worse_than_overall": bool(lo > overall),
                }
            )
    rows.sort(key=lambda r: (-r["error"], -r["n"]))
    return {"measure": what, "overall": overall, "overall_ci95": [low, high], "worst": rows[:10]}


# ----------------------------------------------------------------------------- importance, leakage


def importance_and_leakage(
    config: Config, meta: dict[str, Any], data: Labelled, model: Any
) -> dict[str, Any]:
    """Permutation importance of the deployed model on the test split; features that look like leaks."""
    from sklearn.inspection import permutation_importance

    from .artifacts import load_split
    from .selection import LOWER_IS_BETTER, metric_value, single_threaded

    test = load_split(config, "test").reset_index(drop=True)
    X, y = test[list(data.X.columns)], test[config.task.target]
    metric = config.evaluate.primary_metric
    positive = meta.get("positive_class")
    if positive is not None:
        positive = next((c for c in pd.unique(y) if str(c) == str(positive)), positive)
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0

    def scorer(estimator: Any, X_val: pd.DataFrame, y_val: pd.Series) -> float:
        return sign * metric_value(metric, y_val, estimator, X_val, positive)

    with single_threaded():
        found = permutation_importance(
            model, X, y, scoring=scorer, n_repeats=5, random_state=config.split.seed
        )
    importance = [
        {"feature": name, "mean": float(m), "std": float(s)}
        for name, m, s in zip(X.columns, found.importances_mean, found.importances_std, strict=True)
    ]
    importance.sort(key=lambda r: -r["mean"])
    total = sum(max(r["mean"], 0.0) for r in importance) or 1.0
    for row in importance:
        row["share"] = max(row["mean"], 0.0) / total
    alone = single_feature_scores(config, meta, data)
    suspects = []
    for row in importance:
        score = alone.get(row["feature"])
        reasons = []
        if score is not None and score >= LEAK_SCORE:
            what = "R²" if config.task.type == "regression" else "balanced accuracy"
            reasons.append(f"alone it reaches {what} {score:.3f} (cross-validated)")
        if row["share"] >= LEAK_SHARE and len(importance) > 1:
            reasons.append(f"it carries {row['share']:.0%} of the permutation importance")
        if reasons:
            suspects.append({"feature": row["feature"], "reasons": reasons})
    return {
        "metric": metric,
        "importance": importance,
        "single_feature_scores": alone,
        "leakage_suspects": suspects,
    }


def single_feature_scores(config: Config, meta: dict[str, Any], data: Labelled) -> dict[str, float]:
    """How well a shallow tree on each non-text feature alone predicts the target (5-fold CV)."""
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    from .selection import single_threaded

    scores = {}
    regression = not config.is_classification
    for feature in meta["features"]:
        name, kind = str(feature["name"]), str(feature["kind"])
        if kind == "text":
            continue
        column = data.X[[name]]
        if kind == "categorical":
            encode = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
            column = pd.DataFrame(encode.fit_transform(column.astype(str)), columns=[name])
        column = column.fillna(column.median(numeric_only=True))
        tree = (DecisionTreeRegressor if regression else DecisionTreeClassifier)(
            max_depth=3, random_state=config.split.seed
        )
        y = data.y if regression else data.y.astype(str)
        folds = 5 if regression else max(2, min(5, int(y.value_counts().min())))
        with single_threaded():
            values = cross_val_score(
                make_pipeline(tree),
                column,
                y,
                cv=folds,
                scoring="r2" if regression else "balanced_accuracy",
            )
        scores[name] = float(np.mean(values))
    return scores


# ----------------------------------------------------------------------------- next steps


def next_steps(
    labels: dict[str, Any] | None,
    curve: dict[str, Any],
    slices: dict[str, Any],
    importance: dict[str, Any],
) -> list[dict[str, Any]]:
    """The candidate actions, strongest evidence first."""
    steps = []
    suspects = importance["leakage_suspects"]
    if suspects:
        names = ", ".join(s["feature"] for s in suspects)
        steps.append(
            {
                "action": "features",
                "step": f"check {names} for leakage (known only after the outcome?); drop it via "
                "features.forbidden if so",
                "strength": "high",
                "evidence": "; ".join(
                    f"{s['feature']}: {', '.join(s['reasons'])}" for s in suspects
                ),
            }
        )
    if labels is not None:
        share = labels["share"]
        strength = "high" if share >= 0.05 else "medium" if share >= 0.02 else "low"
        steps.append(
            {
                "action": "fix labels",
                "step": "review the suspected label errors in reports/label_review.csv, then "
                "`make train DROP_REVIEWED=1`",
                "strength": strength,
                "evidence": f"cleanlab flags {labels['flagged']} of {labels['rows_checked']} labelled "
                f"rows ({share:.1%})",
            }
        )
    steps.append(
        {
            "action": "more data",
            "step": "collect more labelled rows like the current ones",
            "strength": curve["strength"],
            "evidence": f"learning curve {curve['verdict']} (last step {curve['last_step_gain']:+.4f}, "
            f"standard error {curve['last_point_stderr']:.4f})",
        }
    )
    worse = [s for s in slices["worst"] if s["worse_than_overall"]]
    if worse:
        top = worse[0]
        steps.append(
            {
                "action": "features",
                "step": f"look at rows with {top['feature']} in {top['segment']}: add features or "
                "data that explain them",
                "strength": "medium" if len(worse) > 1 else "low",
                "evidence": f"{len(worse)} segment(s) worse than overall beyond their interval; worst "
                f"{top['feature']} = {top['segment']}: {top['error']:.3f} "
                f"(95% CI {top['ci95'][0]:.3f}-{top['ci95'][1]:.3f}, n={top['n']}) vs "
                f"{slices['overall']:.3f} overall",
            }
        )
    gap = curve["train_validation_gap"]
    overfit = gap > max(0.05, 4 * curve["last_point_stderr"])
    steps.append(
        {
            "action": "model",
            "step": "regularise or simplify the model (or search: search.enabled: true)"
            if overfit
            else "try another candidate or the Optuna search (search.enabled: true)",
            "strength": "medium" if overfit else "low",
            "evidence": f"training score exceeds validation by {gap:.4f} at full size",
        }
    )
    order = {"features": 0, "fix labels": 1, "more data": 2, "model": 3}
    steps.sort(key=lambda s: (-STRENGTH[s["strength"]], order[s["action"]]))
    for rank, step in enumerate(steps, start=1):
        step["rank"] = rank
    return steps


def analyze(config: Config) -> dict[str, Any]:
    """The whole analysis as one JSON-ready mapping (reports/analysis.json)."""
    from .artifacts import load_meta, load_model

    meta = load_meta(config)
    model = load_model(config)
    data = load_labelled(config, meta)
    oof = out_of_fold(config, meta, data)
    labels = label_issues(config, meta, data, oof) if config.is_classification else None
    curve = learning_curve_verdict(config, meta, data)
    slices = error_slices(config, meta, data, oof)
    importance = importance_and_leakage(config, meta, data, model)
    return {
        "model_version": meta.get("model_version"),
        "candidate": meta.get("candidate"),
        "rows": len(data.y),
        "label_issues": labels,
        "learning_curve": curve,
        "error_slices": slices,
        "importance": importance,
        "next_steps": next_steps(labels, curve, slices, importance),
    }
