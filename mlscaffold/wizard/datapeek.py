"""A bounded look at the user's data file, so the wizard can suggest the target, the task type and the
text and id columns. Only a file the user named is read (promise P2), at most `MAX_BYTES` of it, and
anything unreadable simply gives no suggestion: the wizard then falls back to its plain defaults.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 2_000_000
MAX_ROWS = 5_000
TARGET_NAMES = ("target", "label", "y", "class", "outcome")
MAX_CLASSES = 50
TEXT_MIN_MEAN_LENGTH = 30


@dataclass(frozen=True)
class DataGuess:
    """What a quick look at a table suggests. Empty strings mean "no suggestion"."""

    columns: tuple[str, ...] = ()
    target: str = ""
    task_type: str = ""
    text_column: str = ""
    id_column: str = ""
    classes: tuple[str, ...] = ()  # the target's values, when it looks like a label (2 to 50 values)
    time_column: str = ""  # a column of dates or times: test on later data
    id_repeats: bool = False  # the id column repeats: an entity has several rows, split by group


def peek(data_source: object, data_path: object, target: object = None) -> DataGuess:
    """Guess from a CSV file named by the user; anything else (sample, parquet, sql) gives no guess."""
    if data_source != "csv" or not isinstance(data_path, str) or not data_path.strip():
        return DataGuess()
    path = Path(data_path).expanduser()
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return DataGuess()
    if not path.is_file():
        return DataGuess()
    chosen = target if isinstance(target, str) and target else ""
    return _peek_csv(str(path.resolve()), stat.st_mtime_ns, stat.st_size, chosen)


@functools.lru_cache(maxsize=16)
def _peek_csv(path: str, mtime_ns: int, size: int, target: str) -> DataGuess:
    del mtime_ns, size  # part of the cache key only: a changed file is read again
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES)
        text = raw.decode("utf-8-sig", errors="replace")
        if len(raw) == MAX_BYTES:  # drop the last, probably cut, line
            text = text[: text.rfind("\n") + 1]
        rows = list(_rows(text))
    except (OSError, csv.Error):
        return DataGuess()
    if len(rows) < 2:
        return DataGuess()
    header, body = rows[0], rows[1:]
    columns = {name: [row[i] for row in body if i < len(row)] for i, name in enumerate(header)}
    return guess(columns, target)


def _rows(text: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text))
    rows: list[list[str]] = []
    for row in reader:
        rows.append(row)
        if len(rows) > MAX_ROWS:
            break
    return rows


def guess(columns: dict[str, list[str]], target: str = "") -> DataGuess:
    """Suggest target, task type, text and id columns from column names and values."""
    names = tuple(columns)
    if not names:
        return DataGuess()
    if target not in columns:
        lowered = {name.lower(): name for name in names}
        target = next((lowered[n] for n in TARGET_NAMES if n in lowered), names[-1])
    id_column = next((n for n in names if n.lower() == "id" or n.lower().endswith("_id")), "")
    text_column = next((n for n in names if n not in (target, id_column) and _is_text(columns[n])), "")
    task = _task_type(columns[target], bool(text_column))
    values = sorted({v.strip() for v in columns[target] if v.strip()})
    classes = tuple(values) if task and task != "regression" else ()
    time_column = next((n for n in names if n != target and _is_time(columns[n])), "")
    ids = [v for v in columns.get(id_column, []) if v.strip()]
    return DataGuess(
        names, target, task, text_column, id_column, classes, time_column, len(set(ids)) < len(ids)
    )


def _is_time(values: list[str]) -> bool:
    """Most values are ISO dates or date-times (2024-01-31, 2024-01-31 12:00, 2024-01-31T12:00:00Z)."""
    from datetime import datetime

    present = [v.strip() for v in values if v.strip()]
    if not present:
        return False
    parsed = 0
    for value in present[:500]:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        parsed += 1
    return parsed >= 0.9 * min(len(present), 500) and not _all_numeric(present)


def _is_text(values: list[str]) -> bool:
    present = [v for v in values if v.strip()]
    if not present or _all_numeric(present):
        return False
    mean_length = sum(len(v) for v in present) / len(present)
    with_spaces = sum(" " in v.strip() for v in present) / len(present)
    return mean_length >= TEXT_MIN_MEAN_LENGTH and with_spaces >= 0.8


def _all_numeric(values: list[str]) -> bool:
    try:
        return all(math.isfinite(float(v)) for v in values)
    except ValueError:
        return False


def _task_type(values: list[str], has_text: bool) -> str:
    present = [v.strip() for v in values if v.strip()]
    distinct = set(present)
    if len(distinct) < 2:
        return ""
    if _all_numeric(present) and len(distinct) > 2:
        numbers = [float(v) for v in present]
        if len(distinct) > 20 or any(not n.is_integer() for n in numbers):
            return "regression"
    if len(distinct) > MAX_CLASSES:
        return ""
    if has_text:
        return "text_classification"
    return "binary_classification" if len(distinct) == 2 else "multiclass_classification"
