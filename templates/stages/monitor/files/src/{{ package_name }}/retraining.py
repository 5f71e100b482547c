"""The retraining set: the original training split plus the labelled recent window.

The recent window is the prediction log (logs/predictions.jsonl and its archives in logs/archive/),
one row per scored input, with the label from the feedback file (feedback.py) joined by
prediction id, or the label logged with the prediction when it was known then (the labelled serving
window of `make deploy`). Only labelled rows are kept, each prediction id once.

`retrain.policy` in config.yaml:
    append          every original training row, then every labelled recent row
    sliding_window  the same rows in time order (original rows first), keeping only the newest
                    `retrain.window_rows`: old behaviour is forgotten as fresh labels arrive
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .config import Config
from .errors import DataError

LOG_NAME = "predictions.jsonl"


@dataclass(frozen=True)
class RetrainingSet:
    frame: pd.DataFrame
    original_rows: int
    fresh_rows: int
    kept_rows: int
    policy: str


def log_files(config: Config) -> list[Path]:
    """The archived prediction logs (oldest first), then the current one."""
    archive = sorted((config.logs_dir / "archive").glob("predictions-*.jsonl"))
    current = config.logs_dir / LOG_NAME
    return [*archive, *([current] if current.is_file() else [])]


def read_logged_rows(paths: list[Path]) -> pd.DataFrame:
    """prediction_id, timestamp, the raw inputs and the logged label (when there was one)."""
    records: list[dict[str, Any]] = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if not isinstance(entry, dict) or not isinstance(entry.get("inputs"), dict):
                    continue
                if not isinstance(entry.get("prediction_id"), str):
                    continue
                row = dict(entry["inputs"])
                row["prediction_id"] = entry["prediction_id"]
                row["timestamp"] = entry.get("timestamp")
                row["label"] = entry.get("label")
                records.append(row)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return pd.DataFrame(columns=["prediction_id", "timestamp", "label"])
    return frame.drop_duplicates("prediction_id", keep="last").reset_index(drop=True)


def fresh_labelled(config: Config, train: pd.DataFrame) -> pd.DataFrame:
    """The labelled recent rows, shaped like the training split (target column, same dtypes)."""
    from .feedback import feedback_path, join_labels, read_feedback

    logged = join_labels(read_logged_rows(log_files(config)), read_feedback(feedback_path(config)))
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
