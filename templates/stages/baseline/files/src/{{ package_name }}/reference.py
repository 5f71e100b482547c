"""The monitoring reference: what "normal" looked like when the model was trained.

The train step calls `write_reference(cfg, frame, meta)` with the held-out frame (raw feature
columns as served, the label column, and the model's prediction columns). It writes

- `artifacts/reference/reference.parquet`: up to 50k of those rows, so monitoring can run
  two-sample tests (KS, chi-squared, Wasserstein, Jensen-Shannon) against a window;
- `artifacts/reference/profile.json`: one entry per feature, for the prediction columns and for
  the label (kind, n, missing share, the p0.1-p99.9 range, mean and std, categories and their
  shares, FIXED decile bin edges with the reference share in each bin for PSI; for text: length
  quantiles, top vocabulary and its out-of-vocabulary baseline), plus the primary metric overall
  and over ~10 chunks.

Monitoring reads both through `load_reference(cfg)` and maps window values onto the same bins with
the helpers below, so a window is always binned exactly as the reference was.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .artifacts import read_json, read_parquet, write_json
from .config import Config
from .errors import CorruptInputError, MissingInputError

PROFILE_VERSION = 1
MAX_ROWS = 50_000
N_BINS = 10
MAX_CATEGORIES = 200
TOP_VOCABULARY = 1000
MAX_CHUNKS = 10
MIN_CHUNK_ROWS = 20
OTHER = "__other__"
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern, on lower-cased text

HIGHER_IS_BETTER = {
    "roc_auc": True,
    "average_precision": True,
    "f1": True,
    "f1_macro": True,
    "f1_weighted": True,
    "accuracy": True,
    "balanced_accuracy": True,
    "r2": True,
    "log_loss": False,
    "brier": False,
    "mae": False,
    "rmse": False,
    "median_ae": False,
}


@dataclass(frozen=True)
class Reference:
    """The loaded reference: the profile and the reference rows."""

    profile: dict[str, Any]
    frame: pd.DataFrame

    @property
    def features(self) -> dict[str, dict[str, Any]]:
        return dict(self.profile["features"])

    @property
    def predictions(self) -> dict[str, dict[str, Any]]:
        return dict(self.profile["predictions"])


def reference_dir(cfg: Config) -> Path:
    return cfg.artifacts_dir / "reference"


# --------------------------------------------------------------------------------------------------
# Writing


def write_reference(cfg: Config, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Write reference.parquet and profile.json from the held-out frame and the model metadata."""
    features = [(f["name"], f["kind"]) for f in meta["features"]]
    missing = [name for name, _ in features if name not in frame.columns]
    target = cfg.task.target
    pred_cols = prediction_columns(meta)
    missing += [c for c in [target, *pred_cols] if c not in frame.columns]
    if missing:
        raise MissingInputError(f"reference frame lacks the columns: {', '.join(missing)}")
    rows = _sample(frame, target, cfg)
    task_type = meta["task_type"]
    label_kind = "numeric" if task_type == "regression" else "categorical"
    profile: dict[str, Any] = {
        "profile_version": PROFILE_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_version": meta.get("model_version"),
        "trained_at": meta.get("trained_at"),
        "task_type": task_type,
        "target": target,
        "classes": meta.get("classes"),
        "positive_class": meta.get("positive_class"),
        "n_reference": len(rows),
        "features": {name: profile_column(rows[name], kind) for name, kind in features},
        "predictions": {
            col: profile_column(rows[col], prediction_kind(col, task_type)) for col in pred_cols
        },
        "label": profile_column(rows[target], label_kind),
        "metrics": reference_metrics(rows, meta, target, cfg.evaluate.primary_metric),
    }
    out = reference_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    keep = [name for name, _ in features] + [target, *pred_cols]
    tmp = out / "reference.parquet.tmp"
    rows[keep].reset_index(drop=True).to_parquet(tmp, index=False)
    tmp.replace(out / "reference.parquet")
    write_json(out / "profile.json", profile)


