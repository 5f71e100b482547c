"""The data contract, as a pandera schema built from config.yaml and the columns of the data.

What it enforces:
- every column the config names exists: target, id, text, time, group and slice columns;
- the target has no missing values; binary: exactly two classes (and the configured positive class is
  one of them); multiclass/text: at least two classes with at least MIN_PER_CLASS rows each;
  regression: numbers, all finite;
- the id column is unique and never missing; the text column holds non-empty text; the time column
  holds dates;
- numeric features hold no infinities; a column that is almost all numbers but holds a few stray
  words (a typical export bug) is rejected rather than silently treated as a category;
- at least MIN_ROWS rows;
- every column listed in features.forbidden, features.drop, evaluate.slices and
  evaluate.sensitive_columns exists (a typo would silently disable the leakage guard or a
  check), with the closest real column as a hint.
A failure is a DataError whose message names the column, the check, and a few offending values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandas.api import types as ptypes

from .config import Config
from .errors import DataError
from .features import excluded_columns

MIN_ROWS = 50
MIN_PER_CLASS = 5
NUMERIC_SHARE = 0.9


def build_schema(
    config: Config, frame: pd.DataFrame, whole: bool = True, strict_types: bool = False
) -> pa.DataFrameSchema:
    """The schema learnt from `frame`. `whole=False` (one split of the data) skips the size checks;
    `strict_types=True` also pins each numeric feature to numbers and the classes to those of `frame`
    (used to check the test and serving splits against the training split)."""
    task, split = config.task, config.split
    columns: dict[str, pa.Column] = {task.target: _target_column(config, whole)}
    if strict_types and config.is_classification:
        known = sorted(frame[task.target].dropna().astype(str).unique())
        columns[task.target] = pa.Column(
            checks=pa.Check(
                lambda s: s.astype(str).isin(known), error="class never seen in training"
            ),
            nullable=False,
        )
    if task.id_column:
        columns[task.id_column] = pa.Column(nullable=False, unique=True)
    if task.type == "text_classification" and task.text_column:
        columns[task.text_column] = pa.Column(
            str,
            pa.Check(lambda s: s.str.strip().str.len() > 0, error="text must not be empty"),
            nullable=False,
            coerce=True,
        )
    if split.time_column:
        columns[split.time_column] = pa.Column(pa.DateTime, nullable=False, coerce=True)
    if split.group_column:
        columns[split.group_column] = pa.Column(nullable=False)
    for name in (*config.evaluate.slices, *config.evaluate.sensitive_columns):
        columns.setdefault(name, pa.Column(nullable=True))
    skip = excluded_columns(config) | set(columns)
    for name in frame.columns:
        if name not in skip:
            columns[name] = _feature_column(frame[name], strict_types)
    return pa.DataFrameSchema(
        columns,
        checks=_size_checks() if whole else [],
        strict=False,
        name="input data",
    )


def _size_checks() -> list[pa.Check]:
    return [pa.Check(lambda df: len(df) >= MIN_ROWS, error=f"needs at least {MIN_ROWS} rows")]


def _target_column(config: Config, whole: bool) -> pa.Column:
    task = config.task
    if task.type == "regression":
        return pa.Column(
            float,
            pa.Check(lambda s: np.isfinite(s), error="target values must be finite numbers"),
            nullable=False,
            coerce=True,
        )
    checks = []
    if whole:
        checks.append(
            pa.Check(
                lambda s: s.value_counts().min() >= MIN_PER_CLASS,
                error=f"every class needs at least {MIN_PER_CLASS} rows",
            )
        )
    if task.type == "binary_classification":
        limit = (lambda n: n == 2) if whole else (lambda n: n <= 2)
        checks.append(pa.Check(lambda s: limit(s.nunique()), error="needs exactly 2 classes"))
        if task.positive_class is not None:
            wanted = task.positive_class
            checks.append(
                pa.Check(
                    lambda s: wanted in {str(v) for v in s.unique()},
                    error=f"the positive class {wanted!r} (task.positive_class) never occurs",
                )
            )
    elif whole:
        checks.append(pa.Check(lambda s: s.nunique() >= 2, error="needs at least 2 classes"))
    return pa.Column(checks=checks, nullable=False)


def _feature_column(series: pd.Series, strict_types: bool = False) -> pa.Column:
    if ptypes.is_bool_dtype(series):
        return pa.Column(nullable=True)
    if ptypes.is_numeric_dtype(series):
        return pa.Column(
            float if strict_types else None,
            checks=pa.Check(lambda s: ~np.isinf(s.astype(float)), error="must not be infinite"),
            nullable=True,
            coerce=strict_types,
        )
    return pa.Column(
        checks=pa.Check(
            _no_stray_text,
            error="looks numeric but holds non-numeric values (fix the export or cast the column)",
        ),
        nullable=True,
    )


def _no_stray_text(series: pd.Series) -> pd.Series:
    """False for the few non-numbers in a column that is otherwise numbers."""
    present = series.dropna()
    if present.empty:
        return pd.Series(True, index=series.index)
    parsed = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    share = float(parsed.notna().mean())
    if share < NUMERIC_SHARE or share == 1.0:
        return pd.Series(True, index=series.index)
    ok = pd.Series(True, index=series.index)
    ok[parsed.index[parsed.isna()]] = False
    return ok


def validate(
    config: Config,
    frame: pd.DataFrame,
    where: str = "data",
    whole: bool = True,
    reference: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Check `frame` against the schema (learnt from `reference`, e.g. the training split, when given,
    else from `frame` itself); raise DataError naming the broken columns."""
    check_named_columns(config, frame, where)
    if reference is None:
        schema = build_schema(config, frame, whole)
    else:
        schema = build_schema(config, reference, whole, strict_types=True)
    return _checked(config, schema, frame, where)


