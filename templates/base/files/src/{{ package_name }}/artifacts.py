"""Reading and writing the declared files stages use to talk to each other.

data      -> data/processed/{train,test,serving}.parquet
baseline  -> artifacts/model.joblib, artifacts/baselines/{dummy,heuristic}.joblib,
             artifacts/candidates/linear.joblib (when another candidate won),
             artifacts/model_meta.json, artifacts/reference/*
evaluate  -> reports/readiness.json, reports/evaluation.md, reports/model_card.md, reports/figures/
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .config import Config
from .errors import CorruptInputError, DataError, MissingInputError

SPLITS = ("train", "test", "serving")


def read_table(path: Path, error: type[Exception] = DataError) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame; `error` for a missing or unreadable file."""
    if not path.is_file():
        raise error(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise error(f"{path}: cannot read: {err}") from err
    raise error(f"{path}: expected a .csv or .parquet file")


def iter_table(
    path: Path, chunk_rows: int, error: type[Exception] = DataError
) -> Iterator[pd.DataFrame]:
    """A CSV or Parquet file as DataFrames of at most `chunk_rows` rows, read lazily (pandas'
    `read_csv(chunksize=...)`, pyarrow's `ParquetFile.iter_batches`), so memory is bounded by one
    chunk rather than by the file; `error` for a missing or unreadable file. Empty chunks are
    skipped; each chunk's index counts rows from the start of the file."""
    if not path.is_file():
        raise error(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv", ".txt"):
        raise error(f"{path}: expected a .csv or .parquet file")
    start = 0
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            # pre_buffer (pyarrow's default) reads ahead of the batches: memory would follow the file
            with pq.ParquetFile(path, pre_buffer=False) as parquet:
                for batch in parquet.iter_batches(batch_size=chunk_rows):
                    frame = batch.to_pandas()
                    frame.index = pd.RangeIndex(start, start + len(frame))
                    start += len(frame)
                    if len(frame):
                        yield frame
            return
        with pd.read_csv(path, chunksize=chunk_rows) as reader:
            for frame in reader:
                if len(frame):
                    yield frame
    except (OSError, ValueError) as err:  # pyarrow's and pandas' parse errors are ValueErrors
        raise error(f"{path}: cannot read: {' '.join(str(err).split())[:300]}") from err


def split_path(config: Config, name: str) -> Path:
    return config.processed_dir / f"{name}.parquet"


def load_split(config: Config, name: str) -> pd.DataFrame:
    """One of the processed splits written by the data stage."""
    path = split_path(config, name)
    if not path.is_file():
        raise MissingInputError(f"{path}: not found; run `make data` first")
    return read_parquet(path, hint="run `make data` again")


def model_path(config: Config) -> Path:
    return config.artifacts_dir / "model.joblib"


def meta_path(config: Config) -> Path:
    return config.artifacts_dir / "model_meta.json"


def baseline_path(config: Config, name: str) -> Path:
    return config.artifacts_dir / "baselines" / f"{name}.joblib"


def candidate_path(config: Config, name: str) -> Path:
    """A candidate kept beside the chosen model (the linear model, when another one won)."""
    return config.artifacts_dir / "candidates" / f"{name}.joblib"


def load_estimator(path: Path) -> Any:
    """A fitted estimator saved with joblib (only load artefacts you produced yourself)."""
    import joblib

    if not path.is_file():
        raise MissingInputError(f"{path}: not found; run `make train` first")
    try:
        return joblib.load(path)
    except Exception as exc:  # a truncated or foreign pickle raises almost anything
        raise CorruptInputError(_unreadable(path, exc, "run `make train` again")) from exc


def load_model(config: Config) -> Any:
    return load_estimator(model_path(config))


def load_meta(config: Config) -> dict[str, Any]:
    return read_json(meta_path(config), hint="run `make train` first")


def read_json(path: Path, hint: str = "") -> dict[str, Any]:
    if not path.is_file():
        raise MissingInputError(f"{path}: not found" + (f"; {hint}" if hint else ""))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptInputError(_unreadable(path, exc, hint)) from exc
    if not isinstance(data, dict):
        raise CorruptInputError(
            f"{path}: expected a JSON object, found {type(data).__name__}"
            + (f"; {hint}" if hint else "")
        )
    return data


def read_parquet(path: Path, hint: str = "") -> pd.DataFrame:
    """A Parquet file an earlier stage wrote; CorruptInputError naming it when it cannot be read."""
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises its own error types for a damaged file
        raise CorruptInputError(_unreadable(path, exc, hint)) from exc


def _unreadable(path: Path, exc: BaseException, hint: str) -> str:
    """One line: the file, why it cannot be read, and what to do."""
    reason = " ".join(str(exc).split())[:200] or type(exc).__name__
    suffix = f"; {hint}" if hint else ""
    return f"{path}: cannot be read ({type(exc).__name__}: {reason}){suffix}"


def write_json(path: Path, data: Any) -> Path:
    """Write JSON atomically (a half-written report is worse than none); NaN becomes null."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_plain(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _plain(value: Any) -> Any:
    """numpy and pandas scalars to plain Python; non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value
