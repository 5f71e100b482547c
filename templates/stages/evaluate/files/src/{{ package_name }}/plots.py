"""Figures for reports/figures/: what a person looks at before reading any number.

Classification: ROC (with the heuristic's single operating point), precision-recall, calibration
(reliability curve + histogram of scores) and the confusion matrix at the decision threshold.
Regression: predicted vs actual, residuals vs predicted. Both: the primary metric per slice.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    PredictionErrorDisplay,
    RocCurveDisplay,
)

from .evaluation import Evaluation  # noqa: E402


def write_figures(result: Evaluation, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    task = result.config.task.type
    if task == "regression":
        paths = [
            _prediction_error(
                result,
                folder,
                "actual_vs_predicted",
                "Predicted vs actual",
                "predicted_vs_actual.png",
            ),
            _prediction_error(
                result, folder, "residual_vs_predicted", "Residuals vs predicted", "residuals.png"
            ),
        ]
    elif task == "binary_classification":
        paths = [
            _roc_binary(result, folder),
            _pr_binary(result, folder),
            _calibration(result, folder),
            _confusion(result, folder),
        ]
    else:
        paths = [
            _roc_multiclass(result, folder),
            _calibration(result, folder),
            _confusion(result, folder),
        ]
    if result.slices:
        paths.append(_slices(result, folder))
    return paths


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _truth_positive(result: Evaluation) -> np.ndarray:
    positive = str(result.meta["positive_class"])
    return np.array([str(v) == positive for v in result.y])


def _roc_binary(result: Evaluation, folder: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    truth = _truth_positive(result)
    RocCurveDisplay.from_predictions(truth, result.outputs["model"]["score"], name="model", ax=ax)
    heuristic = result.outputs["heuristic"]["prediction"].astype(str) == str(
        result.meta["positive_class"]
    )
    tpr = float(np.mean(heuristic[truth])) if truth.any() else 0.0
    fpr = float(np.mean(heuristic[~truth])) if (~truth).any() else 0.0
    ax.plot([fpr], [tpr], "s", color="tab:orange", label="heuristic rule")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="chance (dummy)")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel(f"true positive rate (positive class: {result.meta['positive_class']})")
    ax.set_title("ROC on the test split")
    ax.legend(loc="lower right")
    return _save(fig, folder / "roc.png")


def _pr_binary(result: Evaluation, folder: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    truth = _truth_positive(result)
    PrecisionRecallDisplay.from_predictions(
        truth, result.outputs["model"]["score"], name="model", ax=ax
    )
    ax.axhline(truth.mean(), linestyle=":", color="grey", label=f"positive rate {truth.mean():.2f}")
    ax.set_xlabel(f"recall (positive class: {result.meta['positive_class']})")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall on the test split")
    ax.legend(loc="lower left")
    return _save(fig, folder / "precision_recall.png")


def _roc_multiclass(result: Evaluation, folder: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    labels = np.array([str(v) for v in result.y])
    for c in result.meta["classes"]:
        truth = labels == str(c)
        if truth.any() and (~truth).any():
            RocCurveDisplay.from_predictions(
                truth, result.outputs["model"][f"proba_{c}"], name=f"{c} vs rest", ax=ax
            )
    ax.plot([0, 1], [0, 1], ":", color="grey")
    # RocCurveDisplay names "Positive label: 1" (True, for a one-vs-rest mask) on both axes: here
    # each curve has its own positive class, named in the legend.
    ax.set_xlabel("false positive rate (rows of the other classes)")
    ax.set_ylabel("true positive rate (rows of the curve's class)")
    ax.set_title("One-vs-rest ROC on the test split")
    return _save(fig, folder / "roc.png")


def _calibration(result: Evaluation, folder: Path) -> Path:
    out, meta = result.outputs["model"], result.meta
    if result.config.task.type == "binary_classification":
        confidence = out["score"].to_numpy(dtype=float)
        hit = _truth_positive(result).astype(float)
        xlabel = "predicted probability of the positive class"
    else:
        proba = out[[f"proba_{c}" for c in meta["classes"]]].to_numpy(dtype=float)
        confidence = proba.max(axis=1)
        predicted = np.array([str(meta["classes"][i]) for i in proba.argmax(axis=1)])
        hit = (predicted == np.array([str(v) for v in result.y])).astype(float)
        xlabel = "confidence of the predicted class"
    edges = np.linspace(0, 1, 11)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, 9)
    xs, ys = [], []
    for b in range(10):
        mask = which == b
        if mask.any():
            xs.append(confidence[mask].mean())
            ys.append(hit[mask].mean())
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 6), height_ratios=[3, 1], sharex=True)
    top.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    top.plot(xs, ys, "o-", label="model")
    top.set_ylabel("observed frequency")
    top.set_title("Calibration on the test split")
    top.legend(loc="upper left")
    bottom.hist(confidence, bins=edges, color="tab:blue", alpha=0.7)
    bottom.set_xlabel(xlabel)
    bottom.set_ylabel("rows")
    return _save(fig, folder / "calibration.png")


def _confusion(result: Evaluation, folder: Path) -> Path:
    labels = [str(c) for c in result.meta["classes"]]
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ConfusionMatrixDisplay.from_predictions(
        [str(v) for v in result.y],
        result.outputs["model"]["prediction"].astype(str),
        labels=labels,
        ax=ax,
        colorbar=False,
        xticks_rotation=30,
    )
    threshold = result.meta.get("threshold")
    suffix = f" (threshold {threshold:.2f})" if threshold is not None else ""
    ax.set_title(f"Confusion matrix on the test split{suffix}")
    return _save(fig, folder / "confusion_matrix.png")


def _prediction_error(result: Evaluation, folder: Path, kind: str, title: str, name: str) -> Path:
    """scikit-learn's PredictionErrorDisplay of the model on the test split (`kind` as it names them)."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    PredictionErrorDisplay.from_predictions(
        result.y.astype(float),
        result.outputs["model"]["prediction"].to_numpy(dtype=float),
        kind=kind,
        ax=ax,
    )
    ax.set_title(f"{title} on the test split")
    return _save(fig, folder / name)


def _slices(result: Evaluation, folder: Path) -> Path:
    rows = [s for s in result.slices if s.get("metric") is not None]
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * max(len(rows), 3) + 1.5))
    names = [f"{s['column']}={s['value']} (n={s['n']})" for s in rows]
    colours = ["tab:red" if s["status"] in ("fail", "warn") else "tab:blue" for s in rows]
    ax.barh(names, [s["metric"] for s in rows], color=colours)
    floor = rows[0]["floor"] if rows else None
    if floor is not None:
        ax.axvline(floor, linestyle="--", color="tab:red", label="slice floor")
        ax.legend(loc="lower right")
    ax.set_xlabel(result.metric.label)
    ax.set_title("Primary metric per slice (test split)")
    return _save(fig, folder / "slices.png")
