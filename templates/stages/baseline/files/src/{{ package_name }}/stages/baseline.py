"""The baseline stage: `train` fits the dummy, the heuristic and the first model, then saves them with
the model's metadata and the monitoring reference profile."""

from __future__ import annotations

import argparse
import logging
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import Config

ORDER = 20
PIPELINE_STEP = "train"
log = logging.getLogger(__name__)


def run(config: Config, argv: list[str]) -> int:
    """Fit the baselines, cross-validate the candidate models and fit the chosen one into artifacts/."""
    parser = argparse.ArgumentParser(prog="train", description=run.__doc__)
    parser.add_argument(
        "--drop-reviewed",
        action="store_true",
        help="leave out training rows marked wrong in analyze.review_file (see `analyze`)",
    )
    parser.add_argument(
        "--train-file",
        type=Path,
        help="train on this Parquet file instead of the train split (`retrain` writes one)",
    )
    args = parser.parse_args(argv)

    from ..artifacts import load_split, read_parquet
    from ..errors import MissingInputError
    from ..sampling import read_training_sample, training_sample
    from ..tracking import start_run

    dropped = 0
    if args.train_file is None and not args.drop_reviewed:
        # the split file as it is: read only the rows train.max_rows lets through
        train, sampling = read_training_sample(config, "train")
    else:
        if args.train_file is not None:
            if not args.train_file.is_file():
                raise MissingInputError(f"{args.train_file}: --train-file not found")
            train = read_parquet(args.train_file, hint="run `make retrain` again")
        else:
            train = load_split(config, "train")
        if args.drop_reviewed:
            from ..review import drop_reviewed

            train, dropped = drop_reviewed(config, train)
        train, sampling = training_sample(config, train)
    if sampling["sampled"]:
        log.info(
            "training on %d of %d rows, %s (train.max_rows in config.yaml)",
            sampling["rows_used"],
            sampling["rows_available"],
            sampling["how"],
        )
    with start_run(config, "train", tags={"stage": "train"}):
        _train(config, train, dropped, sampling)
    return 0


