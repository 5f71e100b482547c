"""Where the prediction log lives and how it is laid out: columnar parts plus an online buffer.

    logs/predictions/date=YYYY-MM-DD/part-<UTC time>-<id>.parquet   the log, one column per field
    logs/predictions.jsonl                                          the online buffer (and old logs)
    logs/archive/predictions-<UTC time>/ (and old predictions-*.jsonl)   earlier windows (`deploy`)

A row has the raw input columns, `request_id`, `row`, `prediction_id`, `timestamp`, `source`,
`model_version`, `version`, `latency_ms`, the prediction columns (`prediction`, `score` or
`proba_<class>`) and `label` when it was known at scoring time. Batch scoring writes one Parquet part
per file scored (row groups of one chunk each, memory bounded by the chunk); the service appends one
JSON line per row to the buffer, which `compact()` turns into a Parquet part (`python -m <package>
compact-log`, and first thing in `monitor` and `deploy`). Parts of one log may have different columns
(another model version, new features): readers take the union by name (DuckDB's `union_by_name`).
Logs written before the columnar layout (JSON lines) are read the same way, and `compact()` moves
the current one into Parquet; nothing is dropped: lines that cannot be parsed are kept aside in
`logs/predictions/unreadable-<time>.jsonl`.

Writers of the buffer and the compactor take an exclusive lock on the file (fcntl), so a line is
never half-written into a part, and a line written while the buffer is being compacted goes to a
new buffer, not a file being deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

BUFFER_NAME = "predictions.jsonl"
PARTS_NAME = "predictions"
ARCHIVE_NAME = "archive"
LOG_COLUMNS = (
    "request_id",
    "row",
    "prediction_id",
    "timestamp",
    "source",
    "model_version",
    "version",
    "latency_ms",
)


def buffer_path(logs_dir: Path) -> Path:
    return logs_dir / BUFFER_NAME


def parts_dir(logs_dir: Path) -> Path:
    return logs_dir / PARTS_NAME


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


@contextlib.contextmanager
def locked(handle: IO[Any]) -> Iterator[None]:
    """An exclusive lock on an open file across processes (fcntl; a no-op where there is none)."""
    try:
        import fcntl
    except ImportError:  # Windows: one process's writers are serialised by their own lock
        yield
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def append_lines(path: Path, text: str) -> None:
    """Append whole lines to the buffer under its lock. When the compactor moved the file away
    between our open and our lock, write to the new buffer instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        with path.open("a", encoding="utf-8") as handle, locked(handle):
            try:
                same = os.fstat(handle.fileno()).st_ino == path.stat().st_ino
            except FileNotFoundError:
                same = False
            if same:
                handle.write(text)
                handle.flush()
                return


# ------------------------------------------------------------------------------------ the columns


def log_frame(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    *,
    request_id: str,
    source: str,
    model_version: str,
    version: int | None,
    latency_ms: float,
    first_row: int = 0,
    labels: pd.Series | None = None,
    timestamp: str | None = None,
) -> pd.DataFrame:
    """Scored rows as log columns (vectorised: no Python object per row)."""
    n = len(inputs)
    rows = pd.RangeIndex(first_row, first_row + n)
    frame = inputs.reset_index(drop=True).copy()
    frame.columns = [str(c) for c in frame.columns]
    log_columns = {
        "request_id": request_id,
        "row": pd.Series(rows, dtype="int64"),
        "prediction_id": pd.Series(rows.astype(str), dtype=object).radd(f"{request_id}-"),
        "timestamp": timestamp or datetime.now(UTC).isoformat(),
        "source": source,
        "model_version": model_version,
        "version": pd.Series([version] * n, dtype="Int64"),
        "latency_ms": round(latency_ms, 3),
    }
    for key, value in log_columns.items():
        frame[key] = value
    for column in outputs.columns:
        frame[str(column)] = outputs[column].to_numpy()
    if labels is not None:
        frame["label"] = labels.to_numpy()
    return frame


