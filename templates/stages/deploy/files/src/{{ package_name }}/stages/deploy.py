"""Deploy stage: the online service, batch scoring, and the deploy checks.

Commands:
  serve   run the FastAPI service with uvicorn (host and port from config.yaml's `serving`;
          $PORT, when set, overrides the port)
  batch   score a CSV or Parquet file -> predictions/<name>.parquet, and log every row; the file
          is streamed in chunks (--chunk-rows), so memory does not grow with its size; with
          engine.name spark in config.yaml, a Spark job scores it (mapInPandas)
  deploy  the pipeline step: batch-score the serving window (data/processed/serving.parquet)
          into the prediction log, with its labels, for monitoring; then two deploy checks:
          - skew (R12): test rows through the service's handler (JSON -> request model -> frame ->
            model) must give exactly what the evaluation path gives (max abs diff <= 1e-9)
            -> reports/skew.json; a mismatch fails the step.
          - latency (R15) -> reports/latency.json: when serving.mode is online or both, p50/p95/p99
            of 200 single-row calls through the handler after 20 warm-up calls; a p95 over
            serving.latency_budget_ms fails the step. For batch serving: the batch throughput.

serve, batch and deploy use the registry's champion (registry.py), or the latest trained model when
nothing was promoted yet, and report its registry version in /health and in every log line.
They read the readiness gate's verdict (reports/readiness.json) first and refuse
a model the gate did not pass (NOT READY, or evaluated as another model version) with exit 2,
unless run with --force, which is logged and shown by the service's /health. A model that was
never evaluated (no readiness.json) is served with a warning.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ENV_VAR, Config
from ..errors import DataError

if TYPE_CHECKING:
    from concurrent.futures import Future

ORDER = 40
PIPELINE_STEP = "deploy"

log = logging.getLogger(__name__)
PROG = f"python -m {__package__.rsplit('.', 1)[0]}"

FORCE_ENV = "MLPIPE_FORCE_SERVE"  # carries --force to the worker processes of `serve --workers`
SKEW_ROWS = 100
SKEW_TOLERANCE = 1e-9
LATENCY_CALLS = 200
LATENCY_WARMUP = 20
BATCH_CHUNK_ROWS = 50_000  # rows scored at a time by `batch` and `deploy`: bounds their memory


def serve(cfg: Config, argv: list[str]) -> int:
    """Run the prediction service (uvicorn)."""
    parser = argparse.ArgumentParser(prog=f"{PROG} serve", description=serve.__doc__)
    parser.add_argument("--host", default=cfg.serving.host)
    parser.add_argument(
        "--port", type=int, default=None, help="default: $PORT, else serving.port in config.yaml"
    )
    parser.add_argument("--workers", type=int, default=1)
    add_force(parser)
    args = parser.parse_args(argv)
    import os

    import uvicorn

    from ..service import create_app

    args.port = args.port if args.port is not None else default_port(cfg)
    forced = require_ready(cfg, args.force, "serve")
    if args.workers > 1:  # each worker process builds its own app from the same config file
        if cfg.source is not None:
            os.environ[ENV_VAR] = str(cfg.source)
        os.environ[FORCE_ENV] = "1" if forced else ""
        factory = f"{__package__.rsplit('.', 1)[0]}.service:create_app_from_env"
        log.info("serving on http://%s:%d (docs: /docs)", args.host, args.port)
        uvicorn.run(factory, factory=True, host=args.host, port=args.port, workers=args.workers)
        return 0
    app = create_app(cfg, forced=forced)  # loads the model: a missing artefact fails here
    log.info("serving model %s on http://%s:%d (docs: /docs)", app.version, args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def batch(cfg: Config, argv: list[str]) -> int:
    """Score a CSV or Parquet file into predictions/<name>.parquet."""
    parser = argparse.ArgumentParser(prog=f"{PROG} batch", description=batch.__doc__)
    parser.add_argument("input", type=Path, help="CSV or Parquet file with the raw feature columns")
    parser.add_argument("--name", help="output name (default: the input file's stem)")
    parser.add_argument("--no-log", action="store_true", help="do not append to the prediction log")
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=BATCH_CHUNK_ROWS,
        help=f"rows read and scored at a time; memory grows with it (default {BATCH_CHUNK_ROWS:,})",
    )
    add_force(parser)
    args = parser.parse_args(argv)
    require_ready(cfg, args.force, "batch")
    path = args.input if args.input.is_absolute() else Path.cwd() / args.input
    name = args.name or re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem)
    scored = score_file(cfg, path, name=name, log_rows=not args.no_log, chunk_rows=args.chunk_rows)
    log.info("wrote %s", scored.path)
    return 0


def deploy(cfg: Config, argv: list[str]) -> int:
    """Score the serving window into the prediction log, then check skew and latency."""
    parser = argparse.ArgumentParser(prog=f"{PROG} deploy", description=deploy.__doc__)
    add_force(parser)
    args = parser.parse_args(argv)
    require_ready(cfg, args.force, "deploy")
    from ..logstore import rotate

    archived = rotate(cfg.logs_dir)
    if archived:
        log.info("archived the previous prediction log to %s", archived)
    from ..artifacts import split_path

    scored = score_file(cfg, split_path(cfg, "serving"), name="serving", log_rows=True)
    skew = check_skew(cfg)
    latency = check_latency(cfg, scored)
    failed = [r["check"] for r in (skew, latency) if r["status"] == "fail"]
    if failed:
        log.error("deploy checks failed: %s (see reports/skew.json, reports/latency.json)", failed)
        return 1
    return 0


def compact_log(cfg: Config, argv: list[str]) -> int:
    """Move the service's buffered predictions (logs/predictions.jsonl) into the columnar log."""
    argparse.ArgumentParser(prog=f"{PROG} compact-log", description=compact_log.__doc__).parse_args(
        argv
    )
    from ..logstore import compact

    moved = compact(cfg.logs_dir)
    log.info("moved %d buffered predictions into %s", moved, cfg.logs_dir / "predictions")
    return 0


