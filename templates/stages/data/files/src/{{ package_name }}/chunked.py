"""The data stage for data larger than memory: a CSV or Parquet source with more rows than
`data.chunk_rows` is read, checked and split `chunk_rows` rows at a time.

Two passes over the source, each holding one chunk:
1. every chunk is checked against the data contract and validated (pandera, the same schema rules
   as the in-memory path, the whole-data rules on counts gathered across chunks), and a few numbers
   per row are kept: the target (class codes or values, for stratifying), the time or group column
   when the split uses one, and a hash of the row (duplicates) and of the id (unique ids). That is
   about 40 bytes a row, whatever the width of the data.
2. the rows are split with the same rules as split.py, applied to those per-row numbers: the same
   scikit-learn calls on the same sizes and seed, so the splits hold the same source rows as the
   in-memory path would give; every chunk is validated again and its rows appended to the split
   files (pyarrow's ParquetWriter, one schema for all chunks, agreed in pass 1).
The sample and SQL sources stay in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import Config
from .errors import DataError
from .ingest import SOURCE_ROW, _location, describe_source, parse_time
from .schema import validate, validate_target
from .split import SPLITS, _sizes, digest_rows, row_digests, row_hashes

log = logging.getLogger(__name__)


def chunks(config: Config) -> Iterator[pd.DataFrame]:
    """The source `data.chunk_rows` rows at a time, each numbered by its row in the source and with
    the time column parsed, as load_raw() gives the whole of it."""
    where = _location(config, str(config.data.path))
    size = config.data.chunk_rows
    start = 0
    try:
        if config.data.source == "csv":
            reader: Any = pd.read_csv(where, chunksize=size)
        else:
            import pyarrow.parquet as pq

            file = pq.ParquetFile(where, pre_buffer=False)  # pre-buffering follows the file's size
            reader = (batch.to_pandas() for batch in file.iter_batches(batch_size=size))
        for chunk in reader:
            chunk.columns = [str(c) for c in chunk.columns]
            chunk.index = pd.RangeIndex(start, start + len(chunk), name=SOURCE_ROW)
            parse_time(config, chunk, first_row=start)
            start += len(chunk)
            yield chunk
    except FileNotFoundError as err:
        raise DataError(f"{where}: file not found (config.yaml: data.path)") from err
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as err:
        raise DataError(f"{where}: not readable near row {start}: {err}") from err


def is_large(config: Config) -> bool:
    """True for a CSV or Parquet source with more rows than data.chunk_rows."""
    if config.data.source not in ("csv", "parquet"):
        return False
    where = _location(config, str(config.data.path))
    if config.data.source == "parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(where).metadata.num_rows) > config.data.chunk_rows
        except (FileNotFoundError, OSError, ValueError):
            return False  # the in-memory path names the problem
    try:
        with open(where, "rb") as handle:  # a cheap upper bound first: lines, not parsed rows
            lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return False
    if lines <= config.data.chunk_rows:
        return False
    counted = sum(len(c) for c in _take(chunks(config), 2))  # quoted newlines: count parsed rows
    return counted > config.data.chunk_rows


def _take(items: Iterator[pd.DataFrame], n: int) -> list[pd.DataFrame]:
    taken = []
    for item in items:
        taken.append(item)
        if len(taken) == n:
            break
    return taken


@dataclass
class Rows:
    """What pass 1 keeps of every row."""

    target: list[np.ndarray] = field(default_factory=list)
    time: list[np.ndarray] = field(default_factory=list)
    group: list[np.ndarray] = field(default_factory=list)
    content: list[np.ndarray] = field(default_factory=list)
    ids: list[np.ndarray] = field(default_factory=list)
    schema: Any = None
    empty: dict[str, Any] = field(default_factory=dict)  # the first type of a column seen empty

    def add(self, config: Config, frame: pd.DataFrame) -> None:
        import pyarrow as pa

        target = frame[config.task.target]  # raw values: stratifying sorts the classes as split.py
        regression = config.task.type == "regression"
        self.target.append(target.to_numpy(dtype=float) if regression else target.to_numpy())
        split = config.split
        if split.method == "time" and split.time_column:
            self.time.append(frame[split.time_column].to_numpy(dtype="datetime64[ns]"))
        if split.method == "group" and split.group_column:
            self.group.append(frame[split.group_column].astype(str).to_numpy(dtype=object))
        self.content.append(row_hashes(config, frame).to_numpy())
        if config.task.id_column:
            ids = pd.util.hash_pandas_object(frame[config.task.id_column].astype(str), index=False)
            self.ids.append(ids.to_numpy())
        schema = pa.Schema.from_pandas(frame, preserve_index=True)
        for name in frame.columns[frame.isna().all().to_numpy()]:  # empty here: typed by the others
            index = schema.get_field_index(str(name))
            self.empty.setdefault(str(name), schema.field(index).type)
            schema = schema.set(index, schema.field(index).with_type(pa.null()))
        self.unify(schema)

    def unify(self, schema: Any) -> None:
        """One Arrow schema for every chunk's rows (a column empty in one chunk takes the type the
        others give it; whole numbers in one and numbers in another are numbers)."""
        import pyarrow as pa

        if self.schema is None:
            self.schema = schema
            return
        try:
            self.schema = pa.unify_schemas([self.schema, schema], promote_options="permissive")
        except (pa.ArrowTypeError, pa.ArrowInvalid) as err:
            raise DataError(
                f"a column holds different kinds of values in different chunks ({err}); fix the"
                " column, or raise data.chunk_rows"
            ) from err

    def extend(self, other: Rows) -> None:
        """Append the rows `other` kept (the next rows of the source)."""
        for name in ("target", "time", "group", "content", "ids"):
            getattr(self, name).extend(getattr(other, name))
        for name, kind in other.empty.items():
            self.empty.setdefault(name, kind)
        if other.schema is not None:
            self.unify(other.schema)

    def written_schema(self) -> Any:
        """The split files' schema: the unified one, with a column empty in every chunk typed as
        pandas read it (float64 from a CSV), as the whole-frame path writes it."""
        import pyarrow as pa

        schema = self.schema
        for index, item in enumerate(schema):
            if pa.types.is_null(item.type) and item.name in self.empty:
                schema = schema.set(index, item.with_type(self.empty[item.name]))
        return schema


def run_chunked(config: Config, check_contract: Any, learn_contract: Any) -> dict[str, Any]:
    """Pass 1, the split, pass 2; returns the summary the in-memory path writes.
    `check_contract(frame, where)` checks a chunk against the contract; `learn_contract(frame)` writes
    it from the first validated chunk when there is none yet (or --update-schema)."""
    source = describe_source(config)
    rows = Rows()
    n = 0
    for number, chunk in enumerate(chunks(config)):
        where = f"{source} (rows {n}-{n + len(chunk) - 1})"
        check_contract(chunk, where)
        checked = validate(config, chunk, where=where, whole=False)
        if number == 0:
            learn_contract(checked)
        rows.add(config, checked)
        n += len(chunk)
        log.info("checked %d rows", n)

    def write(labels: np.ndarray, out: Path) -> dict[str, str]:
        return _write_splits(config, rows.written_schema(), labels, out, source)

    summary = split_and_write(config, rows, n, source, write)
    summary["chunked"] = {"rows": n, "chunk_rows": config.data.chunk_rows}
    return summary


def split_and_write(
    config: Config,
    rows: Rows,
    n: int,
    source: str,
    write: Callable[[np.ndarray, Path], dict[str, str]],
) -> dict[str, Any]:
    """What follows pass 1, whoever ran it (this module, or Spark: spark_data.py): the whole-data
    rules, each row's split, `write(labels, out)` writing the split files (it returns their
    fingerprints), and the summary the in-memory path writes."""
    if n == 0:
        raise DataError(f"{source}: no rows")
    _whole_data_checks(config, rows, source)
    labels, duplicates = _assign(config, rows, n)
    out = config.processed_dir
    out.mkdir(parents=True, exist_ok=True)
    written = write(labels, out)
    summary: dict[str, Any] = {
        "source": source,
        "method": config.split.method,
        "duplicates": duplicates,
        "splits": {},
    }
    for index, name in enumerate(SPLITS):
        info: dict[str, Any] = {"rows": int((labels == index).sum()), "fingerprint": written[name]}
        if config.is_classification:
            target = np.concatenate(rows.target)[labels == index]
            shares = pd.Series(target).astype(str).value_counts(normalize=True).sort_index()
            info["class_shares"] = {k: round(float(v), 4) for k, v in shares.items()}
        summary["splits"][name] = info
        log.info("%-7s %5d rows -> %s", name, info["rows"], out / f"{name}.parquet")
    return summary


def _whole_data_checks(config: Config, rows: Rows, source: str) -> None:
    """The schema's whole-data rules (schema.validate_target) on the target kept across chunks,
    and unique ids across chunks (each chunk's own ids were checked with it)."""
    target = np.concatenate(rows.target)
    values = pd.Series(target if config.task.type == "regression" else pd.Categorical(target))
    validate_target(config, values, where=source)
    if config.task.id_column:
        ids = np.concatenate(rows.ids)
        if len(np.unique(ids)) < len(ids):
            raise DataError(f"{source}: column '{config.task.id_column}': ids repeat across chunks")


def _assign(config: Config, rows: Rows, n: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Each source row's split (0 train, 1 test, 2 serving, -1 dropped), as split.py would choose
    on the whole frame; and the duplicate report."""
    content = np.concatenate(rows.content)
    duplicated = pd.Series(content).duplicated().to_numpy()
    kept = ~duplicated if config.data.duplicates == "drop" else np.ones(n, dtype=bool)
    if duplicated.any():
        log.warning(
            "%d exact duplicate row(s) (%.1f%%) %s",
            int(duplicated.sum()),
            100 * duplicated.mean(),
            "dropped before splitting" if config.data.duplicates == "drop" else "kept",
        )
    positions = np.flatnonzero(kept)
    method = config.split.method
    if method == "time":
        chosen = _by_time(config, np.concatenate(rows.time)[positions])
    elif method == "group":
        chosen = _by_group(config, np.concatenate(rows.group)[positions])
    else:
        chosen = _random(config, rows, positions, stratify=method == "stratified")
    labels = np.full(n, -1, dtype=np.int8)
    labels[positions] = chosen
    for index, name in enumerate(SPLITS):
        if not (labels == index).any():
            raise DataError(f"split '{name}' is empty; the data is too small for split.{method}")
    train = content[labels == 0]
    report: dict[str, Any] = {
        "policy": config.data.duplicates,
        "rows": int(duplicated.sum()),
        "share": round(float(duplicated.mean()), 4),
    }
    for index, name in ((1, "test"), (2, "serving")):
        report[f"{name}_rows_in_train"] = int(np.isin(content[labels == index], train).sum())
    return labels, report


def _random(config: Config, rows: Rows, positions: np.ndarray, stratify: bool) -> np.ndarray:
    """split._random on row positions: the same calls, the same rows."""
    from sklearn.model_selection import train_test_split

    target = np.concatenate(rows.target)[positions]
    n_test, n_serving = _sizes(config, len(positions))
    seed = config.split.seed
    order = np.arange(len(positions))
    rest, serving = train_test_split(
        order, test_size=n_serving, random_state=seed, stratify=_strata(config, target, stratify)
    )
    train, test = train_test_split(
        rest,
        test_size=n_test,
        random_state=seed + 1,
        stratify=_strata(config, target[rest], stratify),
    )
    chosen = np.zeros(len(positions), dtype=np.int8)
    chosen[test], chosen[serving] = 1, 2
    return chosen


def _strata(config: Config, target: np.ndarray, stratify: bool) -> Any:
    if not stratify:
        return None
    if config.task.type == "regression":
        return pd.qcut(pd.Series(target).rank(method="first"), q=5, labels=False).to_numpy()
    return target


def _by_time(config: Config, times: np.ndarray) -> np.ndarray:
    """split._by_time: cut at timestamps, so rows sharing one stay in one split."""
    ordered = np.sort(times, kind="stable")
    n_test, n_serving = _sizes(config, len(ordered))
    n_train = len(ordered) - n_test - n_serving
    test_start, serving_start = ordered[n_train], ordered[n_train + n_test]
    chosen = np.zeros(len(times), dtype=np.int8)
    chosen[(times >= test_start) & (times < serving_start)] = 1
    chosen[times >= serving_start] = 2
    return chosen


def _by_group(config: Config, groups: np.ndarray) -> np.ndarray:
    """split._by_group: the same shuffled groups filling serving, then test, then train."""
    unique, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    if len(unique) < 3:
        raise DataError(
            f"column '{config.split.group_column}': a group split needs at least 3 groups, "
            f"found {len(unique)}"
        )
    shuffled = np.arange(len(unique))
    np.random.default_rng(config.split.seed).shuffle(shuffled)
    n_test, n_serving = _sizes(config, len(groups))
    assigned = np.zeros(len(unique), dtype=np.int8)
    filled = {2: 0, 1: 0}
    for group in shuffled:
        target = 2 if filled[2] < n_serving else (1 if filled[1] < n_test else 0)
        assigned[group] = target
        if target:
            filled[target] += int(counts[group])
    return assigned[inverse]


class SplitFiles:
    """One Parquet file per split, written beside its place (`.train.parquet.part`) and moved into
    place by commit() once every row is written; leaving the `with` block without commit() (an
    error) removes the parts, so a failed run writes nothing."""

    def __init__(self, out: Path, schema: Any) -> None:
        import pyarrow.parquet as pq

        from .logstore import writer_options

        self.out, self.schema = out, schema
        self.parts = {name: out / f".{name}.parquet.part" for name in SPLITS}
        self.writers: dict[str, Any] = {}
        try:
            for name, path in self.parts.items():
                self.writers[name] = pq.ParquetWriter(path, schema, **writer_options(schema))
        except BaseException:
            self.__exit__()
            raise

    def write(self, name: str, table: Any) -> None:
        """Append `table`'s rows (pandas' columns and index, as validated) to split `name`."""
        self.writers[name].write_table(table.select(self.schema.names).cast(self.schema))

    def commit(self) -> None:
        for name in SPLITS:
            self.writers[name].close()
            self.parts[name].replace(self.out / f"{name}.parquet")

    def __enter__(self) -> SplitFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for writer in self.writers.values():
            writer.close()
        for part in self.parts.values():
            part.unlink(missing_ok=True)


def _write_splits(
    config: Config, schema: Any, labels: np.ndarray, out: Path, source: str
) -> dict[str, str]:
    """Pass 2: every chunk validated again and its rows appended to their split's file; returns
    each split's fingerprint (split.fingerprint of its rows as validated, chunk by chunk)."""
    import pyarrow as pa

    digests: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    n = 0
    with SplitFiles(out, schema) as files:
        for chunk in chunks(config):
            where = f"{source} (rows {n}-{n + len(chunk) - 1})"
            checked = validate(config, chunk, where=where, whole=False)
            chosen = labels[n : n + len(chunk)]
            for index, name in enumerate(SPLITS):
                part = checked[chosen == index]
                if not part.empty:
                    files.write(name, pa.Table.from_pandas(part, preserve_index=True))
                    digests[name].append(row_digests(part))
            n += len(chunk)
        files.commit()
    return {name: digest_rows(np.concatenate(pieces or [[]])) for name, pieces in digests.items()}
