"""At most `train.max_rows` training rows: a sample that keeps what matters for the split.

Above the limit, classification keeps each class's share (a stratified sample), a time split keeps
the most recent rows (the model should learn the newest behaviour), and anything else samples at
random with `split.seed`. The sample is reproducible, and `train` records how it was drawn in
model_meta.json; the model card says so.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .config import Config


def training_sample(config: Config, train: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows to fit on, and a note of how they were chosen (`sampled` False when all were)."""
    limit = config.train.max_rows
    note: dict[str, Any] = {"rows_available": len(train), "rows_used": len(train), "sampled": False}
    if limit is None or len(train) <= limit:
        return train, note
    target = train[config.task.target]
    time_column = config.split.time_column
    if config.split.method == "time" and time_column and time_column in train.columns:
        order = pd.to_datetime(train[time_column], errors="coerce").sort_values(kind="stable")
        chosen, how = (
            train.loc[order.index[-limit:]],
            f"the {limit} most recent rows by {time_column}",
        )
    elif config.is_classification and target.value_counts().min() >= 2:
        from sklearn.model_selection import train_test_split

        chosen, _ = train_test_split(
            train, train_size=limit, stratify=target, random_state=config.split.seed
        )
        how = "stratified by the target"
    else:
        chosen, how = train.sample(n=limit, random_state=config.split.seed), "at random"
    chosen = chosen.sort_index(kind="stable")
    note.update(rows_used=len(chosen), sampled=True, how=how)
    return chosen, note