COMMANDS = {"serve": serve, "batch": batch, "deploy": deploy, "compact-log": compact_log}


def add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="use the model although the readiness gate did not pass it (logged; /health shows it)",
    )


def default_port(cfg: Config) -> int:
    """$PORT (set by container platforms) when present, else serving.port."""
    import os

    value = os.environ.get("PORT", "").strip()
    if not value:
        return cfg.serving.port
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise DataError(f"environment variable PORT: {value!r} is not a port number (1-65535)")
    return int(value)


def gate_verdict(cfg: Config) -> tuple[bool | None, str]:
    """(ready, why) for the model that serves: the champion's verdict from the registry, else
    reports/readiness.json for the latest model; ready is None when it was never evaluated."""
    from ..artifacts import read_json
    from ..registry import open_registry, serving_model

    serving = serving_model(cfg)
    if serving.champion and serving.version is not None:
        champion = open_registry(cfg).get(serving.version)
        if champion.gate is None:
            return None, f"champion version {champion.number} was never evaluated"
        if champion.passed:
            return True, f"champion version {champion.number} passed the readiness gate"
        failed = ", ".join(champion.gate.get("failed") or []) or "not ready"
        return False, (
            f"champion version {champion.number} was promoted with --force although the gate "
            f"found it NOT READY (failed: {failed})"
        )
    path = cfg.reports_dir / "readiness.json"
    if not path.is_file():
        return None, f"{path.name} not found: the model was never evaluated (make evaluate)"
    report = read_json(path)
    version = read_json(serving.meta_file).get("model_version")
    if report.get("model_version") != version:
        return False, (
            f"{path.name} judged model {report.get('model_version')}, not the saved model {version}:"
            " run `make evaluate` again"
        )
    if report.get("ready") is not True:
        failed = ", ".join(map(str, report.get("failed") or [])) or "see reports/evaluation.md"
        return False, f"the readiness gate found model {version} NOT READY (failed: {failed})"
    return True, f"model {version} passed the readiness gate"


def require_ready(cfg: Config, force: bool, action: str) -> bool:
    """Refuse (DataError, exit 2) to use a model the gate did not pass, unless forced; returns
    whether the model is used only because of --force."""
    ready, why = gate_verdict(cfg)
    if ready is None:
        log.warning("%s: %s", action, why)
        return False
    if ready:
        return False
    if not force:
        raise DataError(
            f"{action} refused: {why}; fix the model, or pass --force to {action} it anyway"
        )
    log.warning("%s FORCED: %s", action, why)
    return True


