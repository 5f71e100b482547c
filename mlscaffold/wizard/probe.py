"""The feasibility probe: a bounded look at the data before anything is generated.

Given the answers and a table (the shipped sample, or a file the user named: promise P2), it checks the
target and the task type, puts the dummy's and a quick cross-validated simple model's primary metric
beside `ready_threshold`, looks for single columns that leak the target, and asks whether there are
enough rows for the metric's interval to be narrower than `baseline_margin`. Each finding carries the
answers that would fix it, so the wizard can offer them in one keystroke.

The quick model needs pandas and scikit-learn (`pip install 'mlscaffold[probe]'`); without them the probe
reports only what the standard library can tell (the target, the task type, row counts) and says so.
Time is bounded: at most `MAX_ROWS` rows are read, at most `MODEL_ROWS` are modelled, and the model is
skipped when the budget is spent.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_ROWS = 100_000
MODEL_ROWS = 20_000
BUDGET_SECONDS = 10.0
FINGERPRINT_BYTES = 64 << 20
_INSTALL = "pip install 'mlscaffold[probe]'"
LOWER_IS_BETTER = frozenset({"mae", "rmse", "median_ae", "log_loss", "brier"})
CLASSIFICATION = ("binary_classification", "multiclass_classification", "text_classification")
_OUTCOME_WORDS = ("outcome", "result", "label", "target", "churned", "converted", "defaulted", "final")


@dataclass(frozen=True)
class Finding:
    """One thing the probe found: what it concerns (an answer key), why, and the answers that fix it."""

    key: str
    message: str
    fix: Mapping[str, Any] = field(default_factory=dict)

    def shown(self) -> str:
        fix = fix_text(self)
        return f"{self.message}" + (f" Proposed fix: {fix}." if fix else "")


def fix_text(finding: Finding) -> str:
    """The proposed answers, as `--set` would take them: 'task_type=regression, primary_metric=mae'."""
    return ", ".join(f"{k}={_fmt(v)}" for k, v in finding.fix.items())


@dataclass(frozen=True)
class ProbeReport:
    rows: int
    sampled: bool
    fingerprint: str
    metric: str
    dummy: float | None
    model: tuple[float, float] | None  # mean and standard deviation over the folds
    findings: tuple[Finding, ...]
    note: str = ""
    threshold: float | None = None

    @property
    def verdict(self) -> str:
        """The threshold beside the baselines: unreachable, already met by the dummy, or plausible."""
        for finding in self.findings:
            if finding.key == "ready_threshold":
                return "already met by the dummy" if "already met" in finding.message else "unreachable"
        return "plausible"

    def numbers(self) -> list[str]:
        """The baselines beside the threshold, and what the probe could not do."""
        lines = []
        if self.dummy is not None:
            lines.append(f"dummy baseline {self.metric}: {self.dummy:.4g}")
        if self.model is not None:
            mean, std = self.model
            lines.append(
                f"quick simple model {self.metric} (3-fold cross-validation): {mean:.4g}, range "
                f"{mean - 2 * std:.4g} to {mean + 2 * std:.4g} (mean ± 2 sd)"
            )
        if self.threshold is not None and self.dummy is not None:
            lines.append(f"ready_threshold {self.threshold:g}: {self.verdict}")
        if self.note:
            lines.append(self.note)
        return lines

    def headline(self) -> list[str]:
        """One line for the summary screen (the findings are shown apart, with their fixes)."""
        numbers = self.numbers()
        return [f"Feasibility probe ({self.rows} rows): " + "; ".join(numbers)] if numbers else []

    def summary(self, when: str) -> str:
        """The Markdown that docs/formulation.md records (deterministic for the same data and answers)."""
        lines = [
            f"Probed on {when}: {self.rows} rows{' (the first rows of a larger file)' * self.sampled}, "
            f"data fingerprint `{self.fingerprint}`.",
            "",
        ]
        lines += [f"- {line}" for line in self.numbers()]
        lines += [f"- {finding.shown()}" for finding in self.findings] or ["- no feasibility problem found"]
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


# ---------------------------------------------------------------------------------------------------
# finding the data (P2: the shipped sample, or a file the user named; never anything else)


def data_at_hand(
    answers: Mapping[str, Any],
    named_paths: Collection[str],
    sample_for: Callable[[str], Path | None],
) -> Path | None:
    """The file the probe may read: the shipped sample of the task type, or the CSV/Parquet file the
    user named (typed, --set or --answers), when it is a local file that exists."""
    source = answers.get("data_source")
    if source == "sample":
        return sample_for(str(answers.get("task_type") or ""))
    path = answers.get("data_path")
    if source not in ("csv", "parquet") or not isinstance(path, str) or path not in named_paths:
        return None
    if "://" in path:
        return None
    local = Path(path).expanduser()
    return local if local.is_file() else None


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    sampled: bool
    fingerprint: str


def fingerprint(path: Path) -> str:
    """sha256 of the file (of its first FINGERPRINT_BYTES and its size when it is larger), 16 hex digits."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as handle:
        remaining = FINGERPRINT_BYTES
        while remaining > 0 and (chunk := handle.read(min(1 << 20, remaining))):
            digest.update(chunk)
            remaining -= len(chunk)
    if size > FINGERPRINT_BYTES:
        digest.update(str(size).encode())
    return digest.hexdigest()[:16]