def to_arrow(frame: pd.DataFrame) -> Any:
    """A pyarrow Table; an object column mixing types (a raw input column with numbers and text)
    is kept as text rather than refused."""
    import pyarrow as pa

    arrays, names = [], []
    for name in frame.columns:
        column = frame[name]
        try:
            array = pa.array(column, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            array = pa.array(
                [None if _missing(v) else str(v) for v in column.tolist()], type=pa.string()
            )
        arrays.append(array)
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)


def writer_options(schema: Any) -> dict[str, Any]:
    """ParquetWriter options for scored rows: zstd, and dictionary encoding only for text columns
    (ids excepted). Trying dictionaries on float columns of real data costs more than the write
    (3.4 s vs 0.9 s per million logged rows, bench/bench_scale.py) and saves nothing."""
    import pyarrow as pa

    text = [
        f.name
        for f in schema
        if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        and f.name != "prediction_id"
    ]
    return {"compression": "zstd", "use_dictionary": text}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


class PartWriter:
    """Rows of one job into Parquet parts, staged beside the log and moved into place by commit()
    (nothing of a job that fails half-way is ever read). One part while the columns keep their
    types; a chunk whose types cannot be cast to the open part's starts another part."""

    def __init__(self, logs_dir: Path, name: str) -> None:
        self.logs_dir = logs_dir
        self.name = name
        self.staging = parts_dir(logs_dir) / f".staging-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.files: list[Path] = []
        self._writer: Any = None
        self._schema: Any = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow.parquet as pq

        if frame.empty:
            return
        table = to_arrow(frame)
        if self._writer is not None:
            try:
                table = table.select(self._schema.names).cast(self._schema)
            except (KeyError, ValueError, NotImplementedError, TypeError):
                self._close_writer()  # another shape: a new part (readers take the union by name)
        if self._writer is None:
            self.staging.mkdir(parents=True, exist_ok=True)
            path = self.staging / f"part-{_stamp()}-{self.name}-{len(self.files)}.parquet"
            self._schema = table.schema
            self._writer = pq.ParquetWriter(path, self._schema, **writer_options(self._schema))
            self.files.append(path)
        self._writer.write_table(table)
        self.rows += len(frame)

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def commit(self) -> list[Path]:
        """Move the staged parts into today's partition; returns their final paths."""
        self._close_writer()
        folder = parts_dir(self.logs_dir) / f"date={datetime.now(UTC):%Y-%m-%d}"
        done = []
        if self.files:
            folder.mkdir(parents=True, exist_ok=True)
        for path in self.files:
            target = folder / path.name
            path.replace(target)
            done.append(target)
        self.discard()
        return done

    def discard(self) -> None:
        """Drop whatever was staged (a failed job); safe to call twice."""
        self._close_writer()
        for path in self.files:
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.staging.rmdir()


# ------------------------------------------------------------------------------------ JSON lines


def flatten(entry: dict[str, Any]) -> dict[str, Any]:
    """One JSON-lines record as log columns."""
    row = dict(entry["inputs"])
    for key in LOG_COLUMNS:
        if key in entry:
            row[key] = entry[key]
    for key in ("prediction", "score", "label"):
        if key in entry:
            row[key] = entry[key]
    for label, value in (entry.get("probas") or {}).items():
        row[f"proba_{label}"] = value
    return row


def read_jsonl(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """A JSON-lines log as log columns, and the lines that could not be read (kept, not lost)."""
    records, bad = [], []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                bad.append(line)
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("inputs"), dict):
                bad.append(line)
                continue
            records.append(flatten(entry))
    return pd.DataFrame.from_records(records), bad


# ------------------------------------------------------------------------------------ maintenance


