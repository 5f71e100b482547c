"""Which columns are features, and of which kind, decided once from config + data.

Not features: the target, the id column, the time and group columns used to split, and every column
listed in `features.forbidden` or `features.drop`. The text column (text tasks) is of kind "text";
numeric columns are "numeric"; everything else is "categorical".
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pandas.api import types as ptypes

from .config import Config


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # "numeric" | "categorical" | "text"


def excluded_columns(config: Config) -> set[str]:
    task, split, feats = config.task, config.split, config.features
    named = {task.target, task.id_column, split.time_column, split.group_column}
    return {c for c in named if c} | set(feats.forbidden) | set(feats.drop)


def infer_features(config: Config, frame: pd.DataFrame) -> list[Feature]:
    """The model's input columns, in the data's column order."""
    skip = excluded_columns(config)
    found = []
    for name in frame.columns:
        if name in skip:
            continue
        found.append(Feature(name=str(name), kind=column_kind(config, frame[name])))
    return found


def column_kind(config: Config, column: pd.Series) -> str:
    if config.task.type == "text_classification" and column.name == config.task.text_column:
        return "text"
    if ptypes.is_bool_dtype(column):
        return "categorical"
    if ptypes.is_numeric_dtype(column):
        return "numeric"
    return "categorical"
