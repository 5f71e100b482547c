"""Splitting into train / test / serving, as config.yaml's `split` says, and proving no leakage.

- stratified: random, with each split keeping the class shares (regression: the target's quintiles);
- random: plain random;
- time: ordered by the time column; train is the oldest part, then test, then serving (the newest);
- group: every value of the group column lands in exactly one split.
Every row keeps its source row number (the index, `source_row`). Exact duplicate rows (all columns
but the id) are kept by default (`data.duplicates: keep`: distinct people can give identical
answers) and counted, with how many test and serving rows have an identical row in train
(`duplicate_report`); `data.duplicates: drop` drops them before splitting. `leakage_problems()`
is the check the tests and the readiness gate both use: no source row, id or group in two splits
(and no row content, when duplicates are dropped), and time order.
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from .config import Config
from .errors import DataError
from .ingest import SOURCE_ROW

SPLITS = ("train", "test", "serving")
log = logging.getLogger(__name__)


MISSING = np.uint64(0x9E3779B97F4A7C15)  # the hash of a missing value, whatever the column's type
MIX = np.uint64(0x100000001B3)


def row_digests(frame: pd.DataFrame, columns: list[str] | None = None) -> np.ndarray:
    """A stable 64-bit hash of each row's values in `columns` (default: all). Numbers are hashed as
    floats (1 and 1.0 are one value), dates/times as instants, anything else as its text, a missing
    value as one constant: so a row hashes alike whichever way its chunk of the file was typed (a
    column empty in one chunk is read as float there, as text elsewhere; None and NaN are both
    missing), and hashing is fast (formatting every number as text would cost more than the split)."""
    digest = np.zeros(len(frame), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in frame.columns if columns is None else columns:
            values = frame[column]
            numeric = ptypes.is_numeric_dtype(values) and not ptypes.is_bool_dtype(values)
            if numeric:
                hashed = pd.util.hash_array(values.to_numpy(dtype="float64"))
            elif ptypes.is_datetime64_any_dtype(values):  # as text, midnight-only chunks differ
                hashed = pd.util.hash_array(_instants(values))
            else:
                hashed = pd.util.hash_array(values.astype(str).to_numpy(dtype=object))
            hashed = np.where(values.isna().to_numpy(), MISSING, hashed)
            digest = digest * MIX ^ hashed
    return digest


def _instants(values: pd.Series) -> np.ndarray:
    """Dates/times as nanoseconds since the epoch (UTC for zoned ones; NaT is masked by the caller)."""
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.to_numpy(dtype="datetime64[ns]").view("int64")


def row_hashes(config: Config, frame: pd.DataFrame) -> pd.Series:
    """Each row's content hash (every column but the id), to find exact duplicates."""
    columns = [str(c) for c in frame.columns if c != config.task.id_column]
    return pd.Series(row_digests(frame, columns), index=frame.index, dtype="uint64")


def deduplicate(config: Config, frame: pd.DataFrame) -> pd.DataFrame:
    """Drop exact duplicates when data.duplicates is drop; the rows left keep their source row."""
    duplicated = row_hashes(config, frame).duplicated().to_numpy()
    if not duplicated.any():
        return frame
    share = duplicated.mean()
    if config.data.duplicates == "keep":
        log.warning(
            "%d exact duplicate row(s) (%.1f%%) kept (data.duplicates: keep); the evaluation report"
            " counts the test rows with an identical row in train",
            int(duplicated.sum()),
            100 * share,
        )
        return frame
    log.warning(
        "dropped %d exact duplicate row(s) (%.1f%%) before splitting", duplicated.sum(), 100 * share
    )
    return frame.loc[~duplicated]


def duplicate_report(
    config: Config, raw: pd.DataFrame, parts: dict[str, pd.DataFrame]
) -> dict[str, object]:
    """How many rows duplicate an earlier row, and how many test / serving rows have an identical
    row (every column but the id) in train: the leak duplicates cause when they are kept."""
    duplicated = row_hashes(config, raw).duplicated()
    train = set(row_hashes(config, parts["train"]).tolist()) if "train" in parts else set()
    report: dict[str, object] = {
        "policy": config.data.duplicates,
        "rows": int(duplicated.sum()),
        "share": round(float(duplicated.mean()), 4) if len(raw) else 0.0,
    }
    for name in ("test", "serving"):
        if name in parts:
            report[f"{name}_rows_in_train"] = int(row_hashes(config, parts[name]).isin(train).sum())
    return report