def load_reference(cfg: Config, folder: Path | None = None) -> Reference:
    """The reference written at training time (`folder`: a registered version's copy, see
    registry.serving_model); MissingInputError when it is not there."""
    folder = folder or reference_dir(cfg)
    hint = "rebuild it with `make train`"
    profile = read_json(folder / "profile.json", hint=hint)
    if profile.get("profile_version") != PROFILE_VERSION:
        raise MissingInputError(
            f"{folder / 'profile.json'}: profile_version {profile.get('profile_version')!r} is not "
            f"{PROFILE_VERSION}; retrain with `make train`"
        )
    parquet = folder / "reference.parquet"
    if not parquet.is_file():
        raise MissingInputError(f"{parquet}: not found; run `make train` first")
    frame = read_parquet(parquet, hint=hint)
    problems = _profile_problems(profile)
    if problems:
        raise CorruptInputError(f"{folder / 'profile.json'}: {problems}; {hint}")
    return Reference(profile=profile, frame=frame)


def _profile_problems(profile: dict[str, Any]) -> str:
    """What a readable profile.json lacks for monitoring ("" when nothing)."""
    needed = {"task_type": str, "features": dict, "predictions": dict, "label": dict}
    wrong = [key for key, kind in needed.items() if not isinstance(profile.get(key), kind)]
    return f"missing or malformed key(s) {', '.join(wrong)}" if wrong else ""


def prediction_columns(meta: dict[str, Any]) -> list[str]:
    """The prediction columns the model produces: prediction, plus score or proba_<class>."""
    task_type = meta["task_type"]
    if task_type == "regression":
        return ["prediction"]
    if task_type == "binary_classification":
        return ["prediction", "score"]
    return ["prediction", *(f"proba_{c}" for c in meta.get("classes") or [])]


def prediction_kind(column: str, task_type: str) -> str:
    if column == "prediction" and task_type != "regression":
        return "categorical"
    return "numeric"


def _sample(frame: pd.DataFrame, target: str, cfg: Config) -> pd.DataFrame:
    """At most MAX_ROWS rows, stratified by the label for classification."""
    if len(frame) <= MAX_ROWS:
        return frame.copy()
    seed = cfg.split.seed
    if cfg.is_classification:
        share = MAX_ROWS / len(frame)
        parts = [
            group.sample(n=max(1, int(len(group) * share)), random_state=seed)
            for _, group in frame.groupby(target, sort=True, observed=True)
        ]
        # shuffled, so the metric chunks below are not one class each
        return pd.concat(parts).sample(frac=1.0, random_state=seed).head(MAX_ROWS)
    return frame.sample(n=MAX_ROWS, random_state=seed)


# --------------------------------------------------------------------------------------------------
# Column profiles


def profile_column(column: pd.Series, kind: str) -> dict[str, Any]:
    """The profile entry for one column of the given kind."""
    n = len(column)
    missing = int(column.isna().sum())
    entry: dict[str, Any] = {
        "kind": kind,
        "n": n,
        "missing_share": missing / n if n else 0.0,
        "n_unique": int(column.nunique(dropna=True)),
    }
    present = column.dropna()
    if kind == "numeric":
        entry.update(_numeric_profile(pd.to_numeric(present, errors="coerce").dropna()))
    elif kind == "text":
        entry.update(_text_profile(present.astype(str)))
    else:
        entry.update(_categorical_profile(present))
    return entry


def _numeric_profile(values: pd.Series) -> dict[str, Any]:
    array = values.to_numpy(dtype=float)
    array = array[np.isfinite(array)]
    if array.size == 0:
        return {
            "min": None,
            "max": None,
            "range": [None, None],
            "outside_range": 0,
            "mean": None,
            "std": None,
            "bin_edges": [-math.inf, math.inf],
            "bin_shares": [1.0],
        }
    deciles = np.quantile(array, np.linspace(0.1, 0.9, N_BINS - 1))
    edges = [-math.inf, *sorted({float(v) for v in deciles}), math.inf]
    low, high = float(np.quantile(array, 0.001)), float(np.quantile(array, 0.999))
    return {
        "min": float(array.min()),
        "max": float(array.max()),
        "range": [low, high],
        "outside_range": int(((array < low) | (array > high)).sum()),
        "mean": float(array.mean()),
        "std": float(array.std(ddof=1)) if array.size > 1 else 0.0,
        "bin_edges": [_edge(e) for e in edges],
        "bin_shares": numeric_shares(array, edges).tolist(),
    }


def _categorical_profile(values: pd.Series) -> dict[str, Any]:
    keys = values.map(category_key)
    counts = keys.value_counts()
    total = int(counts.sum())
    top = counts.head(MAX_CATEGORIES)
    categories = {str(k): int(v) / total for k, v in top.items()} if total else {}
    other = 1.0 - sum(categories.values()) if total else 0.0
    singletons = int((counts == 1).sum())
    return {
        "categories": categories,
        "other_share": max(other, 0.0),
        # Good-Turing: the chance that a new value is a category never seen here is about the
        # share of values seen exactly once; a calm window shows about that many "unseen" values.
        "unseen_baseline": singletons / total if total else 0.0,
    }


