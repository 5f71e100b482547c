"""The data contract: data/schema.yaml, the columns of the input data and the kind of each.

The pandera schema (schema.py) checks values, but it is learnt from whatever file it is given, so on
its own a dropped column, numbers exported as "$50,123" strings, or a new column would pass.
The contract pins the shape of the data instead:

- the first `data` run writes data/schema.yaml from the validated data (commit it: it is tracked);
- every later run checks the new data against it before anything else and fails (exit 2, naming the
  column) for a missing column, an extra column, numbers that became text, or categories that became
  numbers;
- `python -m <package> data --update-schema` (`make data UPDATE_SCHEMA=1`) accepts a change made on
  purpose and rewrites the file.

Categorical columns with very many distinct values (an id, free text, or numbers stored as text) are
flagged in the log every run, and marked in the contract.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pandas.api import types as ptypes

from .config import Config
from .errors import DataError

CONTRACT_FILE = "data/schema.yaml"
VERSION = 1
KINDS = ("numeric", "categorical", "text", "datetime")
HIGH_CARDINALITY_MIN = 50  # distinct values, and ...
HIGH_CARDINALITY_SHARE = 0.5  # ... share of the non-missing rows that are distinct
MAX_SHOWN = 6  # problems named in one error message
_REPAIR = (
    "restore it from git, or rewrite it from the current data with `make data UPDATE_SCHEMA=1`"
)
UPDATE_HINT = (
    "If the change is intended, run `make data UPDATE_SCHEMA=1` "
    f"(or `python -m {__package__} data --update-schema`) and commit {CONTRACT_FILE}"
)
HOLDS = {"numeric": "numbers", "categorical": "text", "text": "text", "datetime": "dates"}
log = logging.getLogger(__name__)


def contract_path(config: Config) -> Path:
    return config.root / CONTRACT_FILE


def column_kind(config: Config, series: pd.Series) -> str | None:
    """numeric | categorical | text | datetime; None for a column with no values at all (compatible
    with every kind: an empty column says nothing about its type)."""
    if series.isna().all():
        return None
    if config.task.type == "text_classification" and series.name == config.task.text_column:
        return "text"
    if ptypes.is_datetime64_any_dtype(series) or series.name == config.split.time_column:
        return "datetime"
    if ptypes.is_bool_dtype(series):
        return "categorical"
    if ptypes.is_numeric_dtype(series):
        return "numeric"
    return "categorical"


def high_cardinality(config: Config, frame: pd.DataFrame) -> dict[str, int]:
    """Categorical columns (not the id) with very many distinct values: {column: distinct}."""
    found = {}
    for name in frame.columns:
        if name == config.task.id_column or column_kind(config, frame[name]) != "categorical":
            continue
        present = frame[name].dropna()
        distinct = int(present.astype(str).nunique())
        if distinct >= HIGH_CARDINALITY_MIN and distinct >= HIGH_CARDINALITY_SHARE * len(present):
            found[str(name)] = distinct
    return found


def flag_high_cardinality(config: Config, frame: pd.DataFrame) -> dict[str, int]:
    found = high_cardinality(config, frame)
    for name, distinct in found.items():
        log.warning(
            "warning: column '%s' is categorical with %d distinct values in %d rows: an id, free "
            "text or numbers stored as text? Fix the export, or list it in features.drop",
            name,
            distinct,
            int(frame[name].notna().sum()),
        )
    return found


def infer_contract(config: Config, frame: pd.DataFrame, source: str) -> dict[str, Any]:
    flagged = high_cardinality(config, frame)
    columns = []
    for name in frame.columns:
        series = frame[name]
        entry: dict[str, Any] = {
            "name": str(name),
            "kind": column_kind(config, series),
            "dtype": str(series.dtype),
            "missing_share": round(float(series.isna().mean()), 4),
        }
        if name in flagged:
            entry["high_cardinality"] = True
        columns.append(entry)
    return {
        "version": VERSION,
        "learnt_from": source,
        "learnt_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": len(frame),
        "columns": columns,
    }


def write_contract(config: Config, contract: dict[str, Any]) -> Path:
    path = contract_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# The data contract: the columns of the input data and their kinds. Written by the first\n"
        "# `make data`; every later run checks new data against it. Keep it in git. To accept a\n"
        "# change on purpose: `make data UPDATE_SCHEMA=1`.\n"
    )
    path.write_text(header + yaml.safe_dump(contract, sort_keys=False), encoding="utf-8")
    return path


def load_contract(config: Config) -> dict[str, Any] | None:
    """The contract, or None when there is none yet; DataError naming the file when it is broken."""
    path = contract_path(config)
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise DataError(f"{CONTRACT_FILE}: not valid YAML ({err}); {_REPAIR}") from None
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, list) or not all(
        isinstance(c, dict)
        and isinstance(c.get("name"), str)
        and (c.get("kind") is None or c.get("kind") in KINDS)
        for c in columns
    ):
        raise DataError(
            f"{CONTRACT_FILE}: expected 'columns: [{{name, kind}}...]' with kinds "
            f"{', '.join(KINDS)}; {_REPAIR}"
        )
    return data


def contract_problems(config: Config, frame: pd.DataFrame, contract: dict[str, Any]) -> list[str]:
    """One phrase per column that breaks the contract, each naming the column."""
    expected = {c["name"]: c.get("kind") for c in contract["columns"]}
    problems = [f"column '{name}' is missing" for name in expected if name not in frame.columns]
    for name in frame.columns:
        if name not in expected:
            problems.append(f"column '{name}' is new (not in the contract)")
            continue
        was, now = expected[name], column_kind(config, frame[name])
        if was is None or now is None or was == now:
            continue
        problem = f"column '{name}' was {was} and now holds {HOLDS[now]}"
        if was == "numeric":
            problem += f" (e.g. {_non_numeric_examples(frame[name])})"
        problems.append(problem)
    return problems


def _non_numeric_examples(series: pd.Series) -> str:
    present = series.dropna()
    parsed = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    examples = present[parsed.isna()].astype(str).unique()[:3]
    return ", ".join(repr(v) for v in examples) or "none"


def check_contract(
    config: Config, frame: pd.DataFrame, contract: dict[str, Any], source: str
) -> None:
    """Raise DataError naming every column that breaks the contract."""
    problems = contract_problems(config, frame, contract)
    if not problems:
        return
    learnt = contract.get("learnt_from")
    origin = f" (learnt from {learnt})" if learnt and learnt != source else ""
    more = f"; and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
    raise DataError(
        f"{source} breaks the data contract {CONTRACT_FILE}{origin}: "
        + "; ".join(problems[:MAX_SHOWN])
        + f"{more}. {UPDATE_HINT}"
    )


def describe_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    if old is None:
        return []
    before = {c["name"]: c.get("kind") for c in old["columns"]}
    after = {c["name"]: c.get("kind") for c in new["columns"]}
    changes = [f"-{name}" for name in before if name not in after]
    changes += [f"+{name}" for name in after if name not in before]
    changes += [
        f"{name}: {before[name]} -> {kind}"
        for name, kind in after.items()
        if name in before and before[name] != kind
    ]
    return changes
