"""Monitoring checks: one window of served predictions against the training-time reference.

A window is a DataFrame with the raw feature columns, the prediction columns (`prediction`, plus
`score` or `proba_<class>`), optionally the label (the target column) and, from the prediction log,
`request_id`, `row`, `timestamp`, `source`, `model_version` and `latency_ms`.

`run_checks(...)` returns a `Result` whose checks each carry (id, group, feature, method, value,
threshold, status, n). Statuses: ok < warn < alert; the window's status is the worst one. Methods
and default thresholds follow the team's path-to-production notes (section D). Where a default
would fire on sampling noise alone in a small window, the threshold is raised to what noise can
explain (split over the features checked), and the check says so ("[sample-size aware]"):

- data quality: columns (missing -> alert), types, missing share (warn > ref x 1.1 +
  missing_warn_abs, alert > ref + missing_alert_abs, each only when the reference's own missing
  rate cannot explain the count), values outside the reference p0.1-p99.9
  range and categories never seen (warn > 1%, alert > 5% above what a calm window shows),
  duplicate log rows, NaN/inf or out-of-range predictions (alert);
- drift per feature: PSI on the reference's fixed decile bins (warn psi_warn, alert psi_alert,
  raised to the PSI that two same-distribution samples of these sizes reach), plus a test by type
  and reference size: up to 1000 reference rows, KS (numeric, > 5 distinct values), z-test
  (two categories) or chi-squared (categorical), p <= 0.05; above, Wasserstein distance / reference std >= 0.1
  (numeric) or Jensen-Shannon distance >= 0.1 (categorical); text: a domain classifier (TF-IDF +
  logistic regression telling reference from window; cross-validated ROC-AUC above max(0.55, its
  95% quantile under no drift)), text-length PSI and the out-of-vocabulary rate;
- dataset drift: share of drifted features >= drift_share -> alert;
- prediction drift: the same tests on the score / predicted classes / predicted values;
- performance (labels present, >= min_rows labelled): the primary metric vs ready_threshold
  (alert when worse) and vs the reference (alert when more than perf_drop relatively worse and
  beyond its bootstrap 95% interval); regression: bias (mean prediction - mean label); without
  labels (classification), an estimate from the model's own probabilities, which only warns;
- operations: model age vs max_model_age_days; API latency p95 vs the budget; rows scored by
  another model version;
- skew: logged raw inputs re-scored with the saved model must give the logged outputs (1e-6).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .artifacts import read_table
from .config import Config
from .logstore import LOG_COLUMNS
from .reference import (
    HIGHER_IS_BETTER,
    Reference,
    bin_edges,
    category_key,
    compute_metric,
    metric_inputs,
    metric_value,
    numeric_shares,
    oov_rate,
    prediction_columns,
    tokenize,
)

log = logging.getLogger(__name__)
LEVELS = {"ok": 0, "warn": 1, "alert": 2}
PSI_FLOOR = 1e-4
P_VALUE = 0.05
LARGE_REFERENCE = 1000
DISTANCE_THRESHOLD = 0.1
DOMAIN_AUC = 0.55
SHARE_WARN, SHARE_ALERT = 0.01, 0.05
NULL_SIMULATIONS = 1000
SEED = 20240601
SKEW_ROWS = 100
SKEW_TOLERANCE = 1e-6
BOOTSTRAP_CELLS = 4_000_000  # resampled rows held at once by the performance bootstrap

ACTIONS = {
    "data_quality": "Data-quality alert: likely a pipeline or upstream bug. Do NOT retrain on "
    "this data; find the broken input and notify its owner.",
    "skew": "Skew alert: the saved model gives other outputs than were served for the same "
    "inputs: a serving bug or a model swapped under the log. Redeploy the evaluated artefact and "
    "rerun `make deploy` (reports/skew.json).",
    "performance": "Performance alert: run `make retrain`: it trains a challenger on the original "
    "data plus the labelled recent window, runs the whole readiness gate (R7 against the champion) "
    "and promotes it only when it passes; `make rollback` returns to the previous champion.",
    "drift": "Drift with performance OK or unknown: investigate which inputs moved and why. "
    "When the share of drifted features reaches drift_share and labels have come back "
    "(POST /feedback), run `make retrain`; until labels arrive, watch the prediction drift.",
    "operations_age": "The model is older than max_model_age_days: run `make retrain`.",
    "operations_latency": "Latency over budget: an infrastructure problem, not a model problem.",
    "warn": "Warnings only: no action needed now; look again if they persist over several windows.",
    "ok": "No action needed.",
    "error": "Could not compute: fix the input (window too small, missing reference or log) "
    "and rerun.",
}


@dataclass
class Check:
    id: str
    group: str
    feature: str | None
    method: str
    value: float | None
    threshold: float | None
    status: str
    n: int
    detail: str = ""


@dataclass
class Result:
    status: str
    window: dict[str, Any]
    model_version: str | None
    reference: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    dataset_drift: dict[str, Any] = field(default_factory=dict)
    performance: dict[str, Any] = field(default_factory=dict)
    recommended_action: str = ""
    generated_at: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class WindowError(Exception):
    """The window cannot be judged (missing, empty, too small): status error, exit 2."""


# --------------------------------------------------------------------------------------------------
# Loading a window


def read_log_window(cfg: Config, since: str | None, last: int | None) -> tuple[pd.DataFrame, int]:
    """The prediction log's window (logreader.py: DuckDB over the Parquet parts and the online
    buffer, which is compacted into a part first): every row when there are at most
    `monitor.sample_rows`, else a uniform sample of that many; returns (frame, rows in window)."""
    from .logreader import LogMissing, read_window
    from .logstore import compact

    if last is not None and last < 1:
        raise WindowError(f"--last {last}: expected a positive number of rows")
    moved = compact(cfg.logs_dir)
    if moved:
        log.info("moved %d buffered predictions into the log", moved)
    start = _since_time(since) if since else None
    try:
        if cfg.engine.name == "spark":
            from .logreader import read_window_spark

            window = read_window_spark(cfg, start, last, cfg.monitor.sample_rows)
        else:
            window = read_window(cfg.logs_dir, start, last, cfg.monitor.sample_rows)
    except LogMissing as err:
        raise WindowError(f"{err}") from err
    if window.unreadable:
        log.warning("skipped %d unreadable lines in the prediction log", window.unreadable)
    return window.frame, window.rows


def select_window(window: pd.DataFrame, since: str | None, last: int | None) -> pd.DataFrame:
    """Keep rows logged at or after `since` (an ISO time, or a duration back from now: 24h, 7d,
    30m) and then only the `last` rows."""
    if since:
        if "timestamp" not in window.columns:
            raise WindowError("--since needs a 'timestamp' column in the window")
        stamps = pd.to_datetime(window["timestamp"], errors="coerce", utc=True)
        window = window[stamps >= _since_time(since)]
    if last is not None:
        if last < 1:
            raise WindowError(f"--last {last}: expected a positive number of rows")
        window = window.tail(last)
    return window.reset_index(drop=True)


def _since_time(since: str) -> pd.Timestamp:
    minutes = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}
    text = since.strip()
    if text[:-1].isdigit() and text[-1:] in minutes:
        back = pd.Timedelta(minutes=int(text[:-1]) * minutes[text[-1]])
        return pd.Timestamp.now(tz="UTC") - back
    try:
        stamp = pd.Timestamp(text)
    except ValueError as err:
        raise WindowError(
            f"--since {since!r}: expected an ISO time or a duration like 24h"
        ) from err
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


def read_window_file(path: Path) -> pd.DataFrame:
    """A CSV or Parquet batch with the same columns as the flattened log."""
    return read_table(path, WindowError)


def label_column(window: pd.DataFrame, target: str) -> str | None:
    """Where the window keeps its labels: the target column, else `label`; None when unlabelled."""
    for name in (target, "label"):
        if name in window.columns and window[name].notna().any():
            return name
    return None


# --------------------------------------------------------------------------------------------------
# Statistics


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index over shares; empty bins are floored at 1e-4."""
    ref = np.clip(np.asarray(reference, dtype=float), PSI_FLOOR, None)
    cur = np.clip(np.asarray(current, dtype=float), PSI_FLOOR, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi_null_quantiles(
    shares: np.ndarray, n_ref: int, n_cur: int, tests: int = 1
) -> tuple[float, float]:
    """The PSI that sampling noise alone exceeds with probability 0.05 and 0.01 (each split over
    `tests` features, Bonferroni), for samples of these sizes drawn from the reference shares.

    A parametric bootstrap draws both samples from the reference shares; a scaled chi-squared
    fitted to the simulated PSI by moments gives a smooth tail (in theory PSI ~ (1/n_ref +
    1/n_cur) chi2(bins - 1), Yurdakul and Naranjo), so small windows get honest, larger thresholds.
    """
    from scipy import stats

    rng = np.random.default_rng(SEED)
    p = np.asarray(shares, dtype=float)
    p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1 / len(p))
    ref = rng.multinomial(max(n_ref, 1), p, size=NULL_SIMULATIONS) / max(n_ref, 1)
    cur = rng.multinomial(max(n_cur, 1), p, size=NULL_SIMULATIONS) / max(n_cur, 1)
    ref, cur = np.clip(ref, PSI_FLOOR, None), np.clip(cur, PSI_FLOOR, None)
    values = np.sum((cur - ref) * np.log(cur / ref), axis=1)
    mean, var = float(values.mean()), float(values.var())
    if mean <= 0 or var <= 0:
        return 0.0, 0.0
    scale, dof = var / (2 * mean), 2 * mean**2 / var
    tests = max(tests, 1)
    return (
        float(scale * stats.chi2.ppf(1 - 0.05 / tests, dof)),
        float(scale * stats.chi2.ppf(1 - 0.01 / tests, dof)),
    )


