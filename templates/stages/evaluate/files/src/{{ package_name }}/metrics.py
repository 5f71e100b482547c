"""Metrics by name, computed from the true labels and the prediction columns of `predict_frame`.

Every metric knows whether higher is better and whether it lives in [0, 1]; that decides how the
readiness gate applies `baseline_margin` (absolute for [0, 1] metrics, relative for error metrics).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

Frame = dict[str, np.ndarray]  # prediction columns as arrays (see `as_columns`)
EPS = 1e-15


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    greater_is_better: bool
    bounded: bool  # lives in [0, 1]
    func: Callable[[np.ndarray, Frame, dict[str, Any]], float]

    def better(self, a: float, b: float) -> bool:
        return a > b if self.greater_is_better else a < b


def _pos(meta: dict[str, Any]) -> str:
    return str(meta["positive_class"])


def _labels(values: Any) -> np.ndarray:
    """Labels compared as text, so 1, "1" and numpy ints agree."""
    array = np.asarray(values)
    return array if array.dtype.kind == "U" else array.astype(str)


def _is_pos(y: np.ndarray, meta: dict[str, Any]) -> np.ndarray:
    return _labels(y) == _pos(meta)


def _proba(out: Frame, meta: dict[str, Any]) -> np.ndarray:
    return np.column_stack([out[f"proba_{c}"] for c in meta["classes"]]).astype(float)


def as_columns(out: pd.DataFrame | Frame, task: str) -> Frame:
    """predict_frame's output as arrays (labels as text): cheap to resample for the bootstrap."""
    if isinstance(out, dict):
        return out
    columns = {str(c): out[c].to_numpy() for c in out.columns}
    if task != "regression" and "prediction" in columns:
        columns["prediction"] = _labels(columns["prediction"])
    return columns


def _two_classes(y: np.ndarray, meta: dict[str, Any]) -> bool:
    truth = _is_pos(y, meta)
    return bool(truth.any() and (~truth).any())


