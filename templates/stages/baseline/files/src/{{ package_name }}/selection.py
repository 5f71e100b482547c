"""Choosing the model: the candidates of config.yaml (`models.candidates`) cross-validated on the training
split only, one documented rule, and an optional Optuna search. The test split is never seen here.

The rule (`choose`): the candidate with the best mean cross-validated primary metric wins, except that
every candidate whose mean is within one standard error of the best (the best's fold scores' standard
deviation / sqrt(folds)) counts as a tie, and a tie goes to the simpler candidate (lower `complexity`
in models.CANDIDATES, then the earlier one in config.yaml). Differences smaller than the noise between
folds are not evidence, and the simpler model is cheaper to run, explain and maintain.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    median_absolute_error,
    r2_score,
    roc_auc_score,
)
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

from .config import Config
from .errors import ConfigError

log = logging.getLogger(__name__)
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "mae", "rmse", "median_ae"})
# Binary metrics that depend on the decision threshold: candidates are scored with it tuned.
THRESHOLD_METRICS = frozenset({"f1", "accuracy", "balanced_accuracy"})
Splits = list[tuple[np.ndarray, np.ndarray]]


@dataclass
class CandidateScore:
    name: str
    complexity: int
    scores: list[float]
    fit_seconds: float
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores)) if self.scores else float("nan")

    @property
    def std(self) -> float:
        return float(np.std(self.scores, ddof=1)) if len(self.scores) > 1 else 0.0

    @property
    def stderr(self) -> float:
        return self.std / math.sqrt(len(self.scores)) if self.scores else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "complexity": self.complexity,
            "cv_mean": self.mean,
            "cv_std": self.std,
            "cv_stderr": self.stderr,
            "cv_scores": self.scores,
            "fit_seconds": round(self.fit_seconds, 3),
            "params": self.params,
        }


def metric_value(
    metric: str, y: Any, estimator: Any, X: pd.DataFrame, positive: Any = None
) -> float:
    """The primary metric of a fitted estimator on (X, y), computed by scikit-learn."""
    truth = np.asarray(y)
    if metric in ("mae", "rmse", "median_ae", "r2"):
        pred = np.asarray(estimator.predict(X), dtype=float)
        return float(
            {
                "mae": mean_absolute_error,
                "rmse": lambda a, b: math.sqrt(mean_squared_error(a, b)),
                "median_ae": median_absolute_error,
                "r2": r2_score,
            }[metric](truth, pred)
        )
    classes = list(estimator.classes_)
    if metric in ("roc_auc", "average_precision", "brier"):
        proba = estimator.predict_proba(X)[:, classes.index(positive)]
        is_pos = truth == positive
        if metric == "roc_auc":
            return float(roc_auc_score(is_pos, proba))
        if metric == "average_precision":
            return float(average_precision_score(is_pos, proba))
        return float(brier_score_loss(is_pos, proba))
    if metric == "log_loss":
        return float(log_loss(truth, estimator.predict_proba(X), labels=classes))
    pred = estimator.predict(X)
    if metric == "f1":
        return float(f1_score(truth, pred, pos_label=positive))
    if metric in ("f1_macro", "f1_weighted"):
        return float(f1_score(truth, pred, average=metric.split("_")[1], labels=classes))
    if metric == "balanced_accuracy":
        return float(balanced_accuracy_score(truth, pred))
    if metric == "accuracy":
        return float(accuracy_score(truth, pred))
    raise ConfigError(f"evaluate.primary_metric {metric!r} cannot score candidates")


def better(metric: str, a: float, b: float) -> bool:
    return a < b if metric in LOWER_IS_BETTER else a > b


def cv_splits(config: Config, train: pd.DataFrame) -> Splits:
    """Folds over the training split that respect config.yaml's split method (groups stay whole,
    time folds validate on later rows, classes keep their shares)."""
    folds = config.models.cv_folds
    y = train[config.task.target]
    seed = config.split.seed
    index = np.arange(len(train))
    if config.split.method == "group" and config.split.group_column in train.columns:
        groups = train[config.split.group_column].astype(str)
        folds = min(folds, groups.nunique())
        return list(GroupKFold(n_splits=folds).split(index, groups=groups))
    if config.split.method == "time" and config.split.time_column in train.columns:
        order = np.argsort(
            pd.to_datetime(train[config.split.time_column], errors="coerce").to_numpy(),
            kind="stable",
        )
        return [(order[a], order[b]) for a, b in TimeSeriesSplit(n_splits=folds).split(order)]
    if config.is_classification:
        smallest = int(y.value_counts().min())
        folds = max(2, min(folds, smallest))
        splitter: Any = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        return list(splitter.split(index, y.astype(str)))
    return list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(index))


def cross_val_scores(
    config: Config,
    estimator: BaseEstimator,
    X: pd.DataFrame,
    y: pd.Series,
    splits: Splits,
    positive: Any = None,
) -> list[float]:
    """The primary metric on each validation fold (fit on the rest)."""
    metric = config.evaluate.primary_metric
    scores = []
    with single_threaded():
        for fit_rows, val_rows in splits:
            fitted = clone(estimator).fit(X.iloc[fit_rows], y.iloc[fit_rows])
            scores.append(
                metric_value(metric, y.iloc[val_rows], fitted, X.iloc[val_rows], positive)
            )
    return scores


def single_threaded() -> Any:
    """BLAS/OpenMP limited to one thread: on folds of a few thousand rows the threads of gradient
    boosting cost more than they save, and on a busy 2-core CI runner they thrash (20x slower)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def scored_estimator(config: Config, pipeline: Any, positive: Any) -> Any:
    """What cross-validation fits: the pipeline, with the cost-tuned threshold when the metric
    depends on it (binary F1, accuracy...)."""
    from .models import with_cost_threshold

    if positive is not None and config.evaluate.primary_metric in THRESHOLD_METRICS:
        return with_cost_threshold(config, pipeline, positive)
    return pipeline