def check_columns(meta: dict[str, Any], frame: Any, where: str) -> None:
    """Every feature present, numeric features numeric: else a DataError naming the column."""
    from pandas.api import types as ptypes

    for feature in meta["features"]:
        name = feature["name"]
        if name not in frame.columns:
            raise DataError(f"{where}: column '{name}' is missing (the model needs it)")
        if feature["kind"] == "numeric" and not ptypes.is_numeric_dtype(frame[name]):
            raise DataError(f"{where}: column '{name}' must be numeric, got {frame[name].dtype}")


@dataclass(frozen=True)
class Scored:
    path: Path
    rows: int
    seconds: float


def score_file(
    cfg: Config, path: Path, name: str, log_rows: bool, chunk_rows: int = BATCH_CHUNK_ROWS
) -> Scored:
    """Batch-score `path` into predictions/<name>.parquet, plus one prediction-log row per row.

    The input is read `chunk_rows` rows at a time and each chunk's outputs are written before the
    next is read (pyarrow's ParquetWriter, for the output and for the log's Parquet part), so
    memory is bounded by the chunk, not by the file. Nothing is kept from a file that fails
    half-way: the output and the log part are staged beside their targets and moved into place
    only once every row was scored. One request id covers the file; each logged row's `row` is its
    row in the file, and its `prediction_id` (the id a label sent back later names, POST /feedback)
    is also a column of the output, beside the registry `version` of the model that scored it (the
    champion, see registry.serving_model). With `engine.name: spark`, a Spark job scores the file
    (spark.py) and its output is streamed back the same way.
    """
    from ..artifacts import load_estimator, read_json
    from ..logstore import PartWriter, log_frame
    from ..predict import feature_frame
    from ..prediction_log import new_request_id
    from ..registry import serving_model

    if not name.replace("-", "").replace("_", "").isalnum():
        raise DataError(f"--name '{name}': use letters, digits, '-' and '_' only")
    if chunk_rows < 1:
        raise DataError(f"--chunk-rows {chunk_rows}: expected a positive number of rows")
    serving = serving_model(cfg)
    meta, model = read_json(serving.meta_file), load_estimator(serving.model_file)
    version = str(meta.get("model_version", "unknown"))
    out = cfg.predictions_dir / f"{name}.parquet"
    suffix = f".{os.getpid()}.part"
    out_part = out.with_name(f".{out.name}{suffix}")
    spark_parts = out.with_name(f".{out.name}{suffix}.spark")
    request_id = new_request_id()
    pending = PartWriter(cfg.logs_dir, request_id[:12]) if log_rows else None
    written = _ParquetChunks(out_part, path)
    rows, seconds = 0, 0.0
    out.parent.mkdir(parents=True, exist_ok=True)
    if cfg.engine.name == "spark":
        chunks = _spark_chunks(cfg, meta, model, path, chunk_rows, spark_parts)
    else:
        chunks = _local_chunks(cfg, meta, model, path, chunk_rows)
    # Writing a chunk (compression, the disk) overlaps with reading and scoring the next one: one
    # writer thread, at most one chunk in flight, so memory stays bounded by two chunks.
    from concurrent.futures import ThreadPoolExecutor

    writes = ThreadPoolExecutor(max_workers=1)
    in_flight: Future[None] | None = None
    try:
        for chunk, outputs, elapsed in chunks:
            _require_finite(outputs, path, first_row=rows)
            seconds += elapsed
            result = _result_frame(cfg, meta, chunk, outputs, request_id, rows, serving.version)
            logged = None
            if pending is not None:
                target = cfg.task.target
                logged = log_frame(
                    feature_frame(meta, chunk),
                    outputs,
                    request_id=request_id,
                    source="batch",
                    model_version=version,
                    version=serving.version,
                    latency_ms=elapsed * 1000 / len(chunk),
                    first_row=rows,
                    labels=chunk[target] if target in chunk.columns else None,
                )
            if in_flight is not None:
                in_flight.result()  # raises what the writer raised
            in_flight = writes.submit(_write_chunk, written, result, pending, logged)
            rows += len(chunk)
        if in_flight is not None:
            in_flight.result()
        if rows == 0:
            raise DataError(f"{path}: no rows to score")
        written.close()
        out_part.replace(out)
        if pending is not None:
            parts = pending.commit()
            log.info("logged %d predictions to %s", rows, ", ".join(map(str, parts)))
    finally:
        writes.shutdown(wait=True)
        written.close()
        out_part.unlink(missing_ok=True)
        if pending is not None:
            pending.discard()
        shutil.rmtree(spark_parts, ignore_errors=True)
    log.info(
        "scored %d rows from %s in %.0f ms of model time (%s engine, chunks of %d rows) with model"
        " version %s%s",
        rows,
        path,
        seconds * 1000,
        cfg.engine.name,
        chunk_rows,
        serving.version,
        " (champion)" if serving.champion else " (latest; nothing promoted yet)",
    )
    return Scored(out, rows, seconds)


