"""The baseline stage: `train` fits the dummy, the heuristic and the first model, then saves them with
the model's metadata and the monitoring reference profile."""

from __future__ import annotations

import argparse
import logging
import platform
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..config import Config

ORDER = 20
PIPELINE_STEP = "train"
log = logging.getLogger(__name__)


def run(config: Config, argv: list[str]) -> int:
    """Fit the dummy and heuristic baselines and the first model; save them to artifacts/."""
    parser = argparse.ArgumentParser(prog="train", description=run.__doc__)
    parser.parse_args(argv)

    import joblib

    from ..artifacts import baseline_path, load_split, meta_path, model_path, write_json
    from ..features import infer_features
    from ..models import (
        build_dummy,
        build_heuristic,
        build_model,
        decision_threshold,
        describe,
        infer_positive_class,
        with_cost_threshold,
    )

    train = load_split(config, "train")
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
    started = time.perf_counter()
    model: Any = build_model(config, features, y)
    if positive is not None:
        model = with_cost_threshold(config, model, positive)
    model.fit(X, y)
    log.info("model     %s fitted in %.1f s", _model_name(model), time.perf_counter() - started)

    config.artifacts_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_path(config))
    for name in ("dummy", "heuristic"):
        path = baseline_path(config, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(fitted[name], path)
    meta = build_meta(config, train, features, model, positive)
    meta["threshold"] = decision_threshold(model)
    meta["baselines"] = {name: describe(est) for name, est in fitted.items()}
    meta["model_description"] = _model_name(model)
    write_json(meta_path(config), meta)
    if meta["threshold"] is not None:
        log.info("decision threshold (expected cost, 5-fold CV on train): %.3f", meta["threshold"])
    _write_reference(config, model, meta)
    log.info("saved %s, baselines/ and model_meta.json", model_path(config).name)
    return 0


def _model_name(model: Any) -> str:
    inner = getattr(model, "estimator", model)
    steps = getattr(inner, "named_steps", {})
    final = type(steps["model"]).__name__ if "model" in steps else type(inner).__name__
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
