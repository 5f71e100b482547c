"""Rows a person reviewed and marked as wrongly labelled, left out of training on request.

`analyze` writes `reports/label_review.csv`: the suspected label errors, one row each, with an empty
`wrong` column. A person copies it to `analyze.review_file` (default `data/label_review.csv`, tracked
in git: it is a decision about the data), writes `yes` in `wrong` for each row whose label is really
wrong, and runs `make train DROP_REVIEWED=1` (`python -m <package> train --drop-reviewed`).

Rows are identified by `row_id`: the value of `task.id_column` when there is one, else the row's
position in the processed train or test split (`train:17`), which holds while the data is unchanged.
"""

from __future__ import annotations

import logging

import pandas as pd

from .artifacts import read_table
from .config import Config
from .errors import DataError, MissingInputError

log = logging.getLogger(__name__)
YES = frozenset({"yes", "y", "true", "1", "wrong", "x"})


def row_ids(config: Config, frame: pd.DataFrame, split: str) -> pd.Series:
    """The stable id of each row of a processed split (see the module docstring)."""
    column = config.task.id_column
    if column and column in frame.columns:
        return frame[column].astype(str).reset_index(drop=True)
    return pd.Series([f"{split}:{i}" for i in range(len(frame))])


def marked_wrong(config: Config) -> set[str]:
    """Row ids marked wrong in the review file."""
    path = config.path(config.analyze.review_file)
    if not path.is_file():
        raise MissingInputError(
            f"{path}: not found; run `make analyze`, copy reports/label_review.csv there and mark "
            "the wrong rows with `yes` in its `wrong` column"
        )
    review = read_table(path)
    missing = [c for c in ("row_id", "wrong") if c not in review.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)} (see reports/label_review.csv)"
        )
    flags = review["wrong"].fillna("").astype(str).str.strip().str.lower()
    return set(review.loc[flags.isin(YES), "row_id"].astype(str))


def drop_reviewed(config: Config, train: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The training split without the rows marked wrong, and how many were dropped."""
    wrong = marked_wrong(config)
    ids = row_ids(config, train, "train")
    keep = ~ids.isin(wrong).to_numpy()
    dropped = int((~keep).sum())
    path = config.path(config.analyze.review_file)
    log.info("left out %d training row(s) marked wrong in %s", dropped, path)
    return train.loc[keep].reset_index(drop=True), dropped