def _text_profile(texts: pd.Series) -> dict[str, Any]:
    tokens = [tokenize(t) for t in texts]
    lengths = np.array([len(t) for t in tokens], dtype=float)
    document_freq: Counter[str] = Counter()
    token_freq: Counter[str] = Counter()
    for toks in tokens:
        document_freq.update(set(toks))
        token_freq.update(toks)
    vocabulary = [word for word, _ in document_freq.most_common(TOP_VOCABULARY)]
    n_tokens = sum(token_freq.values())
    once = sum(1 for count in token_freq.values() if count == 1)
    length_profile = _numeric_profile(pd.Series(lengths))
    return {
        "length_quantiles": {
            str(q): float(np.quantile(lengths, q)) if lengths.size else None
            for q in (0.05, 0.25, 0.5, 0.75, 0.95)
        },
        "length_bin_edges": length_profile["bin_edges"],
        "length_bin_shares": length_profile["bin_shares"],
        "vocabulary": vocabulary,
        "n_tokens": n_tokens,
        "oov_rate": oov_rate(tokens, set(vocabulary)),
        # What a calm window should show: tokens outside the stored vocabulary plus the Good-Turing
        # estimate of words never seen at all (share of tokens that occur once).
        "oov_baseline": min(
            1.0, oov_rate(tokens, set(vocabulary)) + (once / n_tokens if n_tokens else 0.0)
        ),
    }


def _edge(value: float) -> float | str:
    """JSON has no infinity: the outer bin edges are stored as the strings '-inf' and 'inf'."""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def bin_edges(stored: list[Any]) -> list[float]:
    """Bin edges as stored in profile.json, back to floats."""
    return [float(e) for e in stored]


def numeric_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Share of values in each right-closed bin (edges[i], edges[i+1]]."""
    edges_array = np.asarray(edges, dtype=float)
    if values.size == 0:
        return np.zeros(len(edges_array) - 1)
    index = np.searchsorted(edges_array, values, side="left") - 1
    index = np.clip(index, 0, len(edges_array) - 2)
    counts = np.bincount(index, minlength=len(edges_array) - 1)
    return counts / values.size


def category_key(value: Any) -> str:
    """The text a category is compared by: 1, 1.0 and "1" are the same category."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def tokenize(text: Any) -> list[str]:
    return TOKEN.findall(str(text).lower())


def oov_rate(tokenized: list[list[str]], vocabulary: set[str]) -> float:
    """Share of tokens that are not in the vocabulary."""
    total = sum(len(t) for t in tokenized)
    if total == 0:
        return 0.0
    unseen = sum(1 for toks in tokenized for tok in toks if tok not in vocabulary)
    return unseen / total


# --------------------------------------------------------------------------------------------------
# Metrics (also used by monitoring for the realised performance of a labelled window)