def evaluate_candidates(
    config: Config,
    X: pd.DataFrame,
    y: pd.Series,
    features: list[Any],
    splits: Splits,
    positive: Any,
) -> list[CandidateScore]:
    """Every configured candidate cross-validated on the same folds, in config order."""
    from .models import get_candidate

    results = []
    for name in config.models.candidates:
        spec = get_candidate(config, name, features)
        started = time.perf_counter()
        estimator = scored_estimator(config, spec.build(config, features, y), positive)
        scores = cross_val_scores(config, estimator, X, y, splits, positive)
        results.append(CandidateScore(name, spec.complexity, scores, time.perf_counter() - started))
    return results


def choose(metric: str, results: list[CandidateScore]) -> CandidateScore:
    """The documented rule (module docstring): best mean, ties within one standard error of the best
    go to the lowest complexity, then to the earliest in config.yaml."""
    usable = [r for r in results if np.isfinite(r.mean)]
    if not usable:
        raise ConfigError("models.candidates: no candidate could be scored on the training folds")
    best = usable[0]
    for result in usable[1:]:
        if better(metric, result.mean, best.mean):
            best = result
    margin = best.stderr if np.isfinite(best.stderr) else 0.0
    tied = [r for r in usable if abs(r.mean - best.mean) <= margin]
    return min(tied, key=lambda r: (r.complexity, usable.index(r)))


def search(
    config: Config,
    name: str,
    X: pd.DataFrame,
    y: pd.Series,
    features: list[Any],
    splits: Splits,
    positive: Any,
    on_trial: Callable[[int, dict[str, Any], list[float]], None] | None = None,
) -> CandidateScore | None:
    """Optuna over candidate `name`'s search space, bounded by search.n_trials and search.timeout_s;
    the best trial, or None when the candidate has no space. `on_trial` records each trial."""
    import optuna

    from .models import apply_params, get_candidate

    spec = get_candidate(config, name, features)
    if spec.space is None:
        return None
    metric = config.evaluate.primary_metric
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    found: dict[int, CandidateScore] = {}

    def objective(trial: Any) -> float:
        params = spec.space(trial, config)  # type: ignore[misc]
        started = time.perf_counter()
        pipeline = apply_params(spec.build(config, features, y), params)
        scores = cross_val_scores(
            config, scored_estimator(config, pipeline, positive), X, y, splits, positive
        )
        result = CandidateScore(
            name, spec.complexity, scores, time.perf_counter() - started, params
        )
        found[trial.number] = result
        if on_trial is not None:
            on_trial(trial.number, params, scores)
        return result.mean

    direction = "minimize" if metric in LOWER_IS_BETTER else "maximize"
    sampler = optuna.samplers.TPESampler(seed=config.split.seed)
    study = optuna.create_study(direction=direction, sampler=sampler)
    study.optimize(objective, n_trials=config.search.n_trials, timeout=config.search.timeout_s)
    if not found:
        return None
    return found[study.best_trial.number]
