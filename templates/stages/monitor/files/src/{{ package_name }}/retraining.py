"""The retraining set: the original training split plus the labelled recent window.

The recent window is the prediction log (logs/predictions/, the online buffer and the archives
in logs/archive/; logstore.py), one row per scored input, with the label from the feedback file
(feedback.py) joined by prediction id, or the label logged with the prediction when it was known then (the labelled serving
window of `make deploy`). Only labelled rows are kept, each prediction id once.

`retrain.policy` in config.yaml:
    append          every original training row, then every labelled recent row
    sliding_window  the same rows in time order (original rows first), keeping only the newest
                    `retrain.window_rows`: old behaviour is forgotten as fresh labels arrive
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .config import Config
from .errors import DataError


@dataclass(frozen=True)
class RetrainingSet:
    frame: pd.DataFrame
    original_rows: int
    fresh_rows: int
    kept_rows: int
    policy: str


def read_logged_rows(config: Config, feedback: pd.DataFrame) -> pd.DataFrame:
    """prediction_id, timestamp, the raw inputs and the logged label, of the logged rows that have
    a label (logged, or in `feedback`); each id once, the latest logged. Read lazily (logreader.py):
    only labelled rows reach memory."""
    from .logreader import labelled_rows

    frame = labelled_rows(config.logs_dir, feedback)
    if frame.empty:
        return pd.DataFrame(columns=["prediction_id", "timestamp", "label"])
    if "label" not in frame.columns:
        frame["label"] = None
    frame = frame.sort_values("timestamp", kind="stable", na_position="first")
    return frame.drop_duplicates("prediction_id", keep="last").reset_index(drop=True)


def fresh_labelled(config: Config, train: pd.DataFrame) -> pd.DataFrame:
    """The labelled recent rows, shaped like the training split (target column, same dtypes)."""
    from .feedback import feedback_path, join_labels, read_feedback

    feedback = read_feedback(feedback_path(config))
    logged = join_labels(read_logged_rows(config, feedback), feedback)
    labelled = logged[logged["label"].notna()].copy()
    target = config.task.target
    labelled[target] = labelled.pop("label")
    try:
        labelled[target] = labelled[target].astype(train[target].dtype)
    except (TypeError, ValueError) as err:
        raise DataError(
            f"{config.registry.feedback}: a label cannot be read as the target's type "
            f"({train[target].dtype}): {err}"
        ) from err
    split = config.split
    time_column, group_column = split.time_column, split.group_column
    if split.method == "time" and time_column and time_column not in labelled.columns:
        # a fresh row happened when it was scored; naive UTC when the training column is naive
        stamps = pd.to_datetime(labelled["timestamp"], utc=True, errors="coerce")
        naive = getattr(train[time_column].dtype, "tz", None) is None
        labelled[time_column] = stamps.dt.tz_localize(None) if naive else stamps
    if split.method == "group" and group_column and group_column not in labelled.columns:
        labelled[group_column] = labelled["prediction_id"]  # one prediction, one group
    keep = [c for c in train.columns if c in labelled.columns]
    return labelled[keep + ["timestamp"]]


def build_retraining_set(config: Config, train: pd.DataFrame) -> RetrainingSet:
    """Original training rows + labelled recent rows, by `retrain.policy`."""
    fresh = fresh_labelled(config, train)
    if len(fresh) < config.retrain.min_labels:
        raise DataError(
            f"retrain: {len(fresh)} labelled recent rows, fewer than retrain.min_labels="
            f"{config.retrain.min_labels}; send labels back (POST /feedback, "
            f"{config.registry.feedback}) and try again"
        )
    fresh = fresh.sort_values("timestamp", kind="stable").drop(columns="timestamp")
    combined = pd.concat([train, fresh], ignore_index=True)
    if config.retrain.policy == "sliding_window":
        combined = combined.tail(config.retrain.window_rows).reset_index(drop=True)
    return RetrainingSet(
        frame=combined,
        original_rows=len(train),
        fresh_rows=len(fresh),
        kept_rows=len(combined),
        policy=config.retrain.policy,
    )