def category_shares(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Shares over the reference categories plus a last bin for everything else."""
    keys = values.dropna().map(category_key)
    if keys.empty:
        return np.zeros(len(categories) + 1)
    counts = keys.value_counts()
    known = np.array([counts.get(c, 0) for c in categories], dtype=float)
    other = float(len(keys) - known.sum())
    return np.append(known, other) / len(keys)


def drift_test(kind: str, ref: pd.Series, cur: pd.Series) -> tuple[str, float, float, bool]:
    """(method, value, threshold, drifted) for one column, chosen by type and reference size."""
    from scipy import stats
    from scipy.spatial import distance

    ref, cur = ref.dropna(), cur.dropna()
    large = len(ref) > LARGE_REFERENCE
    if kind == "numeric" and ref.nunique() > 5:
        r, c = ref.to_numpy(dtype=float), cur.to_numpy(dtype=float)
        if large:
            std = float(np.std(r, ddof=1))
            value = float(stats.wasserstein_distance(r, c)) / std if std > 0 else 0.0
            return "wasserstein_normed", value, DISTANCE_THRESHOLD, value >= DISTANCE_THRESHOLD
        with warnings.catch_warnings():  # "exact calculation unsuccessful": falls back itself
            warnings.simplefilter("ignore", RuntimeWarning)
            p = float(stats.ks_2samp(r, c).pvalue)
        return "ks_p_value", p, P_VALUE, p <= P_VALUE
    r_keys, c_keys = ref.map(category_key), cur.map(category_key)
    labels = sorted(set(r_keys) | set(c_keys))
    r_counts = np.array([(r_keys == k).sum() for k in labels], dtype=float)
    c_counts = np.array([(c_keys == k).sum() for k in labels], dtype=float)
    if large:
        value = float(distance.jensenshannon(r_counts / r_counts.sum(), c_counts / c_counts.sum()))
        return "jensen_shannon", value, DISTANCE_THRESHOLD, value >= DISTANCE_THRESHOLD
    if len(labels) < 2:
        return "chi_squared_p_value", 1.0, P_VALUE, False
    if len(labels) == 2:  # binary: two-proportion z-test on the share of the first value
        n_ref, n_cur = r_counts.sum(), c_counts.sum()
        pooled = (r_counts[0] + c_counts[0]) / (n_ref + n_cur)
        spread = math.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
        z = (r_counts[0] / n_ref - c_counts[0] / n_cur) / spread if spread > 0 else 0.0
        p = float(2 * stats.norm.sf(abs(z)))
        return "z_test_p_value", p, P_VALUE, p < P_VALUE
    table = np.vstack([r_counts, c_counts])
    p = float(stats.chi2_contingency(table, correction=False).pvalue)
    return "chi_squared_p_value", p, P_VALUE, p < P_VALUE


def domain_classifier_auc(ref: pd.Series, cur: pd.Series) -> tuple[float, float]:
    """Cross-validated ROC-AUC of a classifier telling reference texts from window texts, and the
    threshold: max(0.55, the one-sided 95% quantile of AUC when both come from one distribution)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(SEED)
    ref = ref.dropna().astype(str)
    cur = cur.dropna().astype(str)
    ref = ref.iloc[rng.permutation(len(ref))[:2000]]
    cur = cur.iloc[rng.permutation(len(cur))[:2000]]
    texts = pd.concat([ref, cur]).tolist()
    y = np.r_[np.zeros(len(ref)), np.ones(len(cur))]
    folds = min(5, len(ref), len(cur))
    if folds < 2:
        return 0.5, 1.0
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=1), LogisticRegression(max_iter=1000)
    )
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    scores = cross_val_predict(model, texts, y, cv=cv, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(y, scores))
    n1, n2 = len(ref), len(cur)
    se = math.sqrt((0.25 + (n1 - 1) / 12 + (n2 - 1) / 12) / (n1 * n2))  # Hanley-McNeil at AUC = 0.5
    return auc, max(DOMAIN_AUC, 0.5 + 1.645 * se)