def read_table(path: Path, *, parquet: bool = False) -> Table:
    """Header and the first MAX_ROWS rows of a CSV (or Parquet) file, as text."""
    if parquet or path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path)
    if _import_stack():
        return _read_csv_fast(path)
    rows: list[list[str]] = []
    sampled = False
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        for row in reader:
            if len(rows) >= MAX_ROWS:
                sampled = True
                break
            if row:
                rows.append(row)
    return Table(header, rows, sampled, fingerprint(path))


def _read_csv_fast(path: Path) -> Table:
    """The same as the standard library's reading (text cells, "" for empty), by pandas' C parser."""
    import pandas as pd

    try:
        frame = pd.read_csv(
            path,
            nrows=MAX_ROWS + 1,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            encoding_errors="replace",
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        return Table([], [], False, fingerprint(path))
    except pd.errors.ParserError as err:
        raise ValueError(str(err).strip()) from None
    rows = frame.to_numpy().tolist()
    return Table([str(c) for c in frame.columns], rows[:MAX_ROWS], len(rows) > MAX_ROWS, fingerprint(path))


def _read_parquet(path: Path) -> Table:
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    batches = handle.iter_batches(batch_size=MAX_ROWS)
    first = next(batches, None)
    frame = first.to_pandas() if first is not None else handle.schema_arrow.empty_table().to_pandas()
    text = frame.astype(object).where(frame.notna(), "").astype(str)
    rows = [list(row) for row in text.itertuples(index=False)]
    return Table(
        [str(c) for c in frame.columns], rows, handle.metadata.num_rows > len(rows), fingerprint(path)
    )


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------------------------------------
# the probe


def probe_file(answers: Mapping[str, Any], path: Path, *, budget: float = BUDGET_SECONDS) -> ProbeReport:
    """Probe one file against the answers (read errors become a finding, never an exception)."""
    _import_stack()  # once per process; not counted against the budget
    started = time.monotonic()
    try:
        table = read_table(path, parquet=answers.get("data_source") == "parquet")
    except ImportError:
        return ProbeReport(
            0,
            False,
            "",
            str(answers.get("primary_metric") or ""),
            None,
            None,
            (),
            f"reading Parquet needs pyarrow: {_INSTALL}",
        )
    except (OSError, ValueError) as err:
        finding = Finding("data_path", f"The probe could not read {path}: {err}.")
        return ProbeReport(0, False, "", str(answers.get("primary_metric") or ""), None, None, (finding,))
    return probe(answers, table, budget=budget - (time.monotonic() - started), sample=_is_sample(answers))


def _is_sample(answers: Mapping[str, Any]) -> bool:
    return answers.get("data_source") == "sample"


def probe(
    answers: Mapping[str, Any], table: Table, *, budget: float = BUDGET_SECONDS, sample: bool = False
) -> ProbeReport:
    """Probe one table against the answers. `sample`: the shipped stand-in, whose size says nothing
    about the user's data (the size rule then reads `labelled_rows`, when answered)."""
    stack = _import_stack()  # once per process; not counted against the budget
    started = time.monotonic()
    header, rows = table.header, table.rows
    metric = str(answers.get("primary_metric") or "")
    target = str(answers.get("target") or "")
    findings: list[Finding] = []
    if target not in header:
        findings.append(
            Finding(
                "target",
                f"The target column '{target}' is not in the data (columns: "
                f"{', '.join(header[:12])}{' ...' if len(header) > 12 else ''}).",
                {"target": header[-1]} if header else {},
            )
        )
        return ProbeReport(len(rows), table.sampled, table.fingerprint, metric, None, None, tuple(findings))
    column = header.index(target)
    values = [row[column] if column < len(row) else "" for row in rows]
    findings += _task_findings(answers, values)
    findings += _name_findings(header, target, answers)
    dummy = model = None
    note = ""
    try:
        if not stack:
            raise ImportError("pandas and scikit-learn")
        frame, y = _frame(header, rows, target)
    except ImportError:
        note = f"the quick model and the full leakage scan need pandas and scikit-learn: {_INSTALL}"
        findings += _exact_leak_findings(header, rows, column, answers)
        dummy = _stdlib_dummy(answers, values)
        findings += _threshold_findings(answers, dummy, None)
    else:
        findings += _leak_findings(frame, y, answers)
        if time.monotonic() - started < budget / 2:
            dummy, model = _scores(frame, y, answers)
            findings += _threshold_findings(answers, dummy, model)
        else:
            note = f"the quick model was skipped: the probe's {budget:.0f} s budget was spent reading"
    findings += _size_findings(answers, values, model, sample=sample)
    threshold = answers.get("ready_threshold")
    return ProbeReport(
        len(rows),
        table.sampled,
        table.fingerprint,
        metric,
        dummy,
        model,
        tuple(findings),
        note,
        float(threshold) if isinstance(threshold, int | float) and not isinstance(threshold, bool) else None,
    )


# What the interview calls: the answers and the files the user named -> a report, or None (no data).
Probe = Callable[[Mapping[str, Any], Collection[str]], "ProbeReport | None"]


def _import_stack() -> bool:
    """Import pandas and the scikit-learn pieces the probe uses; False when they are not installed."""
    try:
        import pandas  # noqa: F401
        import sklearn.compose
        import sklearn.feature_extraction.text
        import sklearn.linear_model
        import sklearn.metrics
        import sklearn.model_selection  # noqa: F401
    except ImportError:
        return False
    return True


# Answers the probe's findings depend on (a change re-runs it; others reuse the last report).
PROBED_KEYS = (
    "data_source",
    "data_path",
    "task_type",
    "target",
    "positive_class",
    "text_column",
    "id_column",
    "primary_metric",
    "ready_threshold",
    "baseline_margin",
    "forbidden_features",
    "labelled_rows",
)


class Prober:
    """The probe as the interview calls it: finds the data at hand, runs at most once per set of
    probed answers (reading each file once), and keeps the last report for the caller."""

    def __init__(
        self,
        sample_for: Callable[[str], Path | None],
        *,
        force: bool = False,
        budget: float = BUDGET_SECONDS,
    ) -> None:
        self.sample_for = sample_for
        self.force = force
        self.budget = budget
        self.last: ProbeReport | None = None
        self._reports: dict[str, ProbeReport] = {}
        self._tables: dict[Path, Table] = {}

    def __call__(self, answers: Mapping[str, Any], named_paths: Collection[str]) -> ProbeReport | None:
        if answers.get("probe") is False and not self.force:
            self.last = None
            return None
        path = data_at_hand(answers, named_paths, self.sample_for)
        if path is None:
            self.last = None
            return None
        key = repr((str(path), [answers.get(k) for k in PROBED_KEYS]))
        if key not in self._reports:
            self._reports[key] = self._probe(answers, path)
        self.last = self._reports[key]
        return self.last

    def _probe(self, answers: Mapping[str, Any], path: Path) -> ProbeReport:
        started = time.monotonic()
        if path not in self._tables:
            try:
                self._tables[path] = read_table(path, parquet=answers.get("data_source") == "parquet")
            except (ImportError, OSError, ValueError):
                return probe_file(answers, path, budget=self.budget)  # reports why it cannot read
        left = self.budget - (time.monotonic() - started)
        return probe(answers, self._tables[path], budget=left, sample=_is_sample(answers))


def _task_findings(answers: Mapping[str, Any], values: list[str]) -> list[Finding]:
    """A task type that contradicts the target: a 2-valued "regression", a float "classification",
    a "binary" target with more classes, a classification with hundreds of classes."""
    task = answers.get("task_type")
    present = [v.strip() for v in values if v.strip()]
    if not present:
        return [Finding("target", "The target column is empty in the data.")]
    counts = Counter(present)
    numbers = [n for n in (_number(v) for v in present) if n is not None]
    numeric = len(numbers) == len(present)
    distinct = len(counts)
    many = distinct > 50 and distinct > 0.05 * len(present)
    to_binary = {"task_type": "binary_classification", "primary_metric": "roc_auc"}
    to_multiclass = {"task_type": "multiclass_classification", "primary_metric": "f1_macro"}
    to_regression = {"task_type": "regression", "primary_metric": "mae"}
    if task == "regression" and distinct <= 2:
        return [
            _task(
                f"The target has {distinct} distinct values, so it is a label, not a quantity: "
                "this is binary classification.",
                to_binary,
            )
        ]
    if task == "regression" and not numeric:
        return [
            _task(
                f"The target holds text ({distinct} distinct values, e.g. "
                f"'{counts.most_common(1)[0][0]}'): a label, which is classification.",
                to_multiclass,
            )
        ]
    if task in CLASSIFICATION and numeric and many:
        kind = "decimal numbers" if any(not n.is_integer() for n in numbers) else "whole numbers"
        return [
            _task(
                f"The target holds {distinct} distinct {kind} in {len(present)} rows: a quantity "
                "to predict, which is regression.",
                to_regression,
            )
        ]
    if task in CLASSIFICATION and distinct < 2:
        return [Finding("target", f"The target has a single value ('{present[0]}'): nothing to learn.")]
    if task in ("multiclass_classification", "text_classification") and distinct > 100:
        return [
            _task(
                f"The target has {distinct} classes: too many to learn from {len(present)} rows; "
                "group rare classes or predict a coarser label.",
                {},
            )
        ]
    if task == "binary_classification" and distinct > 2:
        return [
            _task(
                f"The target has {distinct} classes, not 2: this is multiclass classification.", to_multiclass
            )
        ]
    if task == "multiclass_classification" and distinct == 2:
        return [_task("The target has 2 classes: this is binary classification.", to_binary)]
    return []


def _task(message: str, fix: Mapping[str, Any]) -> Finding:
    return Finding("task_type", message, fix)


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def _named_like_outcome(name: str, target: str) -> bool:
    tokens = _tokens(name)
    target_tokens = _tokens(target)
    if target_tokens and len("".join(target_tokens)) >= 3:
        n = len(target_tokens)
        if any(tokens[i : i + n] == target_tokens for i in range(len(tokens) - n + 1)):
            return True
    return any(token in _OUTCOME_WORDS for token in tokens)


def _name_findings(header: list[str], target: str, answers: Mapping[str, Any]) -> list[Finding]:
    forbidden = set(answers.get("forbidden_features") or [])
    suspects = [
        name
        for name in header
        if name != target and name not in forbidden and _named_like_outcome(name, target)
    ]
    if not suspects:
        return []
    return [
        Finding(
            "forbidden_features",
            f"Columns named like the outcome may only be known after it: {', '.join(suspects)}.",
            {"forbidden_features": sorted(forbidden | set(suspects))},
        )
    ]


def _stdlib_dummy(answers: Mapping[str, Any], values: list[str]) -> float | None:
    """The dummy's primary metric without scikit-learn (on all rows: the prior, or the median)."""
    metric = str(answers.get("primary_metric") or "")
    present = [v.strip() for v in values if v.strip()]
    if not present:
        return None
    if answers.get("task_type") == "regression":
        ys = [n for n in map(_number, present) if n is not None]
        if len(ys) < 2:
            return None
        ys.sort()
        median = ys[len(ys) // 2] if len(ys) % 2 else (ys[len(ys) // 2 - 1] + ys[len(ys) // 2]) / 2
        errors = sorted(abs(y - median) for y in ys)
        mean = sum(ys) / len(ys)
        total = sum((y - mean) ** 2 for y in ys)
        squared = sum(e * e for e in errors)
        return {
            "mae": sum(errors) / len(errors),
            "rmse": math.sqrt(squared / len(errors)),
            "median_ae": errors[len(errors) // 2],
            "r2": 1 - squared / total if total else None,
        }.get(metric)
    counts = Counter(present)
    share = max(counts.values()) / len(present)
    positive = str(answers.get("positive_class") or sorted(counts)[-1])
    rate = counts.get(positive, 0) / len(present)
    return {
        "roc_auc": 0.5,
        "accuracy": share,
        "balanced_accuracy": 1 / len(counts),
        "f1_macro": 2 * share / (1 + share) / len(counts),
        "average_precision": rate,
        "brier": rate * (1 - rate),
    }.get(metric)


def _exact_leak_findings(
    header: list[str], rows: list[list[str]], column: int, answers: Mapping[str, Any]
) -> list[Finding]:
    """Without pandas: columns whose every value maps to one target value (classification only)."""
    if answers.get("task_type") not in CLASSIFICATION:
        return []
    forbidden = set(answers.get("forbidden_features") or [])
    leaks = []
    for index, name in enumerate(header):
        if index == column or name in forbidden:
            continue
        seen: dict[str, set[str]] = {}
        for row in rows:
            if index < len(row) and column < len(row) and row[index].strip() and row[column].strip():
                seen.setdefault(_id_stem(row[index]), set()).add(row[column])
        labels = {label for classes in seen.values() for label in classes}
        if 1 < len(seen) < len(rows) / 2 and len(labels) > 1 and all(len(c) == 1 for c in seen.values()):
            leaks.append(name)
    return _leak_finding(leaks, forbidden)


def _id_stem(value: str) -> str:
    """An id with its digits removed ('churn-0042' -> 'churn-'), so an id that encodes a label shows."""
    return re.sub(r"\d+", "#", value.strip())


def _frame(header: list[str], rows: list[list[str]], target: str) -> tuple[Any, Any]:
    import pandas as pd

    width = len(header)
    if len(rows) > MODEL_ROWS:  # a fixed random sample of rows, in file order
        rows = [rows[i] for i in sorted(random.Random(0).sample(range(len(rows)), MODEL_ROWS))]
    frame = pd.DataFrame([(row + [""] * width)[:width] for row in rows], columns=header)
    frame = frame.replace("", None)
    for name in frame.columns:
        converted = pd.to_numeric(frame[name], errors="coerce")
        if converted.notna().sum() == frame[name].notna().sum():
            frame[name] = converted
    frame = frame[frame[target].notna()]
    return frame.drop(columns=[target]), frame[target]


def _leak_findings(frame: Any, y: Any, answers: Mapping[str, Any]) -> list[Finding]:
    """Single columns that predict the target almost perfectly (mapping or ranking)."""
    import pandas as pd

    forbidden = set(answers.get("forbidden_features") or [])
    classification = answers.get("task_type") in CLASSIFICATION
    leaks: list[str] = []
    for name in frame.columns:
        if name in forbidden:
            continue
        col = frame[name]
        if col.notna().mean() < 0.5:
            continue
        if _leaks(col, y, classification) or (
            classification
            and not pd.api.types.is_numeric_dtype(col)
            and _leaks(col.map(_id_stem, na_action="ignore"), y, True)
        ):
            leaks.append(str(name))
    return _leak_finding(leaks, forbidden)


def _leak_finding(leaks: list[str], forbidden: set[str]) -> list[Finding]:
    if not leaks:
        return []
    return [
        Finding(
            "forbidden_features",
            f"These columns alone predict the target almost perfectly, "
            f"which usually means leakage (known only after the outcome, or an id that encodes "
            f"it): {', '.join(leaks)}.",
            {"forbidden_features": sorted(forbidden | set(leaks))},
        )
    ]


def _leaks(col: Any, y: Any, classification: bool) -> bool:
    import pandas as pd

    both = pd.DataFrame({"x": col, "y": y}).dropna()
    if len(both) < 20:
        return False
    if classification and both["y"].nunique() >= 2:
        distinct = both["x"].nunique()
        if distinct < len(both) * 0.5:  # a category (or a coarse number): does each value name one class?
            # the share of rows whose value's most common class is theirs
            pairs = both.groupby(["x", "y"], observed=True).size()
            purity = pairs.groupby(level=0).max().sum() / len(both)
            return bool(purity > 0.99) and distinct > 1
        if pd.api.types.is_numeric_dtype(both["x"]) and both["y"].nunique() == 2:
            from sklearn.metrics import roc_auc_score

            positive = both["y"] == sorted(both["y"].unique(), key=str)[-1]
            auc = roc_auc_score(positive, both["x"])
            return bool(abs(auc - 0.5) > 0.49)
        return False
    if pd.api.types.is_numeric_dtype(both["x"]) and pd.api.types.is_numeric_dtype(both["y"]):
        return bool(abs(both["x"].corr(both["y"], method="spearman")) > 0.995)
    return False


_SCORERS = {
    "roc_auc": "roc_auc",
    "average_precision": "average_precision",
    "f1": "f1",
    "f1_macro": "f1_macro",
    "f1_weighted": "f1_weighted",
    "balanced_accuracy": "balanced_accuracy",
    "accuracy": "accuracy",
    "log_loss": "neg_log_loss",
    "brier": "neg_brier_score",
    "mae": "neg_mean_absolute_error",
    "median_ae": "neg_median_absolute_error",
    "rmse": "neg_root_mean_squared_error",
    "r2": "r2",
}


def _scores(
    frame: Any, y: Any, answers: Mapping[str, Any]
) -> tuple[float | None, tuple[float, float] | None]:
    """The dummy's and a simple model's cross-validated primary metric (3 folds)."""
    from sklearn.model_selection import cross_val_score

    metric = str(answers.get("primary_metric") or "")
    scorer = _SCORERS.get(metric)
    if scorer is None or len(frame) < 30:
        return None, None
    classification = answers.get("task_type") in CLASSIFICATION
    if classification and (y.value_counts().min() < 3 or y.nunique() < 2):
        return None, None
    target = y.astype(str) if classification else y
    if metric in ("f1", "average_precision", "roc_auc", "brier") and classification:
        positive = str(answers.get("positive_class") or sorted(target.unique())[-1])
        target = (target == positive).astype(int)
    dummy_model, simple = _models(frame, answers, classification)
    sign = -1.0 if scorer.startswith("neg_") else 1.0
    try:
        dummy = sign * float(cross_val_score(dummy_model, frame, target, cv=3, scoring=scorer).mean())
        folds = sign * cross_val_score(simple, frame, target, cv=3, scoring=scorer)
    except ValueError:
        return None, None
    return dummy, (float(folds.mean()), float(folds.std()))


def _models(frame: Any, answers: Mapping[str, Any], classification: bool) -> tuple[Any, Any]:
    from sklearn.compose import ColumnTransformer
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    forbidden = set(answers.get("forbidden_features") or []) | {str(answers.get("id_column") or "")}
    text = str(answers.get("text_column") or "")
    numeric = [c for c in frame.columns if c not in forbidden and frame[c].dtype.kind in "if"]
    parts: list[Any] = [("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric)] if numeric else []
    if answers.get("task_type") == "text_classification" and text in frame.columns:
        parts.append(("text", TfidfVectorizer(min_df=2), text))
    else:
        categorical = [
            c for c in frame.columns if c not in forbidden and c not in numeric and frame[c].nunique() <= 50
        ]
        if categorical:
            encoder = make_pipeline(
                SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
            )
            parts.append(("cat", encoder, categorical))
    features = ColumnTransformer(parts or [("none", "drop", list(frame.columns))])
    if classification:
        return DummyClassifier(strategy="prior"), make_pipeline(features, LogisticRegression(max_iter=500))
    return DummyRegressor(strategy="median"), make_pipeline(features, Ridge())


def _threshold_findings(
    answers: Mapping[str, Any], dummy: float | None, model: tuple[float, float] | None
) -> list[Finding]:
    threshold = answers.get("ready_threshold")
    metric = str(answers.get("primary_metric") or "")
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or dummy is None:
        return []
    lower = metric in LOWER_IS_BETTER
    met_by_dummy = dummy <= threshold if lower else dummy >= threshold
    if met_by_dummy:
        margin = answers.get("baseline_margin")
        step = float(margin) if isinstance(margin, int | float) and margin > 0 else 0.05
        better = dummy * (1 - step) if lower else min(dummy + step, 1.0)
        if model is not None and (model[0] < better if lower else model[0] > better):
            better = model[0]  # what a simple model gets: a bar that means something
        return [
            Finding(
                "ready_threshold",
                f"ready_threshold {threshold:g} is already met by the dummy "
                f"baseline ({metric} {dummy:.4g}): it would let a useless model through.",
                {"ready_threshold": round(better, 4)},
            )
        ]
    if model is None:
        return []
    mean, std = model
    if lower:
        unreachable = threshold < mean / 2 - 2 * std
    else:
        unreachable = threshold > mean + max(3 * std, 0.5 * (1 - mean), 0.05) or threshold > 1
    if unreachable:
        unit = " (a unit mismatch? it is in the target's units)" if lower and threshold < mean / 10 else ""
        return [
            Finding(
                "ready_threshold",
                f"ready_threshold {threshold:g} looks unreachable: a quick simple "
                f"model gets {metric} {mean:.4g} ± {std:.2g}{unit}.",
                {"ready_threshold": round(mean, 4)},
            )
        ]
    return []


def _size_findings(
    answers: Mapping[str, Any], values: list[str], model: tuple[float, float] | None, *, sample: bool
) -> list[Finding]:
    """Rows for the metric's 95% interval on the test split to be narrower than the margin.

    The interval of a [0,1] metric near p on n test rows is about ±1.96·sqrt(p(1-p)/n) (the normal
    approximation, with p the quick model's score); an imbalanced target needs more rows, by the
    smallest class's share against an even split. On the shipped sample (a stand-in) the rows are
    those the user said they have (`labelled_rows`), when answered.
    """
    margin = answers.get("baseline_margin")
    metric = str(answers.get("primary_metric") or "")
    if not isinstance(margin, int | float) or margin <= 0 or metric in LOWER_IS_BETTER or metric == "r2":
        return []
    present = [v for v in values if v.strip()]
    if answers.get("task_type") not in CLASSIFICATION or not present:
        return []
    counts = Counter(present)
    rows = len(present)
    if sample:
        stated = answers.get("labelled_rows")
        if not isinstance(stated, int) or isinstance(stated, bool) or stated <= 0:
            return []
        rows = stated
    test_size = answers.get("test_size")
    test_share = float(test_size) if isinstance(test_size, int | float) and 0 < test_size < 1 else 0.2
    p = model[0] if model is not None and 0 < model[0] < 1 else 0.8
    share = min(counts.values()) / len(present)
    smallest = math.floor(share * rows)
    n_test_needed = (1.96**2) * p * (1 - p) / (margin**2)
    needed = math.ceil(n_test_needed / test_share / max(share * len(counts), 1e-9))
    if rows >= needed:
        return []
    half_width = 1.96 * math.sqrt(p * (1 - p) / max(rows * test_share * share * len(counts), 1))
    where = "you have" if sample else "in the data"
    return [
        Finding(
            "baseline_margin",
            f"{rows} labelled rows {where} (smallest class: about {smallest}) "
            f"give {metric} a 95% interval of ±{half_width:.3f} on a {test_share:.0%} test split, "
            f"wider than the margin {margin:g}: about {needed} rows would be needed, or a wider "
            "margin.",
            {"baseline_margin": round(min(math.ceil(half_width * 1000) / 1000, 1.0), 3)},
        )
    ]
