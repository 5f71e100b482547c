"""One way to turn raw rows into prediction columns, shared by evaluation, batch scoring and the service.

`predict_frame(model, meta, frame)` returns `prediction`, plus `score` = P(positive class) for binary
tasks or one `proba_<class>` column per class for multiclass and text tasks. Using this single function
everywhere is what keeps training, evaluation and serving from drifting apart (no skew).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError


def feature_names(meta: dict[str, Any]) -> list[str]:
    return [str(f["name"]) for f in meta["features"]]


def feature_frame(meta: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    """The model's raw input columns, in training order; extra columns are ignored."""
    names = feature_names(meta)
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise DataError(f"input is missing feature column(s): {', '.join(missing)}")
    return frame[names]


def proba_column(label: Any) -> str:
    return f"proba_{label}"


def predict_frame(model: Any, meta: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    """Predictions for every row of `frame` (index preserved)."""
    features = feature_frame(meta, frame)
    out = pd.DataFrame(index=frame.index)
    out["prediction"] = model.predict(features)
    task = meta["task_type"]
    if task == "regression":
        out["prediction"] = out["prediction"].astype(float)
        return out
    proba = np.asarray(model.predict_proba(features), dtype=float)
    classes = [str(c) for c in model.classes_]
    if task == "binary_classification":
        out["score"] = proba[:, classes.index(str(meta["positive_class"]))]
    else:
        for i, label in enumerate(classes):
            out[proba_column(label)] = proba[:, i]
    return out
