"""Labels that arrive after the prediction: the feedback file, and joining it to the prediction log.

Every logged prediction has a `prediction_id` (`<request_id>-<row>`, returned by POST /predict as
`id` and written by batch scoring as a column). When the true outcome becomes known, send it back:

    POST /feedback  {"id": "<prediction_id>", "label": <the true value>}

or append the same object as one line to the feedback file (`registry.feedback` in config.yaml,
default logs/feedback.jsonl). Each accepted line is

    {"id": "...", "label": ..., "received_at": "2024-01-01T00:00:00+00:00", "source": "api"}

Writers hold an exclusive lock on the file (fcntl, so several service workers can share it) and
write whole lines; readers skip lines they cannot parse. When an id has several labels the latest
wins. `monitor` joins the labels to the logged predictions by id (realised performance) and
`retrain` adds the labelled rows to the training data.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from .config import Config

_LOCK = threading.Lock()


def feedback_path(config: Config) -> Path:
    return config.path(config.registry.feedback)


@contextlib.contextmanager
def _locked(handle: IO[str]) -> Iterator[None]:
    """An exclusive lock across processes where the OS has one (fcntl), and across threads."""
    from .logstore import locked

    with _LOCK, locked(handle):
        yield


def append_feedback(
    path: Path, prediction_id: str, label: Any, source: str = "api"
) -> dict[str, Any]:
    """Append one label; the line is written whole under the lock."""
    record = {
        "id": prediction_id,
        "label": label,
        "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
    }
    line = json.dumps(record, allow_nan=False, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle, _locked(handle):
        handle.write(line)
        handle.flush()
    return record


def read_feedback(path: Path) -> pd.DataFrame:
    """The latest label per id, as columns `prediction_id` and `label` (empty when no file)."""
    latest: dict[str, Any] = {}
    if path.is_file():
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if (
                    isinstance(entry, dict)
                    and isinstance(entry.get("id"), str)
                    and "label" in entry
                ):
                    latest[entry["id"]] = entry["label"]
    return pd.DataFrame({"prediction_id": list(latest), "label": list(latest.values())})


def join_labels(window: pd.DataFrame, feedback: pd.DataFrame) -> pd.DataFrame:
    """The window with each row's fed-back label in `label` (a label logged with the prediction is
    kept where no feedback came)."""
    if feedback.empty or "prediction_id" not in window.columns:
        return window
    joined = window.merge(
        feedback.rename(columns={"label": "_feedback"}), on="prediction_id", how="left"
    )
    if "label" in joined.columns:
        joined["label"] = joined["_feedback"].where(joined["_feedback"].notna(), joined["label"])
    else:
        joined["label"] = joined["_feedback"]
    return joined.drop(columns="_feedback")


class LabelError(ValueError):
    """A label of the wrong type for this model (the service answers 422)."""


def check_label(meta: dict[str, Any], label: Any) -> Any:
    """The label as the model's targets are typed; LabelError naming what is expected."""
    if meta.get("task_type") == "regression":
        if (
            isinstance(label, bool)
            or not isinstance(label, int | float)
            or not math.isfinite(label)
        ):
            raise LabelError(f"label: expected a finite number, got {json.dumps(label)}")
        return label
    classes = meta.get("classes") or []
    for known in classes:
        if type(known) is type(label) and known == label:
            return label
    if isinstance(label, bool) or not isinstance(label, str | int | float):
        raise LabelError(f"label: expected one of the classes {classes}, got {json.dumps(label)}")
    # the same value with another JSON type ("1" for 1) is a type error, not a new class
    same_text = [c for c in classes if str(c) == str(label)]
    if same_text:
        raise LabelError(
            f"label: {json.dumps(label)} has the wrong type; send {json.dumps(same_text[0])}"
        )
    raise LabelError(f"label: {json.dumps(label)} is not one of the classes {classes}")


class PredictionIds:
    """Whether a prediction id was logged: the online buffer's ids read incrementally (only the
    bytes added since last time), then the Parquet parts of the log and its archives (logstore.py),
    looked up by the id column alone when the buffer does not have it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ids: set[str] = set()
        self._offset = 0
        self._inode: int | None = None
        self._lock = threading.Lock()
        self._archives_read = False

    def add(self, ids: list[str]) -> None:
        with self._lock:
            self._ids.update(ids)

    def __contains__(self, prediction_id: object) -> bool:
        from .logstore import contains_id, sources

        with self._lock:
            if prediction_id in self._ids:
                return True
            self._refresh()
            if prediction_id in self._ids:
                return True
        if not isinstance(prediction_id, str):
            return False
        parts, _ = sources(self.path.parent, archived=True)
        return contains_id(parts, prediction_id)

    def _refresh(self) -> None:
        if not self._archives_read:  # logs archived as JSON lines, before the columnar layout
            archive = self.path.parent / "archive"
            for old in sorted(archive.glob(f"{self.path.stem}-*{self.path.suffix}")):
                self._read_ids(old.read_bytes())
            self._archives_read = True
        if not self.path.is_file():
            return
        stat = self.path.stat()
        if stat.st_ino != self._inode or stat.st_size < self._offset:
            self._inode, self._offset = stat.st_ino, 0  # compacted or rotated: a new buffer
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1  # a line still being written is read next time
        self._read_ids(data[:end])
        self._offset += end

    def _read_ids(self, data: bytes) -> None:
        for line in data.splitlines():
            try:
                entry = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(entry, dict) and isinstance(entry.get("prediction_id"), str):
                self._ids.add(entry["prediction_id"])