def split_frame(config: Config, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    method = config.split.method
    if method == "time":
        parts = _by_time(config, frame)
    elif method == "group":
        parts = _by_group(config, frame)
    else:
        parts = _random(config, frame, stratify=method == "stratified")
    for name, part in parts.items():
        if part.empty:
            raise DataError(f"split '{name}' is empty; the data is too small for split.{method}")
    return parts


def _sizes(config: Config, n: int) -> tuple[int, int]:
    n_serving = max(1, round(n * config.split.serving_size))
    n_test = max(1, round(n * config.split.test_size))
    return n_test, n_serving


def _random(config: Config, frame: pd.DataFrame, stratify: bool) -> dict[str, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    n_test, n_serving = _sizes(config, len(frame))
    seed = config.split.seed
    rest, serving = train_test_split(
        frame, test_size=n_serving, random_state=seed, stratify=_strata(config, frame, stratify)
    )
    train, test = train_test_split(
        rest, test_size=n_test, random_state=seed + 1, stratify=_strata(config, rest, stratify)
    )
    return {"train": train, "test": test, "serving": serving}


def _strata(config: Config, frame: pd.DataFrame, stratify: bool) -> pd.Series | None:
    if not stratify:
        return None
    target = frame[config.task.target]
    if config.task.type == "regression":
        return pd.qcut(target.rank(method="first"), q=5, labels=False)
    return target


def _by_time(config: Config, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    column = str(config.split.time_column)
    ordered = frame.sort_values(column, kind="stable")
    n_test, n_serving = _sizes(config, len(ordered))
    n_train = len(ordered) - n_test - n_serving
    times = ordered[column]
    # Cut at timestamps, not positions, so rows sharing a timestamp stay in one split.
    test_start = times.iloc[n_train]
    serving_start = times.iloc[n_train + n_test]
    return {
        "train": ordered[times < test_start],
        "test": ordered[(times >= test_start) & (times < serving_start)],
        "serving": ordered[times >= serving_start],
    }


def _by_group(config: Config, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    column = str(config.split.group_column)
    groups = frame[column].astype(str)
    unique = np.array(sorted(groups.unique()))
    if len(unique) < 3:
        raise DataError(
            f"column '{column}': a group split needs at least 3 groups, found {len(unique)}"
        )
    rng = np.random.default_rng(config.split.seed)
    rng.shuffle(unique)
    sizes = groups.value_counts()
    n_test, n_serving = _sizes(config, len(frame))
    assigned: dict[str, str] = {}
    filled = {"serving": 0, "test": 0}
    for group in unique:
        if filled["serving"] < n_serving:
            target = "serving"
        elif filled["test"] < n_test:
            target = "test"
        else:
            target = "train"
        assigned[group] = target
        if target in filled:
            filled[target] += int(sizes[group])
    labels = groups.map(assigned)
    return {name: frame[labels == name] for name in SPLITS}


def leakage_problems(config: Config, parts: dict[str, pd.DataFrame]) -> list[str]:
    """Empty when no id, row content or group is in two splits and time order holds."""
    problems: list[str] = []
    names = [n for n in SPLITS if n in parts]
    keys: list[tuple[str, object]] = [("source row", SOURCE_ROW)]
    if config.data.duplicates == "drop":
        keys.append(("row content", None))
    if config.task.id_column:
        keys.append((f"id '{config.task.id_column}'", config.task.id_column))
    if config.split.method == "group" and config.split.group_column:
        keys.append((f"group '{config.split.group_column}'", config.split.group_column))
    for label, column in keys:
        values = {name: _keys(config, parts[name], column) for name in names}
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                shared = values[first] & values[second]
                if shared:
                    problems.append(f"{len(shared)} {label} value(s) in both {first} and {second}")
    if config.split.method == "time" and config.split.time_column:
        column = config.split.time_column
        for earlier, later in zip(names, names[1:], strict=False):
            if parts[earlier][column].max() >= parts[later][column].min():
                problems.append(f"time order broken: {earlier} reaches into {later} ('{column}')")
    return problems


def _keys(config: Config, part: pd.DataFrame, column: object) -> set[object]:
    if column is None:
        return set(row_hashes(config, part).tolist())
    if column == SOURCE_ROW:
        return set(part.index.tolist()) if part.index.name == SOURCE_ROW else set()
    return set(part[column].astype(str).tolist())


def fingerprint(frame: pd.DataFrame) -> str:
    """A short content hash of a split (its rows in order, every column), recorded so later stages
    can tell which data they saw; the same for the file as for the frame it was written from."""
    return digest_rows(row_digests(frame))


def digest_rows(digests: np.ndarray) -> str:
    """fingerprint() from the rows' row_digests, for a split gathered piece by piece."""
    return hashlib.sha256(np.ascontiguousarray(digests, dtype=np.uint64).tobytes()).hexdigest()[:16]