def _write_chunk(written: Any, result: Any, pending: Any, logged: Any) -> None:
    written.write(result)
    if pending is not None:
        pending.write(logged)


Chunks = Iterator[tuple[Any, Any, float]]  # (input rows, their outputs, seconds of model time)


def _local_chunks(
    cfg: Config, meta: dict[str, Any], model: Any, path: Path, chunk_rows: int
) -> Chunks:
    """The local engine: read and score `chunk_rows` rows at a time in this process."""
    from ..artifacts import iter_table
    from ..predict import predict_frame

    for chunk in iter_table(path, chunk_rows):
        check_columns(meta, chunk, str(path))
        chunk = _blank_as_object(cfg, meta, chunk)
        started = time.perf_counter()
        try:  # a ValueError, e.g. a value so large the scaler overflows, is the file's fault
            outputs = predict_frame(model, meta, chunk)
        except ValueError as err:
            first = int(chunk.index[0])
            raise DataError(
                f"{path}: the model cannot score rows {first}-{first + len(chunk) - 1} ({err})"
            ) from err
        yield chunk, outputs, time.perf_counter() - started


def _spark_chunks(
    cfg: Config, meta: dict[str, Any], model: Any, path: Path, chunk_rows: int, parts: Path
) -> Chunks:
    """The Spark engine: one Spark job scores the whole file (mapInPandas) into Parquet parts; the
    driver then reads them back `chunk_rows` rows at a time, in the input's order, to write the one
    output file and the log lines as the local engine does."""
    import pyarrow.parquet as pq

    from ..spark import score_to_parquet

    keep = _kept_columns(cfg, meta, _header(path))
    started = time.perf_counter()
    score_to_parquet(cfg, path, model, meta, keep, parts)
    files = sorted(parts.glob("part-*.parquet"))
    total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    per_row = (time.perf_counter() - started) / max(total, 1)
    log.info("Spark scored %d rows in %.1f s", total, per_row * total)
    for file in files:
        with pq.ParquetFile(file, pre_buffer=False) as part:
            for batch in part.iter_batches(batch_size=chunk_rows):
                frame = batch.to_pandas()
                if len(frame):
                    yield frame[keep], frame.drop(columns=keep), per_row * len(frame)


def _header(path: Path) -> list[str]:
    """The column names of a CSV or Parquet file (the first rows only are read)."""
    from ..artifacts import iter_table

    for chunk in iter_table(path, 1):
        return [str(c) for c in chunk.columns]
    raise DataError(f"{path}: no rows to score")


def _kept_columns(cfg: Config, meta: dict[str, Any], columns: list[str]) -> list[str]:
    """ids, the raw inputs, the label when known: with the outputs, a complete record that
    `monitor --input` can judge on its own."""
    keep = [c for c in (cfg.task.id_column,) if c and c in columns]
    keep += [str(f["name"]) for f in meta["features"]]
    keep += [c for c in (cfg.task.target,) if c in columns and c not in keep]
    return keep


def _blank_as_object(cfg: Config, meta: dict[str, Any], chunk: Any) -> Any:
    """A column empty throughout a chunk is read as float NaN. For a categorical or text feature,
    the id or the label, make it an object column (as it is when other rows hold values), so the
    model's imputer sees missing categories rather than a numeric column and the output file takes
    the column's type from the rows that have one."""
    names = [f["name"] for f in meta["features"] if f["kind"] != "numeric"]
    names += [c for c in (cfg.task.id_column, cfg.task.target) if c and c in chunk.columns]
    empty = [name for name in dict.fromkeys(names) if chunk[name].isna().all()]
    if not empty:
        return chunk
    return chunk.astype({name: object for name in empty})