def validate_target(config: Config, target: pd.Series, where: str = "data") -> None:
    """The whole-data rules alone (row count, classes and their sizes) on the target column: for
    data checked a chunk at a time (chunked.py), where only the target is kept whole."""
    schema = pa.DataFrameSchema(
        {config.task.target: _target_column(config, whole=True)},
        checks=_size_checks(),
        name="input data",
    )
    _checked(config, schema, target.rename(config.task.target).to_frame(), where)


def _checked(
    config: Config, schema: pa.DataFrameSchema, frame: pd.DataFrame, where: str
) -> pd.DataFrame:
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        message = describe_failures(err.failure_cases, schema.name)
        target = config.task.target
        if config.is_classification and f"column '{target}'" in message and target in frame:
            counts = frame[target].value_counts(dropna=False).head(10)
            shown = ", ".join(f"{k!r}: {v}" for k, v in counts.items())
            message += f" [classes in '{target}': {shown}]"
        raise DataError(f"{where}: {message}") from None


NAMED_LISTS = (
    "features.forbidden",
    "features.drop",
    "evaluate.slices",
    "evaluate.sensitive_columns",
)


def check_named_columns(config: Config, frame: pd.DataFrame, where: str = "data") -> None:
    """Every column config.yaml lists (forbidden, dropped, sliced) exists: a typo would otherwise
    silently switch off the leakage guard or the slice check. DataError naming the key, the column
    and the closest real column."""
    import difflib

    lists = {
        "features.forbidden": config.features.forbidden,
        "features.drop": config.features.drop,
        "evaluate.slices": config.evaluate.slices,
        "evaluate.sensitive_columns": config.evaluate.sensitive_columns,
    }
    columns = [str(c) for c in frame.columns]
    by_folded = {c.casefold(): c for c in columns}
    for key in NAMED_LISTS:
        for name in lists[key]:
            if name in columns:
                continue
            close = [by_folded[name.casefold()]] if name.casefold() in by_folded else []
            close = close or difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise DataError(f"config.yaml {key}: column '{name}' is not in {where}{hint}")


def describe_failures(cases: pd.DataFrame, schema_name: str | None = None) -> str:
    """One readable phrase per broken (column, check), at most three."""
    messages = []
    grouped = cases.groupby(["column", "check"], dropna=False, sort=False)
    for (column, check), rows in grouped:
        failures = rows["failure_case"].tolist()
        if str(check) == "column_in_dataframe":
            messages.append(f"column '{failures[0]}' is missing")
            continue
        whole = len(failures) == 1 and isinstance(failures[0], (bool, np.bool_))
        if (
            column is None
            or (isinstance(column, float) and np.isnan(column))
            or column == schema_name
        ):
            messages.append(f"the data as a whole fails '{check}'")
        elif whole:
            messages.append(f"column '{column}' fails '{check}'")
        else:
            shown = ", ".join(repr(v) for v in failures[:3])
            messages.append(
                f"column '{column}' fails '{check}' in {len(rows)} row(s) (e.g. {shown})"
            )
    extra = f"; and {len(messages) - 3} more problem(s)" if len(messages) > 3 else ""
    return "; ".join(messages[:3]) + extra