def _roc_auc(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    """ROC-AUC as the Mann-Whitney statistic (ties count half), in numpy: the bootstrap calls this
    thousands of times, and it equals scikit-learn's roc_auc_score."""
    truth = _is_pos(y, meta)
    n_pos = int(truth.sum())
    n_neg = len(truth) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(
        out["score"].astype(float), return_inverse=True, return_counts=True
    )
    average_rank = np.cumsum(counts) - (counts - 1) / 2
    ranks = average_rank[inverse]
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_precision(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    """Average precision (area under the precision-recall steps), as scikit-learn computes it."""
    truth = _is_pos(y, meta)
    if not truth.any():
        return float("nan")
    score = out["score"].astype(float)
    order = np.argsort(-score, kind="mergesort")
    ranked, hits = score[order], truth[order]
    last = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]
    tps = np.cumsum(hits)[last]
    precision = tps / (last + 1)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _binary_label_metric(kind: str) -> Callable[[np.ndarray, Frame, dict[str, Any]], float]:
    def compute(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
        truth, said = _is_pos(y, meta), _labels(out["prediction"]) == _pos(meta)
        tp = float(np.sum(truth & said))
        if kind == "precision":
            return tp / max(float(np.sum(said)), 1.0)
        if kind == "recall":
            return tp / max(float(np.sum(truth)), 1.0)
        return 2 * tp / max(float(np.sum(truth) + np.sum(said)), 1.0)

    return compute


def _accuracy(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    return float(np.mean(_labels(y) == _labels(out["prediction"])))


def _balanced_accuracy(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    truth, said = _labels(y), _labels(out["prediction"])
    recalls = [np.mean(said[truth == c] == c) for c in np.unique(truth)]
    return float(np.mean(recalls))


def _f1_average(average: str) -> Callable[[np.ndarray, Frame, dict[str, Any]], float]:
    def compute(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
        labels = [str(c) for c in meta["classes"]]
        truth, said = _labels(y), _labels(out["prediction"])
        scores, weights = [], []
        for label in labels:
            tp = np.sum((truth == label) & (said == label))
            denominator = np.sum(truth == label) + np.sum(said == label)
            if np.sum(truth == label) == 0 and average == "macro":
                continue  # a class absent from this sample does not count (as in a bootstrap resample)
            scores.append(2 * tp / denominator if denominator else 0.0)
            weights.append(np.sum(truth == label))
        if not scores:
            return float("nan")
        if average == "weighted":
            return float(np.average(scores, weights=weights)) if sum(weights) else float("nan")
        return float(np.mean(scores))

    return compute


def _log_loss(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    if meta["task_type"] == "binary_classification":
        p = np.clip(out["score"].astype(float), EPS, 1 - EPS)
        truth = _is_pos(y, meta)
        return float(-np.mean(np.where(truth, np.log(p), np.log(1 - p))))
    proba = np.clip(_proba(out, meta), EPS, 1.0)
    index = {str(c): i for i, c in enumerate(meta["classes"])}
    rows = np.array([index.get(str(v), -1) for v in y])
    known = rows >= 0
    return float(-np.mean(np.log(proba[np.flatnonzero(known), rows[known]])))


def _brier(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    return float(np.mean((out["score"].astype(float) - _is_pos(y, meta)) ** 2))


def _expected_cost(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    costs = meta.get("costs", {"cost_fp": 1.0, "cost_fn": 1.0})
    truth, said = _is_pos(y, meta), _labels(out["prediction"]) == _pos(meta)
    fp, fn = np.sum(said & ~truth), np.sum(~said & truth)
    return float((costs["cost_fp"] * fp + costs["cost_fn"] * fn) / max(len(truth), 1))


def _errors(y: np.ndarray, out: Frame) -> np.ndarray:
    return out["prediction"].astype(float) - np.asarray(y, dtype=float)


def _mae(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    return float(np.mean(np.abs(_errors(y, out))))


def _rmse(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    return float(np.sqrt(np.mean(_errors(y, out) ** 2)))


def _median_ae(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    return float(np.median(np.abs(_errors(y, out))))


def _r2(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    truth = np.asarray(y, dtype=float)
    total = np.sum((truth - truth.mean()) ** 2)
    return float(1 - np.sum(_errors(y, out) ** 2) / total) if total > 0 else float("nan")


def _bias(y: np.ndarray, out: Frame, meta: dict[str, Any]) -> float:
    return float(np.mean(_errors(y, out)))


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("roc_auc", "ROC-AUC", True, True, _roc_auc),
        Metric("average_precision", "PR-AUC (average precision)", True, True, _average_precision),
        Metric("f1", "F1 (positive class)", True, True, _binary_label_metric("f1")),
        Metric("precision", "precision", True, True, _binary_label_metric("precision")),
        Metric("recall", "recall", True, True, _binary_label_metric("recall")),
        Metric("accuracy", "accuracy", True, True, _accuracy),
        Metric("balanced_accuracy", "balanced accuracy", True, True, _balanced_accuracy),
        Metric("f1_macro", "macro F1", True, True, _f1_average("macro")),
        Metric("f1_weighted", "weighted F1", True, True, _f1_average("weighted")),
        Metric("log_loss", "log loss", False, False, _log_loss),
        Metric("brier", "Brier score", False, True, _brier),
        Metric("expected_cost", "expected cost per decision", False, False, _expected_cost),
        Metric("mae", "MAE", False, False, _mae),
        Metric("rmse", "RMSE", False, False, _rmse),
        Metric("median_ae", "median absolute error", False, False, _median_ae),
        Metric("r2", "R²", True, False, _r2),
        Metric("bias", "mean signed error (bias)", False, False, _bias),
    )
}

REPORTED: dict[str, tuple[str, ...]] = {
    "binary_classification": (
        "roc_auc",
        "average_precision",
        "f1",
        "precision",
        "recall",
        "accuracy",
        "balanced_accuracy",
        "log_loss",
        "brier",
        "expected_cost",
    ),
    "multiclass_classification": (
        "f1_macro",
        "f1_weighted",
        "accuracy",
        "balanced_accuracy",
        "log_loss",
    ),
    "text_classification": ("f1_macro", "f1_weighted", "accuracy", "balanced_accuracy", "log_loss"),
    "regression": ("mae", "rmse", "median_ae", "r2", "bias"),
}


def compute(name: str, y: Any, out: pd.DataFrame | Frame, meta: dict[str, Any]) -> float:
    """Metric `name` for true values `y` and predict_frame output `out` (a frame or as_columns)."""
    task = meta["task_type"]
    truth = np.asarray(y) if task == "regression" else _labels(y)
    return METRICS[name].func(truth, as_columns(out, task), meta)


def compute_all(
    task: str, y: Any, out: pd.DataFrame | Frame, meta: dict[str, Any]
) -> dict[str, float]:
    columns = as_columns(out, task)
    return {name: compute(name, y, columns, meta) for name in REPORTED[task]}


def required_to_beat(metric: Metric, baseline: float, margin: float) -> float:
    """The value a model needs to beat `baseline` by `margin` (absolute in [0, 1], else relative)."""
    if metric.greater_is_better:
        return (
            baseline + margin if metric.bounded or metric.name == "r2" else baseline * (1 + margin)
        )
    return baseline - margin if metric.bounded else baseline * (1 - margin)


def meets(metric: Metric, value: float, threshold: float) -> bool:
    if np.isnan(value):
        return False
    return value >= threshold if metric.greater_is_better else value <= threshold
