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


def read_training_sample(
    config: Config, name: str = "train"
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """training_sample() on a processed split, reading only what it needs: when the file has more than
    `train.max_rows` rows, the target (and time) column first, to choose the rows (the same rows as
    on the whole frame: the choice depends on those columns alone), then only the chosen rows, one
    row group at a time. A split larger than memory is never loaded whole."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .artifacts import load_split, split_path

    limit, path = config.train.max_rows, split_path(config, name)
    try:
        with pq.ParquetFile(path) as file:
            rows = file.metadata.num_rows
    except Exception:  # missing or damaged: load_split names the file and what to do
        rows = None
    if limit is None or rows is None or rows <= limit:
        return training_sample(config, load_split(config, name))
    columns = [config.task.target]
    time_column = config.split.time_column
    if config.split.method == "time" and time_column:
        columns.append(time_column)
    keys = pd.read_parquet(path, columns=columns)
    chosen, note = training_sample(config, keys)
    wanted = np.sort(keys.index.get_indexer(chosen.index))  # positions in the file, in file order
    pieces, start = [], 0
    with pq.ParquetFile(path) as file:
        for group in range(file.num_row_groups):
            size = file.metadata.row_group(group).num_rows
            here = wanted[(wanted >= start) & (wanted < start + size)] - start
            if len(here):
                pieces.append(file.read_row_group(group).take(pa.array(here)))
            start += size
    frame = pa.concat_tables(pieces).to_pandas()
    return frame.sort_index(kind="stable"), note