def reference_metrics(
    rows: pd.DataFrame, meta: dict[str, Any], target: str, name: str
) -> dict[str, Any]:
    """The primary metric overall and over up to MAX_CHUNKS consecutive chunks of the reference."""
    overall = compute_metric(name, rows, meta, target)
    n_chunks = max(1, min(MAX_CHUNKS, len(rows) // MIN_CHUNK_ROWS))
    bounds = np.linspace(0, len(rows), n_chunks + 1).astype(int)
    with warnings.catch_warnings():  # a chunk may hold one class: its AUC is undefined (NaN)
        warnings.simplefilter("ignore")
        chunks = [
            compute_metric(name, rows.iloc[start:stop], meta, target)
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
        ]
    finite = [c for c in chunks if c is not None and math.isfinite(c)]
    return {
        "primary_metric": name,
        "higher_is_better": HIGHER_IS_BETTER.get(name, True),
        "value": overall,
        "chunk_size": len(rows) // n_chunks if n_chunks else 0,
        "chunks": chunks,
        "chunk_mean": float(np.mean(finite)) if finite else None,
        "chunk_std": float(np.std(finite, ddof=1)) if len(finite) > 1 else None,
    }


@dataclass(frozen=True)
class MetricInputs:
    """Labels and outputs as arrays, prepared once so a metric can be recomputed on subsets fast."""

    task_type: str
    classes: list[str]
    y: np.ndarray  # float labels (regression), 0/1 (binary) or class names
    pred: np.ndarray  # float predictions (regression), 0/1 (binary) or class names
    scores: np.ndarray | None  # binary: P(positive); multiclass: one column per class

    def __len__(self) -> int:
        return len(self.y)


def metric_inputs(rows: pd.DataFrame, meta: dict[str, Any], target: str) -> MetricInputs:
    """The labelled rows of `rows` as MetricInputs."""
    labelled = rows[rows[target].notna()]
    task_type = meta["task_type"]
    if task_type == "regression":
        return MetricInputs(
            task_type,
            [],
            labelled[target].to_numpy(dtype=float),
            labelled["prediction"].to_numpy(dtype=float),
            None,
        )
    y_text = labelled[target].map(category_key)
    classes = [str(c) for c in meta.get("classes") or sorted(y_text.unique())]
    pred_text = labelled["prediction"].map(category_key)
    if task_type == "binary_classification":
        positive = category_key(meta.get("positive_class", classes[-1]))
        return MetricInputs(
            task_type,
            classes,
            (y_text == positive).to_numpy(dtype=int),
            (pred_text == positive).to_numpy(dtype=int),
            labelled["score"].to_numpy(dtype=float),
        )
    probas = labelled[[f"proba_{c}" for c in classes]].to_numpy(dtype=float)
    return MetricInputs(
        task_type, classes, y_text.to_numpy(dtype=object), pred_text.to_numpy(dtype=object), probas
    )


def metric_value(name: str, data: MetricInputs, index: np.ndarray | None = None) -> float | None:
    """The metric on `data` (or on the rows picked by `index`); None when undefined."""
    from sklearn import metrics

    y, pred = (data.y, data.pred) if index is None else (data.y[index], data.pred[index])
    scores = data.scores if index is None or data.scores is None else data.scores[index]
    if len(y) == 0:
        return None
    try:
        if data.task_type == "regression":
            return _regression_metric(name, y, pred)
        if data.task_type == "binary_classification":
            return _binary_metric(name, y, scores, pred)
        if name == "log_loss":
            return float(metrics.log_loss(y, scores, labels=data.classes))
        return _label_metric(name, y, pred)
    except ValueError:
        return None  # e.g. AUC on a chunk with one class


def compute_metric(
    name: str, rows: pd.DataFrame, meta: dict[str, Any], target: str
) -> float | None:
    """The metric `name` of the prediction columns against `rows[target]`; None if undefined."""
    return metric_value(name, metric_inputs(rows, meta, target))


def _regression_metric(name: str, y: np.ndarray, pred: np.ndarray) -> float | None:
    from sklearn import metrics

    if name == "mae":
        return float(metrics.mean_absolute_error(y, pred))
    if name == "rmse":
        return float(np.sqrt(metrics.mean_squared_error(y, pred)))
    if name == "median_ae":
        return float(metrics.median_absolute_error(y, pred))
    if name == "r2":
        return float(metrics.r2_score(y, pred)) if len(y) > 1 else None
    raise ValueError(f"unknown regression metric {name}")


def _binary_metric(
    name: str, y: np.ndarray, scores: np.ndarray | None, pred: np.ndarray
) -> float | None:
    from sklearn import metrics

    if name == "roc_auc":
        return float(metrics.roc_auc_score(y, scores))
    if name == "average_precision":
        return float(metrics.average_precision_score(y, scores))
    if name == "log_loss":
        return float(metrics.log_loss(y, scores, labels=[0, 1]))
    if name == "brier":
        return float(metrics.brier_score_loss(y, scores))
    if name == "f1":
        return float(metrics.f1_score(y, pred, zero_division=0))
    return _label_metric(name, y, pred)


def _label_metric(name: str, y: np.ndarray, pred: np.ndarray) -> float | None:
    from sklearn import metrics

    if name == "accuracy":
        return float(metrics.accuracy_score(y, pred))
    if name == "balanced_accuracy":
        return float(metrics.balanced_accuracy_score(y, pred))
    if name == "f1_macro":
        return float(metrics.f1_score(y, pred, average="macro", zero_division=0))
    if name == "f1_weighted":
        return float(metrics.f1_score(y, pred, average="weighted", zero_division=0))
    raise ValueError(f"unknown classification metric {name}")