def binomial_excess(count: int, n: int, expected: float) -> float:
    """P(X >= count) for X ~ Binomial(n, expected): small when noise cannot explain `count`."""
    from scipy import stats

    if n == 0 or count == 0:
        return 1.0
    return float(stats.binom.sf(count - 1, n, min(max(expected, 1e-6), 1.0)))


def outside_range_excess(count: int, n: int, n_ref: int, ref_outside: int) -> float:
    """P(X >= count), X = window values outside the reference range when nothing changed.

    The true mass outside a range estimated from n_ref values is itself uncertain (about
    Beta(ref_outside + 1, n_ref - ref_outside + 1)), so X is beta-binomial, not binomial: with a
    small reference, many values beyond its extremes happen more often than a fixed rate says.
    """
    from scipy import stats

    if n == 0 or count == 0:
        return 1.0
    a = ref_outside + 1
    b = max(n_ref - ref_outside + 1, 1)
    return float(stats.betabinom.sf(count - 1, n, a, b))


def worst(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: LEVELS[s], default="ok")


# --------------------------------------------------------------------------------------------------
# The checks


@dataclass
class Context:
    cfg: Config
    reference: Reference
    window: pd.DataFrame
    meta: dict[str, Any]
    label: str | None

    @property
    def n(self) -> int:
        return len(self.window)

    @property
    def tests(self) -> int:
        """How many features are checked: noise thresholds are split over them (Bonferroni)."""
        return max(1, len(self.reference.features))