def _result_frame(
    cfg: Config,
    meta: dict[str, Any],
    chunk: Any,
    outputs: Any,
    request_id: str,
    first_row: int,
    version: int | None,
) -> Any:
    """The prediction ids, the kept input columns (`_kept_columns`) beside the outputs, and the
    registry version of the model that scored them."""
    import pandas as pd

    from ..prediction_log import prediction_id

    keep = _kept_columns(cfg, meta, [str(c) for c in chunk.columns])
    result = pd.concat([chunk[keep], outputs], axis=1)
    ids = [prediction_id(request_id, first_row + i) for i in range(len(chunk))]
    result.insert(0, "prediction_id", ids)
    result["version"] = version
    return result


class _ParquetChunks:
    """A Parquet file written one chunk at a time (pyarrow's ParquetWriter, one row group per
    chunk). The first chunk sets the schema; a later chunk whose types differ is cast to a schema
    both fit (pyarrow's permissive promotion: an all-null column takes the type that turns up, an
    integer column meeting gaps or fractions becomes float, as reading the whole file would make
    it). When the schema widens, the rows already written are copied over to it one row group at
    a time, so memory stays bounded. Types that do not fit together are a DataError naming the
    column."""

    def __init__(self, part: Path, source: Path) -> None:
        self.part, self.source = part, source
        self.writer: Any = None

    def write(self, frame: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from ..logstore import writer_options

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.part, table.schema, **writer_options(table.schema))
        elif not table.schema.equals(self.writer.schema):
            schema = self._unified(table.schema, int(frame.index[0]))
            if not schema.equals(self.writer.schema):
                self._widen(schema)
            table = table.select(schema.names).cast(schema)
        self.writer.write_table(table)

    def _unified(self, schema: Any, first_row: int) -> Any:
        import pyarrow as pa

        current = self.writer.schema
        for field in current:
            new = schema.field(field.name)
            try:
                pa.unify_schemas(
                    [pa.schema([field]), pa.schema([new])], promote_options="permissive"
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
                raise DataError(
                    f"{self.source}: column '{field.name}' holds {new.type} values from row"
                    f" {first_row} on, where the rows before held {field.type}"
                ) from err
        unified = pa.unify_schemas([current, schema], promote_options="permissive")
        return unified.with_metadata(current.metadata)

    def _widen(self, schema: Any) -> None:
        import pyarrow.parquet as pq

        from ..logstore import writer_options

        self.writer.close()
        old = self.part.with_name(self.part.name + ".old")
        self.part.replace(old)
        self.writer = pq.ParquetWriter(self.part, schema, **writer_options(schema))
        try:
            with pq.ParquetFile(old, pre_buffer=False) as written:
                for group in range(written.num_row_groups):
                    self.writer.write_table(written.read_row_group(group).cast(schema))
        finally:
            old.unlink(missing_ok=True)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _require_finite(outputs: Any, path: Path, first_row: int = 0) -> None:
    """Outputs that are not finite numbers (inputs far outside the training range) are the file's
    fault, as the service answers them with a 422: a DataError naming the first such row."""
    import numpy as np

    numbers = outputs.select_dtypes(include="number").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(numbers).all(axis=1)) if numbers.size else []
    if len(bad):
        raise DataError(
            f"{path}: the model's output is not finite for {len(bad)} row(s) of rows"
            f" {first_row}-{first_row + len(outputs) - 1} (first: row {first_row + bad[0]});"
            " check their numeric values"
        )


def _rows_json(meta: dict[str, Any], frame: Any) -> str:
    """Rows as a client would send them: JSON with the raw feature values."""
    from ..predict import feature_frame
    from ..prediction_log import plain

    rows = [
        {k: plain(v) for k, v in r.items()} for r in feature_frame(meta, frame).to_dict("records")
    ]
    return json.dumps({"rows": rows}, allow_nan=False)