def compact(logs_dir: Path) -> int:
    """Move the online buffer (JSON lines) into a Parquet part; returns the rows moved."""
    buffer = buffer_path(logs_dir)
    if not buffer.is_file() or buffer.stat().st_size == 0:
        return 0
    folder = parts_dir(logs_dir)
    folder.mkdir(parents=True, exist_ok=True)
    moving = folder / f".compacting-{os.getpid()}-{_stamp()}.jsonl"
    buffer.replace(moving)  # new lines go to a new buffer from here on
    with moving.open("rb") as handle, locked(handle):
        pass  # a writer that opened the old buffer before the move has finished its line
    frame, bad = read_jsonl(moving)
    writer = PartWriter(logs_dir, "online")
    try:
        writer.write(frame)
        writer.commit()
    except BaseException:
        writer.discard()
        _put_back(moving, buffer)
        raise
    if bad:
        (folder / f"unreadable-{_stamp()}.jsonl").write_text("".join(bad), encoding="utf-8")
    moving.unlink()
    return len(frame)


def _put_back(moving: Path, buffer: Path) -> None:
    """A compaction that failed: its lines go back to the buffer (after any written meanwhile;
    readers order rows by time, not by their place in the file)."""
    if not buffer.exists():
        moving.replace(buffer)
        return
    append_lines(buffer, moving.read_text(encoding="utf-8", errors="replace"))
    moving.unlink()


def rotate(logs_dir: Path, keep: int = 10) -> Path | None:
    """Start a new window: the current log (after compaction) moves to
    logs/archive/predictions-<UTC time>/, keeping the `keep` newest archives."""
    compact(logs_dir)
    current = parts_dir(logs_dir)
    if not any(current.glob("date=*/*.parquet")):
        return None
    archive = logs_dir / ARCHIVE_NAME
    archive.mkdir(parents=True, exist_ok=True)
    target = archive / f"{PARTS_NAME}-{_stamp()}"
    current.replace(target)
    old = sorted(archive.glob(f"{PARTS_NAME}-*"))
    for path in old[:-keep]:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return target


# ------------------------------------------------------------------------------------ reading


def sources(logs_dir: Path, archived: bool = False) -> tuple[list[Path], list[Path]]:
    """(Parquet parts, JSON-lines files) of the current log, oldest first; with `archived`, the
    archived windows' too (before the current one)."""
    roots: list[Path] = []
    jsonl: list[Path] = []
    if archived:
        for path in sorted((logs_dir / ARCHIVE_NAME).glob(f"{PARTS_NAME}-*")):
            (roots if path.is_dir() else jsonl).append(path)
    roots.append(parts_dir(logs_dir))
    parts = [p for root in roots for p in sorted(root.glob("date=*/*.parquet"))]
    buffer = buffer_path(logs_dir)
    if buffer.is_file() and buffer.stat().st_size:
        jsonl.append(buffer)
    return parts, [p for p in jsonl if p.suffix == ".jsonl"]


def has_log(logs_dir: Path) -> bool:
    parts, jsonl = sources(logs_dir)
    return bool(parts or jsonl)


def contains_id(parts: list[Path], prediction_id: str) -> bool:
    """Whether a Parquet part logged this prediction id (reads only that column; row groups whose
    min/max statistics exclude the id are skipped)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    if not parts:
        return False
    schema = pa.schema([("prediction_id", pa.string())])
    dataset = ds.dataset([str(p) for p in parts], format="parquet", schema=schema)
    found = dataset.to_table(
        columns=["prediction_id"], filter=ds.field("prediction_id") == prediction_id
    )
    return bool(found.num_rows)


def read_log(logs_dir: Path, archived: bool = False) -> pd.DataFrame:
    """The whole log in memory, oldest first: for small logs, tools and tests (the monitor and
    retraining read it lazily instead, logreader.py)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts, jsonl = sources(logs_dir, archived=archived)
    frames = []
    if parts:
        tables = [pq.read_table(p) for p in parts]
        frames.append(pa.concat_tables(tables, promote_options="permissive").to_pandas())
    frames += [read_jsonl(p)[0] for p in jsonl]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(LOG_COLUMNS))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    order = [c for c in ("timestamp", "request_id", "row") if c in frame.columns]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)