def run_checks(
    cfg: Config,
    reference: Reference,
    window: pd.DataFrame,
    meta: dict[str, Any],
    name: str,
    source: str,
    model: Any = None,
    window_rows: int | None = None,
) -> Result:
    """Every check on one window; raises WindowError when the window cannot be judged.

    With the saved `model`, logged inputs are re-scored to catch training/serving skew.
    `window_rows`: how many rows the window has when `window` is a uniform sample of it.
    """
    n = len(window)
    total = max(window_rows or n, n)
    if n == 0:
        raise WindowError(f"{source}: the window is empty")
    if n < cfg.monitor.min_rows:
        raise WindowError(
            f"{source}: {n} rows, fewer than monitor.min_rows = {cfg.monitor.min_rows}; "
            "too few to judge"
        )
    ctx = Context(cfg, reference, window, meta, label_column(window, cfg.task.target))
    checks: list[Check] = [
        Check(
            "row_count",
            "data_quality",
            None,
            "rows_in_window",
            total,
            cfg.monitor.min_rows,
            "ok",
            n,
            f"judged on a uniform sample of {n:,} rows" if total > n else "",
        )
    ]
    checks += data_quality_checks(ctx)
    feature_checks, drift = feature_drift_checks(ctx)
    checks += feature_checks
    checks += prediction_checks(ctx)
    perf_checks, performance = performance_checks(ctx)
    checks += perf_checks
    checks += operations_checks(ctx)
    if model is not None:
        checks.append(skew_check(ctx, model))
    if drift["drift"]:
        checks.append(
            Check(
                "dataset_drift",
                "feature_drift",
                None,
                "share_of_drifted_features",
                drift["share"],
                drift["threshold"],
                "alert",
                n,
                f"{drift['drifted']} of {drift['n_features']} features drifted",
            )
        )
    status = worst([c.status for c in checks])
    return Result(
        status=status,
        window=_window_info(window, name, source, ctx.label, total),
        model_version=str(meta.get("model_version")) if meta.get("model_version") else None,
        reference={
            "n": reference.profile.get("n_reference"),
            "model_version": reference.profile.get("model_version"),
            "created_at": reference.profile.get("created_at"),
        },
        checks=checks,
        dataset_drift=drift,
        performance=performance,
        recommended_action=recommend(status, checks),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _window_info(
    window: pd.DataFrame, name: str, source: str, label: str | None, total: int
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": name,
        "source": source,
        "n_rows": total,
        "n_judged": len(window),
        "n_labeled": int(window[label].notna().sum()) if label else 0,
    }
    if "timestamp" in window.columns:
        stamps = pd.to_datetime(window["timestamp"], errors="coerce", utc=True).dropna()
        if not stamps.empty:
            info["from"], info["to"] = stamps.min().isoformat(), stamps.max().isoformat()
    return info


def data_quality_checks(ctx: Context) -> list[Check]:
    checks: list[Check] = []
    features = ctx.reference.features
    window, n, mon = ctx.window, ctx.n, ctx.cfg.monitor
    missing = [f for f in features if f not in window.columns]
    expected = set(features) | set(prediction_columns(ctx.meta)) | set(LOG_COLUMNS)
    expected |= {ctx.cfg.task.target, "label", ctx.cfg.task.id_column or ""}
    unexpected = sorted(str(c) for c in window.columns if c not in expected)
    checks.append(
        Check(
            "schema",
            "data_quality",
            None,
            "columns_match_reference",
            len(missing),
            0,
            "alert" if missing else ("warn" if unexpected else "ok"),
            n,
            (f"missing: {', '.join(missing)}. " if missing else "")
            + (f"unexpected: {', '.join(unexpected)}" if unexpected else ""),
        )
    )
    for name, entry in features.items():
        if name not in window.columns:
            continue
        column = window[name]
        checks.append(_missing_check(name, column, entry, mon, ctx.tests))
        if entry["kind"] == "numeric":
            checks += _numeric_quality(name, column, entry, ctx)
        elif entry["kind"] == "categorical":
            checks.append(_unseen_check(name, column, entry, ctx))
    if "request_id" in window.columns and "row" in window.columns:
        dupes = int(window.duplicated(subset=["request_id", "row"]).sum())
        checks.append(
            Check(
                "duplicate_rows",
                "data_quality",
                None,
                "duplicated_request_id_row",
                dupes,
                0,
                "warn" if dupes else "ok",
                n,
            )
        )
    checks.append(_prediction_validity(ctx))
    return checks


def _missing_check(
    name: str, column: pd.Series, entry: dict[str, Any], mon: Any, tests: int
) -> Check:
    """Missing share vs the reference's: warn above ref x 1.1 + missing_warn_abs, alert above
    ref + missing_alert_abs, each only when the reference's missing rate (itself estimated from
    its n rows) cannot explain the count: p below 0.05 (warn) or 0.01 (alert) split over the
    features checked, as for out-of-range values."""
    n = len(column)
    count = int(column.isna().sum())
    share = count / n if n else 0.0
    ref = float(entry.get("missing_share") or 0.0)
    n_ref = int(entry.get("n") or 0)
    warn_at = ref * 1.1 + mon.missing_warn_abs
    alert_at = max(ref + mon.missing_alert_abs, warn_at)
    p_value = outside_range_excess(count, n, n_ref, round(ref * n_ref))
    status = "ok"
    if share > alert_at and p_value < 0.01 / tests:
        status = "alert"
    elif share > warn_at and p_value < 0.05 / tests:
        status = "warn"
    return Check(
        "missing_share",
        "data_quality",
        name,
        "share_missing_vs_reference",
        share,
        alert_at,
        status,
        n,
        f"{count} of {n} (p = {p_value:.2g}); reference {ref:.3f} of {n_ref}; warn above "
        f"{warn_at:.3f} [sample-size aware]",
    )


def _numeric_quality(
    name: str, column: pd.Series, entry: dict[str, Any], ctx: Context
) -> list[Check]:
    n = ctx.n
    values = pd.to_numeric(column, errors="coerce")
    bad_type = int((values.isna() & column.notna()).sum())
    checks = [
        Check(
            "type",
            "data_quality",
            name,
            "numeric_values",
            bad_type,
            0,
            "alert" if bad_type else "ok",
            n,
            "values that are not numbers" if bad_type else "",
        )
    ]
    low, high = entry.get("range") or [None, None]
    present = values.dropna()
    if low is None or present.empty:
        return checks
    outside = int(((present < low) | (present > high)).sum())
    n_ref = int(entry["n"])
    ref_outside = int(entry.get("outside_range") or 0)
    expected = (ref_outside + 1) / (n_ref + 2)
    p_value = outside_range_excess(outside, len(present), n_ref, ref_outside)
    checks.append(
        _share_check(
            "out_of_range",
            name,
            "share_outside_reference_p0.1_p99.9",
            outside,
            len(present),
            expected,
            p_value,
            ctx.tests,
        )
    )
    return checks


def _unseen_check(name: str, column: pd.Series, entry: dict[str, Any], ctx: Context) -> Check:
    n = ctx.n
    known = set(entry.get("categories") or {})
    present = column.dropna().map(category_key)
    if entry.get("other_share", 0.0) > 0:  # categories beyond the stored top ones: cannot tell
        return Check(
            "unseen_categories",
            "data_quality",
            name,
            "share_unseen_categories",
            None,
            None,
            "ok",
            n,
            "reference has more categories than stored; not checked",
        )
    unseen = int((~present.isin(known)).sum())
    expected = max(float(entry.get("unseen_baseline") or 0.0), 0.002)
    p_value = binomial_excess(unseen, len(present), expected)
    return _share_check(
        "unseen_categories",
        name,
        "share_unseen_categories",
        unseen,
        len(present),
        expected,
        p_value,
        ctx.tests,
    )


def _share_check(
    check_id: str,
    name: str,
    method: str,
    count: int,
    n: int,
    expected: float,
    p_value: float,
    tests: int,
) -> Check:
    """warn > expected + 1%, alert > expected + 5%; each only when noise cannot explain the count
    (p below 0.05 for warn and 0.01 for alert, split over the features checked)."""
    share = count / n if n else 0.0
    warn_at, alert_at = expected + SHARE_WARN, expected + SHARE_ALERT
    status = "ok"
    if share > alert_at and p_value < 0.01 / tests:
        status = "alert"
    elif share > warn_at and p_value < 0.05 / tests:
        status = "warn"
    return Check(
        check_id,
        "data_quality",
        name,
        method,
        share,
        alert_at,
        status,
        n,
        f"{count} of {n} (p = {p_value:.2g}); a calm window shows about {expected:.3f} "
        "[sample-size aware]",
    )


def _prediction_validity(ctx: Context) -> Check:
    window, n = ctx.window, ctx.n
    columns = [c for c in prediction_columns(ctx.meta) if c in window.columns]
    if "prediction" not in window.columns:
        return Check(
            "prediction_validity",
            "data_quality",
            "prediction",
            "present_and_finite",
            None,
            0,
            "alert",
            n,
            "no prediction column in the window",
        )
    bad = window["prediction"].isna()
    for col in columns:
        if col == "prediction" and ctx.cfg.is_classification:
            continue
        values = pd.to_numeric(window[col], errors="coerce").to_numpy(dtype=float)
        bad |= ~np.isfinite(values)
        if col != "prediction":
            bad |= (values < 0) | (values > 1)
    count = int(bad.sum())
    return Check(
        "prediction_validity",
        "data_quality",
        "prediction",
        "nan_inf_or_out_of_range",
        count,
        0,
        "alert" if count else "ok",
        n,
        f"{count} predictions missing, NaN/inf or outside [0, 1]" if count else "",
    )


def feature_drift_checks(ctx: Context) -> tuple[list[Check], dict[str, Any]]:
    checks: list[Check] = []
    drifted: list[str] = []
    tested = 0
    for name, entry in ctx.reference.features.items():
        if name not in ctx.window.columns:
            continue
        column = ctx.window[name]
        if entry["kind"] == "text":
            found = text_drift_checks(ctx, name, column, entry)
        else:
            found = column_drift_checks(ctx, name, column, entry, "feature_drift")
        checks += found
        tested += 1
        if any(c.id == "drift_test" and c.status != "ok" for c in found):
            drifted.append(name)
    share = len(drifted) / tested if tested else 0.0
    threshold = ctx.cfg.monitor.drift_share
    summary = {
        "n_features": tested,
        "drifted": len(drifted),
        "drifted_features": drifted,
        "share": share,
        "threshold": threshold,
        "drift": tested > 0 and share >= threshold,
    }
    return checks, summary


def column_drift_checks(
    ctx: Context, name: str, column: pd.Series, entry: dict[str, Any], group: str
) -> list[Check]:
    """PSI on the stored bins plus the statistical test for one numeric or categorical column."""
    kind = entry["kind"]
    present = column.dropna()
    n_cur = len(present)
    n_ref = int(round(entry["n"] * (1 - float(entry.get("missing_share") or 0.0))))
    if n_cur == 0:
        return [Check("psi", group, name, "psi", None, None, "ok", 0, "no values in the window")]
    if kind == "numeric":
        ref_shares = np.asarray(entry["bin_shares"], dtype=float)
        cur_shares = numeric_shares(
            pd.to_numeric(present, errors="coerce").dropna().to_numpy(dtype=float),
            bin_edges(entry["bin_edges"]),
        )
    else:
        categories = list(entry.get("categories") or {})
        ref_shares = np.append(
            np.array([entry["categories"][c] for c in categories], dtype=float),
            float(entry.get("other_share") or 0.0),
        )
        cur_shares = category_shares(present, categories)
    checks = [_psi_check(ctx, group, name, psi(ref_shares, cur_shares), ref_shares, n_ref, n_cur)]
    ref_values = ctx.reference.frame[name] if name in ctx.reference.frame.columns else None
    if ref_values is not None and ref_values.notna().any():
        method, value, threshold, drifted = drift_test(kind, ref_values, present)
        checks.append(
            Check(
                "drift_test",
                group,
                name,
                method,
                value,
                threshold,
                "warn" if drifted else "ok",
                n_cur,
                "drift" if drifted else "no drift",
            )
        )
    return checks


def _psi_check(
    ctx: Context,
    group: str,
    name: str,
    value: float,
    ref_shares: np.ndarray,
    n_ref: int,
    n_cur: int,
) -> Check:
    mon = ctx.cfg.monitor
    q95, q99 = psi_null_quantiles(ref_shares, n_ref, n_cur, ctx.tests)
    warn_at, alert_at = max(mon.psi_warn, q95), max(mon.psi_alert, q99)
    status = "alert" if value >= alert_at else ("warn" if value >= warn_at else "ok")
    note = ""
    if alert_at > mon.psi_alert or warn_at > mon.psi_warn:
        note = (
            f"thresholds raised from {mon.psi_warn}/{mon.psi_alert} to "
            f"{warn_at:.3f}/{alert_at:.3f}, "
            f"above what noise reaches with {n_ref} reference and {n_cur} window values "
            f"over {ctx.tests} features [sample-size aware]"
        )
    return Check("psi", group, name, "psi_reference_bins", value, alert_at, status, n_cur, note)


def text_drift_checks(
    ctx: Context, name: str, column: pd.Series, entry: dict[str, Any]
) -> list[Check]:
    texts = column.dropna().astype(str)
    n = len(texts)
    if n == 0:
        return [
            Check(
                "drift_test",
                "feature_drift",
                name,
                "domain_classifier_auc",
                None,
                None,
                "ok",
                0,
                "no texts in the window",
            )
        ]
    tokens = [tokenize(t) for t in texts]
    lengths = np.array([len(t) for t in tokens], dtype=float)
    ref_shares = np.asarray(entry["length_bin_shares"], dtype=float)
    cur_shares = numeric_shares(lengths, bin_edges(entry["length_bin_edges"]))
    n_ref = int(entry["n"])
    checks = [
        _psi_check(
            ctx,
            "feature_drift",
            f"{name} (length)",
            psi(ref_shares, cur_shares),
            ref_shares,
            n_ref,
            n,
        )
    ]
    rate = oov_rate(tokens, set(entry.get("vocabulary") or []))
    baseline = float(entry.get("oov_baseline", entry.get("oov_rate", 0.0)))
    warn_at, alert_at = baseline + 0.05, baseline + 0.15
    status = "alert" if rate > alert_at else ("warn" if rate > warn_at else "ok")
    checks.append(
        Check(
            "oov_rate",
            "feature_drift",
            name,
            "out_of_vocabulary_token_share",
            rate,
            alert_at,
            status,
            n,
            f"a calm window shows about {baseline:.3f}",
        )
    )
    ref_texts = ctx.reference.frame[name] if name in ctx.reference.frame.columns else None
    if ref_texts is not None:
        auc, threshold = domain_classifier_auc(ref_texts, texts)
        drifted = auc >= threshold
        checks.append(
            Check(
                "drift_test",
                "feature_drift",
                name,
                "domain_classifier_auc",
                auc,
                threshold,
                "warn" if drifted else "ok",
                n,
                "drift" if drifted else "no drift",
            )
        )
    return checks


def prediction_checks(ctx: Context) -> list[Check]:
    checks: list[Check] = []
    for column, entry in ctx.reference.predictions.items():
        if column not in ctx.window.columns or column.startswith("proba_"):
            continue
        checks += column_drift_checks(ctx, column, ctx.window[column], entry, "prediction_drift")
    if ctx.meta.get("task_type") == "regression" and "prediction" in ctx.window.columns:
        entry = ctx.reference.predictions.get("prediction") or {}
        std = float(entry.get("std") or 0.0)
        current = pd.to_numeric(ctx.window["prediction"], errors="coerce")
        n_cur = int(current.notna().sum())
        if std > 0 and n_cur:
            shift = abs(float(current.mean()) - float(entry["mean"])) / std
            # two sample means differ by 1.96 * sqrt(1/n_ref + 1/n_cur) std in 5% of calm windows
            noise = 1.96 * math.sqrt(1 / max(int(entry["n"]), 1) + 1 / n_cur)
            threshold = max(DISTANCE_THRESHOLD, noise)
            checks.append(
                Check(
                    "mean_shift",
                    "prediction_drift",
                    "prediction",
                    "mean_shift_in_reference_std",
                    shift,
                    threshold,
                    "warn" if shift >= threshold else "ok",
                    n_cur,
                    "[sample-size aware]" if threshold > DISTANCE_THRESHOLD else "",
                )
            )
    return checks


def performance_checks(ctx: Context) -> tuple[list[Check], dict[str, Any]]:
    cfg = ctx.cfg
    metrics = ctx.reference.profile.get("metrics") or {}
    name = str(metrics.get("primary_metric") or cfg.evaluate.primary_metric)
    reference_value = metrics.get("value")
    summary: dict[str, Any] = {
        "metric": name,
        "reference": reference_value,
        "realized": None,
        "estimated": None,
        "n_labeled": 0,
        "status": "no labels",
    }
    absent = [c for c in prediction_columns(ctx.meta) if c not in ctx.window.columns]
    if absent:
        summary["status"] = f"not computed: no {', '.join(absent)} column(s) in the window"
        return [], summary
    if ctx.label is None:
        return _estimated_performance(ctx, name, reference_value, summary)
    labelled = ctx.window[ctx.window[ctx.label].notna()].rename(
        columns={ctx.label: cfg.task.target}
    )
    summary["n_labeled"] = n = len(labelled)
    if n < cfg.monitor.min_rows:
        summary["status"] = f"insufficient: {n} labelled rows, fewer than monitor.min_rows"
        return [], summary
    with warnings.catch_warnings():  # e.g. AUC of a one-class window: undefined, not an error
        warnings.simplefilter("ignore")
        realized = compute_metric(name, labelled, ctx.meta, cfg.task.target)
    if realized is None or not math.isfinite(realized):
        summary["status"] = f"{name} is undefined on this window (e.g. only one class labelled)"
        return [], summary
    summary["realized"] = realized
    higher = HIGHER_IS_BETTER.get(name, True)
    low, high = _bootstrap_interval(name, labelled, ctx.meta, cfg.task.target)
    summary["realized_ci95"] = [low, high]
    checks = []
    ready = cfg.evaluate.ready_threshold
    if ready is not None:
        bad = realized < ready if higher else realized > ready
        checks.append(
            Check(
                "performance_threshold",
                "performance",
                None,
                f"{name}_vs_ready_threshold",
                realized,
                ready,
                "alert" if bad else "ok",
                n,
            )
        )
    if reference_value is not None and reference_value != 0:
        drop = (reference_value - realized) / abs(reference_value)
        drop = drop if higher else -drop
        beyond_noise = (high < reference_value) if higher else (low > reference_value)
        bad = drop > cfg.monitor.perf_drop and beyond_noise
        checks.append(
            Check(
                "performance_drop",
                "performance",
                None,
                f"{name}_relative_drop_vs_reference",
                drop,
                cfg.monitor.perf_drop,
                "alert" if bad else "ok",
                n,
                f"reference {reference_value:.4g}, window {realized:.4g} "
                f"(95% CI {low:.4g}-{high:.4g})",
            )
        )
    if ctx.meta.get("task_type") == "regression":
        checks.append(_bias_check(ctx, labelled))
    summary["status"] = worst([c.status for c in checks])
    return checks, summary


def _estimated_performance(
    ctx: Context, name: str, reference_value: float | None, summary: dict[str, Any]
) -> tuple[list[Check], dict[str, Any]]:
    """No labels yet: estimate the metric from the model's own probabilities (CBPE-style).

    Valid only while the probabilities are calibrated and the relation between inputs and label
    has not changed (no concept drift), so a poor estimate only warns.
    """
    estimate = estimate_metric(name, ctx.window, ctx.meta)
    summary["estimated"] = estimate
    summary["status"] = "no labels: estimated from calibrated probabilities"
    if estimate is None:
        summary["status"] = f"no labels; {name} cannot be estimated without them"
        return [], summary
    higher = HIGHER_IS_BETTER.get(name, True)
    ready = ctx.cfg.evaluate.ready_threshold
    below_ready = ready is not None and (estimate < ready if higher else estimate > ready)
    # compare like with like: the same estimate on the reference rows, so the estimator's own
    # bias (e.g. an under-confident model) cancels out
    baseline = estimate_metric(name, ctx.reference.frame, ctx.meta) or reference_value
    summary["reference_estimated"] = baseline
    drop = None
    if baseline:
        drop = (baseline - estimate) / abs(baseline) * (1 if higher else -1)
    dropped = drop is not None and drop > ctx.cfg.monitor.perf_drop
    check = Check(
        "performance_estimated",
        "performance",
        None,
        f"{name}_estimated_from_probabilities",
        estimate,
        ready if ready is not None else reference_value,
        "warn" if below_ready or dropped else "ok",
        ctx.n,
        "assumes calibrated probabilities and no concept drift"
        + (f"; {drop:.1%} below the reference's estimate" if drop is not None and drop > 0 else ""),
    )
    return [check], summary


def estimate_metric(name: str, window: pd.DataFrame, meta: dict[str, Any]) -> float | None:
    """The expected value of the metric if each row's label were drawn from its predicted
    probabilities (confidence-based performance estimation); None for metrics it cannot do."""
    task_type = meta.get("task_type")
    if task_type == "binary_classification":
        scores = pd.to_numeric(window["score"], errors="coerce").dropna().to_numpy(dtype=float)
        if scores.size < 2:
            return None
        if name == "roc_auc":
            return _expected_auc(scores[:2000])
        if name == "accuracy":
            positive = category_key(meta.get("positive_class"))
            said = window["prediction"].map(category_key) == positive
            hit = np.where(said.to_numpy(), window["score"], 1 - window["score"].astype(float))
            return float(np.nanmean(hit))
        return None
    if task_type in ("multiclass_classification", "text_classification"):
        names = [str(c) for c in meta.get("classes") or []]  # as in the proba_<class> columns
        # keyed as `said` is (1.0 -> "1"), so float-coded classes match their predictions
        classes = [category_key(c) for c in meta.get("classes") or []]
        probas = window[[f"proba_{c}" for c in names]].to_numpy(dtype=float)
        said = window["prediction"].map(category_key).to_numpy(dtype=object)
        if name == "accuracy":
            picked = [probas[i, classes.index(str(c))] for i, c in enumerate(said) if c in classes]
            return float(np.mean(picked)) if picked else None
        if name in ("f1_macro", "f1_weighted"):
            return _expected_f1(name, probas, said, classes)
    return None


def _expected_auc(scores: np.ndarray) -> float | None:
    """ROC-AUC expected when row i is positive with probability scores[i]."""
    pos, neg = scores[:, None], 1 - scores[None, :]
    weight = pos * neg
    np.fill_diagonal(weight, 0.0)
    order = np.sign(scores[:, None] - scores[None, :])  # 1 where i ranks above j
    total = weight.sum()
    if total <= 0:
        return None
    return float((weight * (order > 0)).sum() + 0.5 * (weight * (order == 0)).sum()) / total


def _expected_f1(
    name: str, probas: np.ndarray, said: np.ndarray, classes: list[str]
) -> float | None:
    scores, support = [], []
    for k, label in enumerate(classes):
        chosen = said == label
        tp = probas[chosen, k].sum()
        fp = (1 - probas[chosen, k]).sum()
        fn = probas[~chosen, k].sum()
        denominator = 2 * tp + fp + fn
        scores.append(2 * tp / denominator if denominator > 0 else 0.0)
        support.append(probas[:, k].sum())
    if not scores:
        return None
    if name == "f1_macro":
        return float(np.mean(scores))
    return float(np.average(scores, weights=support)) if sum(support) > 0 else None


def _bootstrap_interval(
    name: str, rows: pd.DataFrame, meta: dict[str, Any], target: str, resamples: int = 200
) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the metric on this window (seeded)."""
    import sklearn

    rng = np.random.default_rng(SEED)
    data = metric_inputs(rows, meta, target)
    n = len(data)
    block = max(1, BOOTSTRAP_CELLS // max(n, 1))  # resamples at a time: memory bounded for any n
    found = []
    for start in range(0, resamples, block):
        # drawn block by block, the same numbers as one draw of every resample at once
        index = rng.integers(0, n, (min(block, resamples - start), n))
        values = _vectorised_metric(name, data, index)
        if values is None:  # no vectorised form: one scikit-learn call per resample
            # the inputs were checked once already: skip scikit-learn's per-call validation
            with (
                sklearn.config_context(assume_finite=True, skip_parameter_validation=True),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore")
                computed = [metric_value(name, data, row) for row in index]
            values = np.array([v for v in computed if v is not None], dtype=float)
        found.append(values)
    values = np.concatenate(found)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return -math.inf, math.inf
    return float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


def _vectorised_metric(name: str, data: Any, index: np.ndarray) -> np.ndarray | None:
    """The metric on every resample (one row of `index` each) at once, for the common metrics."""
    from scipy import stats

    y, pred = data.y[index], data.pred[index]
    if data.task_type == "regression":
        error = pred.astype(float) - y.astype(float)
        if name == "mae":
            return np.mean(np.abs(error), axis=1)
        if name == "rmse":
            return np.sqrt(np.mean(error**2, axis=1))
        if name == "median_ae":
            return np.median(np.abs(error), axis=1)
        return None
    if name == "roc_auc" and data.task_type == "binary_classification":
        ranks = stats.rankdata(data.scores[index], axis=1)  # Mann-Whitney U, ties averaged
        positives = y.sum(axis=1)
        negatives = y.shape[1] - positives
        u = (ranks * y).sum(axis=1) - positives * (positives + 1) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(positives * negatives > 0, u / (positives * negatives), np.nan)
    if name == "accuracy":
        return np.mean(y == pred, axis=1)
    if name in ("f1_macro", "f1_weighted"):
        return _f1_by_class(name, y, pred, np.unique(np.concatenate([data.y, data.pred])))
    return None


def _f1_by_class(name: str, y: np.ndarray, pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Macro or weighted F1 per resample; classes absent from a resample do not count (as in
    scikit-learn, which only averages over the labels present in truth or prediction)."""
    scores, present, support = [], [], []
    for label in labels:
        truth, said = y == label, pred == label
        tp = np.sum(truth & said, axis=1)
        denominator = truth.sum(axis=1) + said.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores.append(np.where(denominator > 0, 2 * tp / denominator, 0.0))
        present.append(denominator > 0)
        support.append(truth.sum(axis=1))
    f1, here, weight = np.array(scores), np.array(present), np.array(support, dtype=float)
    if name == "f1_macro":
        return (f1 * here).sum(axis=0) / np.maximum(here.sum(axis=0), 1)
    return (f1 * weight).sum(axis=0) / np.maximum(weight.sum(axis=0), 1)


def _bias_check(ctx: Context, labelled: pd.DataFrame) -> Check:
    """Mean prediction - mean label in reference label std (alert > 0.1 when beyond noise)."""
    y = pd.to_numeric(labelled[ctx.cfg.task.target], errors="coerce")
    pred = pd.to_numeric(labelled["prediction"], errors="coerce")
    residual = (pred - y).dropna()
    sigma = float(ctx.reference.profile.get("label", {}).get("std") or 0.0)
    n = len(residual)
    if sigma <= 0 or n < 2:
        return Check(
            "bias", "performance", "prediction", "mean_error_in_label_std", None, 0.1, "ok", n
        )
    bias = float(residual.mean()) / sigma
    # a model may be biased by design (a median regression on a skewed target predicts below the
    # mean): judge the change from the bias it had on the reference window
    expected = _reference_bias(ctx, sigma)
    noise = 2.58 * float(residual.std(ddof=1)) / math.sqrt(n) / sigma
    change = abs(bias - expected)
    bad = change > DISTANCE_THRESHOLD and change > noise
    return Check(
        "bias",
        "performance",
        "prediction",
        "mean_error_in_label_std",
        bias,
        DISTANCE_THRESHOLD,
        "alert" if bad else "ok",
        n,
        f"reference bias {expected:.3f}; 99% noise band +/-{noise:.3f} [sample-size aware]",
    )


def _reference_bias(ctx: Context, sigma: float) -> float:
    """(mean prediction - mean label) / sigma on the reference window; 0 when not recorded."""
    predicted = (ctx.reference.predictions.get("prediction") or {}).get("mean")
    label = (ctx.reference.profile.get("label") or {}).get("mean")
    if not isinstance(predicted, int | float) or not isinstance(label, int | float):
        return 0.0
    return (float(predicted) - float(label)) / sigma


def operations_checks(ctx: Context) -> list[Check]:
    checks = []
    trained = ctx.meta.get("trained_at") or ctx.reference.profile.get("trained_at")
    if trained:
        stamp = pd.Timestamp(trained)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
        age = (pd.Timestamp.now(tz="UTC") - stamp).total_seconds() / 86400
        limit = ctx.cfg.monitor.max_model_age_days
        checks.append(
            Check(
                "model_age",
                "operations",
                None,
                "days_since_training",
                age,
                limit,
                "alert" if age > limit else "ok",
                ctx.n,
            )
        )
    window = ctx.window
    current = ctx.meta.get("model_version")
    if current and "model_version" in window.columns:
        other = int((window["model_version"].astype(str) != str(current)).sum())
        checks.append(
            Check(
                "model_version",
                "operations",
                None,
                "rows_from_other_model_versions",
                other,
                0,
                "warn" if other else "ok",
                ctx.n,
                f"the reference belongs to {current}" if other else "",
            )
        )
    if "latency_ms" in window.columns and "source" in window.columns:
        api = pd.to_numeric(
            window.loc[window["source"] == "api", "latency_ms"], errors="coerce"
        ).dropna()
        if len(api) >= ctx.cfg.monitor.min_rows:
            p95 = float(np.percentile(api, 95))
            budget = ctx.cfg.serving.latency_budget_ms
            checks.append(
                Check(
                    "latency_p95",
                    "operations",
                    None,
                    "p95_latency_ms",
                    p95,
                    budget,
                    "alert" if p95 > budget else "ok",
                    len(api),
                )
            )
    return checks


def skew_check(ctx: Context, model: Any) -> Check:
    """Re-score logged raw inputs (1%, at least SKEW_ROWS rows, from the current model version)
    with the saved model; any output differing by more than 1e-6 from what was logged alerts."""
    from .predict import predict_frame

    window = ctx.window
    features = list(ctx.reference.features)
    current = ctx.meta.get("model_version")
    if "model_version" in window.columns and current:
        window = window[window["model_version"].astype(str) == str(current)]
    outputs = [c for c in prediction_columns(ctx.meta) if c in window.columns]
    if window.empty or "prediction" not in outputs or any(f not in window for f in features):
        return Check(
            "skew",
            "skew",
            None,
            "rescore_logged_inputs",
            None,
            SKEW_TOLERANCE,
            "ok",
            0,
            "not checked: no rows of the current model version with inputs and outputs",
        )
    size = min(len(window), max(SKEW_ROWS, math.ceil(0.01 * len(window))))
    sample = window.sample(n=size, random_state=SEED) if size < len(window) else window
    fresh = predict_frame(model, ctx.meta, sample)
    labels_differ = sample["prediction"].map(category_key) != fresh["prediction"].map(category_key)
    mismatched = np.array(labels_differ, dtype=bool)  # a writable copy
    numeric = [c for c in outputs if c != "prediction"]
    if ctx.meta.get("task_type") == "regression":
        numeric, mismatched = ["prediction"], np.zeros(len(sample), dtype=bool)
    worst = 0.0
    for column in numeric:
        logged = pd.to_numeric(sample[column], errors="coerce").to_numpy(dtype=float)
        diff = np.abs(logged - fresh[column].to_numpy(dtype=float))
        diff = np.where(np.isnan(diff), np.inf, diff)
        mismatched |= diff > SKEW_TOLERANCE
        worst = max(worst, float(diff.max()) if diff.size else 0.0)
    count = int(mismatched.sum())
    return Check(
        "skew",
        "skew",
        None,
        "rescore_logged_inputs",
        worst,
        SKEW_TOLERANCE,
        "alert" if count else "ok",
        size,
        f"{count} of {size} re-scored rows differ from the logged outputs" if count else "",
    )


def recommend(status: str, checks: list[Check]) -> str:
    """The action mapping: what a person should do about this window, most urgent first."""
    alerted = {c.group for c in checks if c.status == "alert"}
    actions = []
    if "skew" in alerted:
        actions.append(ACTIONS["skew"])
    if "data_quality" in alerted:
        actions.append(ACTIONS["data_quality"])
    if "performance" in alerted:
        actions.append(ACTIONS["performance"])
    if alerted & {"feature_drift", "prediction_drift"}:
        actions.append(ACTIONS["drift"])
    for check in checks:
        if check.group == "operations" and check.status == "alert":
            actions.append(
                ACTIONS["operations_age" if check.id == "model_age" else "operations_latency"]
            )
    if actions:
        return " ".join(actions)
    return ACTIONS["warn" if status == "warn" else "ok"]


# --------------------------------------------------------------------------------------------------
# The demo's shifted window


def most_important_numeric(reference: Reference, meta: dict[str, Any]) -> str | None:
    """The numeric feature that moves the model's output most (|Spearman| with the output)."""
    frame = reference.frame
    outputs = [
        c
        for c in prediction_columns(meta)
        if c != "prediction" or meta["task_type"] == "regression"
    ]
    best, best_value = None, -1.0
    for name, entry in reference.features.items():
        if entry["kind"] != "numeric" or name not in frame.columns or frame[name].nunique() < 3:
            continue
        strength = max(
            (
                abs(float(frame[name].corr(frame[o], method="spearman")) or 0.0)
                for o in outputs
                if o in frame.columns
            ),
            default=0.0,
        )
        if math.isfinite(strength) and strength > best_value:
            best, best_value = name, strength
    return best


def shift_inputs(
    window: pd.DataFrame, reference: Reference, meta: dict[str, Any]
) -> tuple[pd.DataFrame, str]:
    """A copy of the window with a shift a monitor must catch, and a sentence saying which."""
    shifted = window.copy()
    features = reference.features
    numeric = most_important_numeric(reference, meta)
    if numeric is not None:
        std = float(features[numeric].get("std") or 1.0)
        values = pd.to_numeric(shifted[numeric], errors="coerce")
        shifted[numeric] = values + 2 * std
        return (
            shifted,
            f"'{numeric}' (the most important numeric feature) moved up by 2 reference std",
        )
    text = next((n for n, e in features.items() if e["kind"] == "text"), None)
    if text is not None:
        shifted[text] = shifted[text].map(_foreign_vocabulary)
        return shifted, f"'{text}': every other word replaced by words the model never saw"
    categorical = next(
        (n for n, e in features.items() if e["kind"] == "categorical" and e["categories"]), None
    )
    if categorical is not None:
        rarest = min(
            features[categorical]["categories"], key=features[categorical]["categories"].get
        )
        rng = np.random.default_rng(SEED)
        mask = rng.random(len(shifted)) < 0.6
        shifted.loc[mask, categorical] = rarest
        return shifted, f"'{categorical}': 60% of rows set to its rarest category '{rarest}'"
    raise WindowError("no feature to shift for the demo")


def _foreign_vocabulary(text: Any) -> Any:
    if not isinstance(text, str):  # missing stays missing
        return text
    words = text.split()
    return " ".join(w if i % 2 else f"zq{w[::-1].lower()}x" for i, w in enumerate(words))