def _train(config: Config, train: pd.DataFrame, dropped: int, sampling: dict[str, Any]) -> None:
    import joblib

    from .. import tracking
    from ..artifacts import baseline_path, meta_path, model_path, write_json
    from ..features import infer_features
    from ..models import (
        build_dummy,
        build_heuristic,
        decision_threshold,
        describe,
        describe_loss,
        infer_positive_class,
    )
    from ..registry import open_registry
    from ..selection import single_threaded

    target = config.task.target
    features = infer_features(config, train)
    names = [f.name for f in features]
    X, y = train[names], train[target]
    positive = (
        infer_positive_class(config, y) if config.task.type == "binary_classification" else None
    )

    fitted: dict[str, Any] = {}
    for name, estimator in (
        ("dummy", build_dummy(config)),
        ("heuristic", build_heuristic(config, features, positive)),
    ):
        fitted[name] = estimator.fit(X, y)
        log.info("%-9s %s", name, describe(fitted[name]))
    selection = _select(config, train, X, y, features, positive)
    started = time.perf_counter()
    model = _final_model(config, selection["chosen"], selection["params"], features, y, positive)
    with single_threaded():
        model.fit(X, y)
    log.info("model     %s fitted in %.1f s", _model_name(model), time.perf_counter() - started)

    config.artifacts_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_path(config))
    for name in ("dummy", "heuristic"):
        path = baseline_path(config, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(fitted[name], path)
    _save_linear_reference(config, selection["chosen"], features, X, y, positive)
    meta = build_meta(config, train, features, model, positive)
    meta["threshold"] = decision_threshold(model)
    meta["baselines"] = {name: describe(est) for name, est in fitted.items()}
    meta["model_description"] = _model_name(model)
    meta["candidate"] = selection["chosen"]
    meta["selection"] = selection
    meta["dropped_reviewed_rows"] = dropped
    meta["training_sample"] = sampling
    meta["tracking_run_id"] = tracking.active_run_id()
    if config.task.type == "regression":
        meta["model_loss"] = describe_loss(config, y, selection["chosen"])
        log.info("model loss: %s", meta["model_loss"])
    if meta["threshold"] is not None:
        log.info("decision threshold (expected cost, 5-fold CV on train): %.3f", meta["threshold"])
    _track_training(config, meta, model, X)
    write_json(meta_path(config), meta)
    _write_reference(config, model, meta)
    version = open_registry(config).register(meta)  # the model, its metadata and reference
    meta["registry_version"] = version.number
    write_json(meta_path(config), meta)
    log.info("saved %s, baselines/ and model_meta.json", model_path(config).name)
    log.info(
        "registered as model version %d (`make evaluate`, then `make promote` to serve it)",
        version.number,
    )


def _select(
    config: Config,
    train: pd.DataFrame,
    X: pd.DataFrame,
    y: pd.Series,
    features: list[Any],
    positive: Any,
) -> dict[str, Any]:
    """Cross-validate every candidate on the training folds, apply the rule, optionally search."""
    from .. import tracking
    from ..selection import choose, cv_splits, evaluate_candidates, search

    metric = config.evaluate.primary_metric
    splits = cv_splits(config, train)
    results = evaluate_candidates(config, X, y, features, splits, positive)
    for result in results:
        log.info(
            "candidate %-18s %s %.4f ± %.4f (%d folds, %.1f s)",
            result.name,
            metric,
            result.mean,
            result.stderr,
            len(result.scores),
            result.fit_seconds,
        )
    chosen = choose(metric, results)
    log.info("chosen    %s (best mean; within one standard error goes to the simpler)", chosen.name)
    params: dict[str, Any] = {}
    searched = None
    if config.search.enabled:

        def record(number: int, trial_params: dict[str, Any], scores: list[float]) -> None:
            with tracking.start_run(
                config, f"trial-{number}", nested=True, tags={"stage": "search"}
            ):
                tracking.log_params({"candidate": chosen.name, **trial_params})
                tracking.log_metrics({f"cv_{metric}": float(sum(scores) / len(scores))})

        searched = search(config, chosen.name, X, y, features, splits, positive, on_trial=record)
        if searched is not None and choose(metric, [chosen, searched]) is searched:
            params = searched.params
            log.info("search    %s beats the defaults: %s", chosen.name, params)
        elif searched is not None:
            log.info("search    no setting beat the defaults by a standard error; defaults kept")
    return {
        "rule": "best mean CV score; within one standard error of the best goes to the simpler",
        "metric": metric,
        "folds": len(splits),
        "candidates": [r.as_dict() for r in results],
        "chosen": chosen.name,
        "params": params,
        "search": searched.as_dict() if searched is not None else None,
    }


def _final_model(
    config: Config,
    name: str,
    params: dict[str, Any],
    features: list[Any],
    y: pd.Series,
    positive: Any,
) -> Any:
    """The chosen candidate as it will be deployed: binary models get the cost-tuned threshold."""
    from ..models import apply_params, get_candidate, with_cost_threshold

    pipeline = get_candidate(config, name, features).build(config, features, y)
    if params:
        pipeline = apply_params(pipeline, params)
    return with_cost_threshold(config, pipeline, positive) if positive is not None else pipeline


def _save_linear_reference(
    config: Config, chosen: str, features: list[Any], X: pd.DataFrame, y: pd.Series, positive: Any
) -> None:
    """When another candidate won, the linear model is kept beside it so evaluate can show that the
    winner is not worse on the test split (artifacts/candidates/linear.joblib)."""
    import joblib

    from ..artifacts import candidate_path

    path = candidate_path(config, "linear")
    if chosen == "linear":
        path.unlink(missing_ok=True)
        return
    from ..selection import single_threaded

    with single_threaded():
        linear = _final_model(config, "linear", {}, features, y, positive).fit(X, y)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(linear, path)


def _track_training(config: Config, meta: dict[str, Any], model: Any, X: pd.DataFrame) -> None:
    """The run's record: config, data version, the candidates' CV scores and the model."""
    from .. import tracking

    if tracking.active_run_id() is None:
        return
    tracking.log_config(config)
    selection = meta["selection"]
    tracking.log_params(
        {
            "candidate": meta["candidate"],
            "model_description": meta["model_description"],
            "training_rows": meta["training_rows"],
            "dropped_reviewed_rows": meta["dropped_reviewed_rows"],
            "threshold": meta["threshold"],
            **{f"model.{k}": v for k, v in selection["params"].items()},
        }
    )
    tracking.set_tags(
        {
            "model_version": meta["model_version"],
            "data_version": meta["training_data_fingerprint"][:12],
            "training_data_fingerprint": meta["training_data_fingerprint"],
            "test_data_fingerprint": meta["test_data_fingerprint"],
            "candidate": meta["candidate"],
        }
    )
    metric = selection["metric"]
    for result in selection["candidates"]:
        tracking.log_metrics(
            {"mean": result["cv_mean"], "stderr": result["cv_stderr"]},
            prefix=f"cv.{result['name']}.{metric}.",
        )
    chosen = next(r for r in selection["candidates"] if r["name"] == meta["candidate"])
    tracking.log_metrics({f"cv_{metric}": chosen["cv_mean"]})
    tracking.log_dict(selection, "selection.json")
    uri = tracking.log_model(config, model, X)
    if uri:
        meta["tracking_model_uri"] = uri


def _model_name(model: Any) -> str:
    inner = getattr(model, "estimator", model)
    steps = getattr(inner, "named_steps", {})
    final_step = steps.get("model", inner)
    final = type(final_step).__name__
    if hasattr(final_step, "regressor"):  # TransformedTargetRegressor: name what it wraps
        final = f"{final}({type(final_step.regressor).__name__})"
    wrapper = f" in {type(model).__name__}" if inner is not model else ""
    return f"Pipeline(ColumnTransformer, {final}){wrapper}"


def build_meta(
    config: Config, train: pd.DataFrame, features: list[Any], model: Any, positive: Any
) -> dict[str, Any]:
    """model_meta.json: what the model expects and what it predicts (read by evaluate, deploy, monitor)."""
    import numpy
    import sklearn

    from ..artifacts import load_split
    from ..split import fingerprint

    now = datetime.now(UTC)
    described = []
    for feature in features:
        entry: dict[str, Any] = {"name": feature.name, "kind": feature.kind}
        if feature.kind == "categorical":
            values = train[feature.name].dropna().astype(str).unique().tolist()
            entry["categories"] = sorted(values)
        else:
            entry["dtype"] = str(train[feature.name].dtype)
        if feature.kind == "numeric":  # the range seen in training: the service's input bounds
            values = train[feature.name].astype(float)
            if values.notna().any():
                entry["min"], entry["max"] = float(values.min()), float(values.max())
        described.append(entry)
    data_fingerprint = fingerprint(train)
    meta: dict[str, Any] = {
        "model_version": f"{now:%Y%m%dT%H%M%SZ}-{data_fingerprint[:8]}",
        "trained_at": now.isoformat(timespec="seconds"),
        "task_type": config.task.type,
        "target": config.task.target,
        "id_column": config.task.id_column,
        "features": described,
        "primary_metric": config.evaluate.primary_metric,
        "training_rows": len(train),
        "training_data_fingerprint": data_fingerprint,
        "test_data_fingerprint": fingerprint(load_split(config, "test")),
        "library_versions": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "pandas": pd.__version__,
            "numpy": numpy.__version__,
        },
    }
    if config.is_classification:
        meta["classes"] = [_plain(c) for c in model.classes_]
    if positive is not None:
        meta["positive_class"] = _plain(positive)
    return meta


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _write_reference(config: Config, model: Any, meta: dict[str, Any]) -> None:
    """The held-out test rows with the model's predictions: monitoring's picture of 'normal'."""
    from ..artifacts import load_split
    from ..predict import feature_names, predict_frame
    from ..reference import write_reference

    test = load_split(config, "test")
    keep = [c for c in (config.task.id_column,) if c and c in test.columns]
    keep += feature_names(meta) + [config.task.target]
    frame = pd.concat([test[keep], predict_frame(model, meta, test)], axis=1)
    write_reference(config, frame, meta)
    log.info("reference profile written from %d held-out rows", len(frame))


COMMANDS = {"train": run}
