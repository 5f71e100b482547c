"""Writing the prediction log (its layout and readers: logstore.py).

The service appends one JSON object per scored row to the online buffer, logs/predictions.jsonl,
which `compact-log` (and `monitor`, `deploy`) moves into the columnar log, logs/predictions/:

    {"request_id": "...", "row": 0, "prediction_id": "<request_id>-<row>",
     "timestamp": "2024-01-01T00:00:00.000000+00:00", "source": "api" | "batch",
     "model_version": "...", "version": <registry version or null>, "inputs": {<feature>: <raw value>, ...},
     "prediction": ..., "score": 0.93 (binary) | "probas": {"<class>": p, ...} (multiclass, text),
     "latency_ms": 1.2, "label": ... (only when known, e.g. the labelled serving window)}

Batch scoring writes the same fields straight into Parquet parts, one column each
(logstore.log_frame, logstore.PartWriter). `prediction_id` is what a label sent back later names
(POST /feedback, feedback.py); `version` is the registry number of the model that answered
(registry.py), null for a model never registered. Lines are written whole under a lock, so
concurrent requests never interleave inside a line.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .logstore import BUFFER_NAME, append_lines, rotate

LOG_NAME = BUFFER_NAME  # the service's buffer; the log itself is logs/predictions/ (logstore.py)


def new_request_id() -> str:
    return uuid.uuid4().hex


def prediction_id(request_id: str, row: int) -> str:
    """The id of one scored row: what feedback names."""
    return f"{request_id}-{row}"


def plain(value: Any) -> Any:
    """numpy/pandas scalars to JSON-ready Python values; NaN, inf and pd.NA to None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    return value


def output_records(outputs: pd.DataFrame) -> list[dict[str, Any]]:
    """Prediction columns (prediction, score, proba_<class>) to one response/log record per row.

    Read column by column: a row of a frame mixing integer classes and float probabilities
    would be upcast to floats, and class 1 would come out as 1.0.
    """
    proba_cols = [c for c in outputs.columns if str(c).startswith("proba_")]
    predictions = outputs["prediction"].tolist()
    scores = outputs["score"].tolist() if "score" in outputs.columns else None
    probas = {str(c)[len("proba_") :]: outputs[c].tolist() for c in proba_cols}
    records = []
    for index, prediction in enumerate(predictions):
        record: dict[str, Any] = {"prediction": plain(prediction)}
        if scores is not None:
            record["score"] = plain(scores[index])
        if probas:
            record["probas"] = {label: plain(values[index]) for label, values in probas.items()}
        records.append(record)
    return records


class PredictionLog:
    """Appends prediction records to a JSON-lines file (thread-safe within one process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(
        self,
        *,
        request_id: str,
        source: str,
        model_version: str,
        inputs: Iterable[Mapping[Any, Any]],
        outputs: Iterable[Mapping[str, Any]],
        latency_ms: float,
        labels: Iterable[Any] | None = None,
        first_row: int = 0,
        version: int | None = None,
    ) -> int:
        """Write one line per row, numbered from `first_row` (a file scored in chunks keeps one
        request id and numbers its rows across chunks); returns the number of lines written."""
        stamp = datetime.now(UTC).isoformat()
        label_list = list(labels) if labels is not None else None
        lines = []
        for index, (row_inputs, row_outputs) in enumerate(zip(inputs, outputs, strict=True)):
            record: dict[str, Any] = {
                "request_id": request_id,
                "row": first_row + index,
                "prediction_id": prediction_id(request_id, first_row + index),
                "timestamp": stamp,
                "source": source,
                "model_version": model_version,
                "version": version,
                "inputs": {str(k): plain(v) for k, v in row_inputs.items()},
                **row_outputs,
                "latency_ms": round(latency_ms, 3),
            }
            if label_list is not None:
                record["label"] = plain(label_list[index])
            lines.append(json.dumps(record, allow_nan=False, ensure_ascii=False))
        if not lines:
            return 0
        with self._lock:
            append_lines(self.path, "\n".join(lines) + "\n")
        return len(lines)

    def rotate(self, keep: int = 10) -> Path | None:
        """Start a new window: the log so far (buffer included) moves to
        logs/archive/predictions-<UTC time>/, keeping the `keep` newest archives; returns it
        (None when there was nothing to archive)."""
        with self._lock:
            return rotate(self.path.parent, keep)