def check_skew(cfg: Config) -> dict[str, Any]:
    """R12: the service handler and the evaluation path give identical outputs on the same rows."""
    import numpy as np

    from ..artifacts import load_split, write_json
    from ..predict import predict_frame
    from ..service import Predictor

    predictor = Predictor.load(cfg, logging_on=False)
    rows = load_split(cfg, "test").head(SKEW_ROWS).reset_index(drop=True)
    offline = predict_frame(predictor.model, predictor.meta, rows)
    served = predictor.handle_json(_rows_json(predictor.meta, rows)).predictions
    pred_mismatch = sum(
        1 for a, b in zip(offline["prediction"].tolist(), served, strict=True) if a != b.prediction
    )
    numeric_cols = [c for c in offline.columns if c != "prediction"]
    online = np.array([_numbers(p, numeric_cols) for p in served], dtype=float).reshape(
        len(rows), -1
    )
    diffs = (
        np.abs(offline[numeric_cols].to_numpy(dtype=float) - online)
        if numeric_cols
        else np.zeros(1)
    )
    max_diff = float(np.nanmax(diffs)) if diffs.size else 0.0
    ok = pred_mismatch == 0 and max_diff <= SKEW_TOLERANCE and not np.isnan(diffs).any()
    report = {
        "check": "R12",
        "name": "No training/serving skew",
        "status": "pass" if ok else "fail",
        "n": len(rows),
        "source": "data/processed/test.parquet",
        "prediction_mismatches": pred_mismatch,
        "max_abs_diff": max_diff,
        "tolerance": SKEW_TOLERANCE,
        "compared": {
            "evaluation": "predict.predict_frame on the parquet rows",
            "service": "/predict handler: JSON -> request model -> DataFrame -> predict_frame",
        },
    }
    write_json(cfg.reports_dir / "skew.json", report)
    log.info(
        "skew check: %s (%d rows, max abs diff %.2e, %d label mismatches)",
        report["status"],
        len(rows),
        max_diff,
        pred_mismatch,
    )
    return report


def _numbers(prediction: Any, columns: list[str]) -> list[float]:
    values = []
    for col in columns:
        if col == "score":
            values.append(prediction.score if prediction.score is not None else math.nan)
        else:
            probas = prediction.probas or {}
            values.append(probas.get(col[len("proba_") :], math.nan))
    return values


def check_latency(cfg: Config, batch: Scored) -> dict[str, Any]:
    """R15: online, single-row latency through the handler (in process, no network) vs the
    budget; batch, the scoring throughput of the serving window."""
    from ..artifacts import write_json

    report: dict[str, Any] = {
        "check": "R15",
        "name": "Latency within budget",
        "mode": cfg.serving.mode,
        "batch_rows": batch.rows,
        "batch_rows_per_s": batch.rows / batch.seconds if batch.seconds > 0 else None,
    }
    if cfg.serving.mode == "batch":
        report.update(status="pass", blocking=False, detail="batch serving: throughput only")
        log.info("batch throughput: %.0f rows/s", report["batch_rows_per_s"] or 0)
    else:
        report.update(_single_row_latency(cfg))
    write_json(cfg.reports_dir / "latency.json", report)
    return report


def _single_row_latency(cfg: Config) -> dict[str, Any]:
    import numpy as np

    from ..artifacts import load_split
    from ..service import Predictor

    predictor = Predictor.load(cfg, logging_on=False)
    rows = load_split(cfg, "test")
    total = LATENCY_WARMUP + LATENCY_CALLS
    bodies = [_rows_json(predictor.meta, rows.iloc[[i % len(rows)]]) for i in range(total)]
    for body in bodies[:LATENCY_WARMUP]:
        predictor.handle_json(body)
    timings = []
    for body in bodies[LATENCY_WARMUP:]:
        started = time.perf_counter()
        predictor.handle_json(body)
        timings.append((time.perf_counter() - started) * 1000)
    p50, p95, p99 = (float(np.percentile(timings, q)) for q in (50, 95, 99))
    budget = cfg.serving.latency_budget_ms
    status = "pass" if p95 <= budget else "fail"
    log.info(
        "latency: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms (budget %.0f ms): %s",
        p50,
        p95,
        p99,
        budget,
        status,
    )
    return {
        "status": status,
        "blocking": True,
        "calls": LATENCY_CALLS,
        "warmup": LATENCY_WARMUP,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "budget_ms": budget,
        "measured": "in process through the /predict handler (validation + model), no network",
    }
