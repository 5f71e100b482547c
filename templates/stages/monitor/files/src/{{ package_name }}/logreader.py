"""Reading the prediction log lazily, with DuckDB (the layout: logstore.py).

DuckDB scans the Parquet parts column by column, filters and counts without loading the log, and
spills to disk beyond `MEMORY_LIMIT`, so a window of ten million logged rows is read in seconds and
bounded memory. (pyarrow alone would need the window's rows in memory to sample or sort them;
Polars would do, but DuckDB's SQL also reads the buffer and legacy JSON-lines logs beside the parts
with `UNION ALL BY NAME`.)

`read_window` gives the monitor its window: every logged row in the time range when there are at
most `monitor.sample_rows` of them (the same rows, in log order, as the JSON-lines reader gave
before the columnar layout), else a uniform random sample of that many rows, drawn with a fixed
seed. Counting and sampling run over the whole window; the checks then judge the sample, and their
noise thresholds use the sample's size. `labelled_rows` gives retraining only the rows that carry a
label (logged, or sent back later), never the whole log.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .logstore import read_jsonl, sources

MEMORY_LIMIT = "1GB"
SEED = 20240601
ORDER = "ORDER BY timestamp, request_id, row"


@dataclass(frozen=True)
class Window:
    frame: pd.DataFrame
    rows: int  # rows in the window (all of them, not only the sample)
    unreadable: int  # lines of JSON-lines logs that could not be read


class LogMissing(LookupError):
    """No prediction log under logs/."""


def connect() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{Path(tempfile.gettempdir()) / 'duckdb-spill'}'")
    con.execute("SET preserve_insertion_order = false")
    return con


def open_log(con: Any, logs_dir: Path, archived: bool = False) -> tuple[str, int]:
    """Define the SQL view `log` over the parts and JSON-lines files; returns (the view name,
    unreadable JSON lines). LogMissing when there is no log at all."""
    parts, jsonl = sources(logs_dir, archived=archived)
    selects, bad = [], 0
    if parts:
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
        scan = f"read_parquet([{files}], union_by_name = true, hive_partitioning = false)"
        selects.append(f"SELECT * FROM {scan}")
    frames = []
    for path in jsonl:
        frame, unreadable = read_jsonl(path)
        bad += len(unreadable)
        if not frame.empty:
            frames.append(frame)
    if frames:
        con.register("buffered_rows", pd.concat(frames, ignore_index=True))
        selects.append("SELECT * FROM buffered_rows")
    if not selects:
        raise LogMissing(f"{logs_dir}: no prediction log; run `make deploy` or serve some requests")
    con.execute("CREATE OR REPLACE TEMP VIEW log AS " + " UNION ALL BY NAME ".join(selects))
    return "log", bad


def _columns(con: Any, view: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {view}").fetchall()]


def read_window(
    logs_dir: Path, since: pd.Timestamp | None, last: int | None, sample_rows: int
) -> Window:
    """The window's rows (or a uniform sample of `sample_rows` of them), oldest first."""
    con = connect()
    try:
        view, bad = open_log(con, logs_dir)
        where, params = "", []
        if since is not None:
            where = "WHERE TRY_CAST(timestamp AS TIMESTAMPTZ) >= ?"
            params.append(since.to_pydatetime())
        selected = f"SELECT * FROM {view} {where}"
        if last is not None:
            selected = (
                f"SELECT * FROM ({selected} ORDER BY timestamp DESC, request_id DESC, row DESC "
                f"LIMIT {int(last)})"
            )
        rows = int(con.execute(f"SELECT count(*) FROM ({selected})", params).fetchone()[0])
        if rows > sample_rows:
            con.execute("SET threads = 1")  # a seeded reservoir sample is repeatable on one thread
            query = (
                f"SELECT * FROM ({selected}) USING SAMPLE reservoir({int(sample_rows)} ROWS) "
                f"REPEATABLE ({SEED})"
            )
            frame = con.execute(query, params).df()
        else:
            frame = con.execute(selected, params).df()
        order = [c for c in ("timestamp", "request_id", "row") if c in frame.columns]
        if order:
            frame = frame.sort_values(order, kind="stable", na_position="first")
        return Window(_as_loaded(frame.reset_index(drop=True)), rows, bad)
    finally:
        con.close()


def read_window_spark(
    config: Any, since: pd.Timestamp | None, last: int | None, sample_rows: int
) -> Window:
    """read_window with Spark (engine.name: spark): the window's Parquet parts are filtered, counted
    and sampled as Spark jobs (on the cluster the session reaches, spark.py); only the sample (at
    most `sample_rows` rows) comes back to this process. Windows that fit are returned whole, the
    same rows as read_window. JSON-lines files (the buffer before compaction, old logs) are read by
    read_window instead."""
    from pyspark.sql import functions as F

    from .spark import session

    parts, jsonl = sources(config.logs_dir)
    if jsonl or not parts:
        return read_window(config.logs_dir, since, last, sample_rows)
    spark = session(config)
    frame = spark.read.option("mergeSchema", "true").parquet(*[str(p) for p in parts])
    if since is not None:
        frame = frame.filter(F.to_timestamp("timestamp") >= F.lit(since.to_pydatetime()))
    if last is not None:
        frame = frame.orderBy(F.desc("timestamp"), F.desc("request_id"), F.desc("row")).limit(
            int(last)
        )
    frame = frame.cache()
    rows = int(frame.count())
    if rows > sample_rows:  # Bernoulli with a margin, then exactly sample_rows of those
        fraction = min(1.0, 1.1 * sample_rows / rows + 1e-4)
        frame = frame.sample(fraction=fraction, seed=SEED).orderBy(F.rand(SEED)).limit(sample_rows)
    result = frame.toPandas()
    order = [c for c in ("timestamp", "request_id", "row") if c in result.columns]
    if order:
        result = result.sort_values(order, kind="stable", na_position="first")
    return Window(_as_loaded(result.reset_index(drop=True)), rows, 0)


def labelled_rows(logs_dir: Path, feedback: pd.DataFrame) -> pd.DataFrame:
    """Logged rows with a label at scoring time or a fed-back one (by prediction id), from the
    current log and its archives; only those rows are read into memory."""
    con = connect()
    try:
        try:
            view, _ = open_log(con, logs_dir, archived=True)
        except LogMissing:
            return pd.DataFrame(columns=["prediction_id", "timestamp", "label"])
        columns = _columns(con, view)
        if "prediction_id" not in columns:
            return pd.DataFrame(columns=["prediction_id", "timestamp", "label"])
        con.register("fed_back", feedback[["prediction_id"]].astype({"prediction_id": str}))
        wanted = ["prediction_id IN (SELECT prediction_id FROM fed_back)"]
        if "label" in columns:
            wanted.append("label IS NOT NULL")
        labelled = " OR ".join(wanted)
        query = f"SELECT * FROM {view} WHERE prediction_id IS NOT NULL AND ({labelled})"
        frame = con.execute(query).df()
        return _as_loaded(frame)
    finally:
        con.close()


def _as_loaded(frame: pd.DataFrame) -> pd.DataFrame:
    """DuckDB's pandas types as the JSON-lines reader gave them: nullable integers without gaps
    back to int64, text as Python objects."""
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.Int64Dtype) or str(column.dtype).startswith(("Int", "UInt")):
            if not column.isna().any():
                frame[name] = column.astype("int64")
        elif str(column.dtype) in ("string", "str"):
            frame[name] = column.astype(object)
    return frame
