"""Typed access to config.yaml: every path and threshold the stages use.

`load_config()` finds config.yaml (the `--config` option, the MLPIPE_CONFIG variable, or the current
folder and its parents), checks every key against the dataclasses below, and resolves relative paths
against the folder that holds the file. A wrong key or value is a ConfigError naming it.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Union

import yaml

from .errors import ConfigError

CONFIG_NAME = "config.yaml"
ENV_VAR = "MLPIPE_CONFIG"

TASK_TYPES = (
    "binary_classification",
    "multiclass_classification",
    "regression",
    "text_classification",
)
CHOICES: dict[str, tuple[str, ...]] = {
    "task.type": TASK_TYPES,
    "data.source": ("sample", "csv", "parquet", "sql"),
    "data.duplicates": ("keep", "drop"),
    "split.method": ("stratified", "random", "time", "group"),
    "serving.mode": ("batch", "online", "both"),
    "tracking.backend": ("mlflow", "none"),
    "engine.name": ("local", "spark"),
    "registry.backend": ("auto", "file", "mlflow"),
    "retrain.policy": ("append", "sliding_window"),
}
METRICS: dict[str, tuple[str, ...]] = {
    "binary_classification": (
        "roc_auc",
        "average_precision",
        "f1",
        "accuracy",
        "balanced_accuracy",
        "log_loss",
        "brier",
    ),
    "multiclass_classification": (
        "f1_macro",
        "f1_weighted",
        "accuracy",
        "balanced_accuracy",
        "log_loss",
    ),
    "text_classification": ("f1_macro", "f1_weighted", "accuracy", "balanced_accuracy", "log_loss"),
    "regression": ("mae", "rmse", "r2", "median_ae"),
}
METRIC_ALIASES = {"pr_auc": "average_precision", "macro_f1": "f1_macro", "auc": "roc_auc"}


@dataclass(frozen=True)
class ProjectSection:
    name: str = "project"
    package: str = "project"
    goal: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class TaskSection:
    type: str = "binary_classification"
    target: str = "target"
    positive_class: str | None = None
    text_column: str | None = None
    id_column: str | None = None


@dataclass(frozen=True)
class DataSection:
    source: str = "sample"
    path: str | None = None
    query: str | None = None
    sample: str | None = None
    processed_dir: str = "data/processed"
    duplicates: str = "keep"
    chunk_rows: int = 250_000


@dataclass(frozen=True)
class SplitSection:
    method: str = "stratified"
    test_size: float = 0.2
    serving_size: float = 0.2
    time_column: str | None = None
    group_column: str | None = None
    seed: int = 42


@dataclass(frozen=True)
class FeaturesSection:
    forbidden: list[str] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BaselineSection:
    heuristic_rule: str | None = None


@dataclass(frozen=True)
class EvaluateSection:
    primary_metric: str = "roc_auc"
    ready_threshold: float | None = None
    baseline_margin: float = 0.02
    slices: list[str] = field(default_factory=list)
    slice_min_n: int = 30
    cost_fp: float = 1.0
    cost_fn: float = 1.0
    bootstrap: int = 1000
    # R7: how much worse than the champion a challenger may be (absolute for [0, 1] metrics,
    # relative for error metrics) before the paired bootstrap may call it a regression
    champion_tolerance: float = 0.02
    # R6: a simpler candidate (the linear model) within this of the chosen one is preferred
    simpler_tolerance: float = 0.01
    prefer_simpler: bool = True
    # R9: per-group metrics for these columns (fairlearn's MetricFrame), largest gap vs the bound
    sensitive_columns: list[str] = field(default_factory=list)
    fairness_max_gap: float = 0.1
    fairness_min_selection_ratio: float = 0.8
    fairness_blocking: bool = False


@dataclass(frozen=True)
class ServingSection:
    mode: str = "batch"
    latency_budget_ms: float = 200.0
    host: str = "127.0.0.1"
    port: int = 8000
    input_margin: float = 1.0


@dataclass(frozen=True)
class MonitorSection:
    psi_warn: float = 0.1
    psi_alert: float = 0.25
    drift_share: float = 0.5
    perf_drop: float = 0.1
    min_rows: int = 30
    max_model_age_days: int = 90
    missing_warn_abs: float = 0.01
    missing_alert_abs: float = 0.05
    sample_rows: int = 200_000


@dataclass(frozen=True)
class TrackingSection:
    """Experiment tracking (tracking.py). Without the block in config.yaml tracking is off."""

    backend: str = "none"
    experiment: str | None = None
    db: str = "mlruns.db"
    artifacts: str = "mlartifacts"
    log_models: bool = True


@dataclass(frozen=True)
class RegistrySection:
    """Model versions and the champion (registry.py): a JSON file under artifacts/, or MLflow's
    model registry with a `champion` alias (needs tracking.backend: mlflow); `auto` follows
    tracking.backend."""

    backend: str = "auto"
    model_name: str | None = None
    feedback: str = "logs/feedback.jsonl"


@dataclass(frozen=True)
class RetrainSection:
    """`retrain`: the original training split plus the labelled recent window (feedback)."""

    policy: str = "append"
    window_rows: int = 5000
    min_labels: int = 30


@dataclass(frozen=True)
class TrainSection:
    """How many training rows `train` fits on at most (it samples above; None: all)."""

    max_rows: int | None = 1_000_000


@dataclass(frozen=True)
class ModelsSection:
    """Model candidates cross-validated on the training split (models.py CANDIDATES)."""

    candidates: list[str] = field(default_factory=lambda: ["linear"])
    cv_folds: int = 5


@dataclass(frozen=True)
class SearchSection:
    """Optional Optuna search over the chosen candidate's hyperparameters."""

    enabled: bool = False
    n_trials: int = 20
    timeout_s: float = 120.0


@dataclass(frozen=True)
class AnalyzeSection:
    """`analyze`: what to do next (label errors, learning curve, error slices, importance)."""

    review_file: str = "data/label_review.csv"
    max_label_issues: int = 50
    min_slice_n: int = 10
    learning_curve_points: int = 5


@dataclass(frozen=True)
class EngineSection:
    """Where the data is processed: `local` (pandas) or `spark` (spark.py; docs/spark.md)."""

    name: str = "local"
    master: str = "local[*]"


@dataclass(frozen=True)
class PathsSection:
    artifacts: str = "artifacts"
    reports: str = "reports"
    logs: str = "logs"
    predictions: str = "predictions"


SECTIONS: dict[str, type] = {
    "project": ProjectSection,
    "task": TaskSection,
    "data": DataSection,
    "split": SplitSection,
    "features": FeaturesSection,
    "baseline": BaselineSection,
    "evaluate": EvaluateSection,
    "serving": ServingSection,
    "monitor": MonitorSection,
    "tracking": TrackingSection,
    "models": ModelsSection,
    "search": SearchSection,
    "analyze": AnalyzeSection,
    "engine": EngineSection,
    "train": TrainSection,
    "registry": RegistrySection,
    "retrain": RetrainSection,
    "paths": PathsSection,
}


@dataclass(frozen=True)
class Config:
    """The whole of config.yaml, with `root` = the folder that holds it."""

    root: Path
    project: ProjectSection
    task: TaskSection
    data: DataSection
    split: SplitSection
    features: FeaturesSection
    baseline: BaselineSection
    evaluate: EvaluateSection
    serving: ServingSection
    monitor: MonitorSection
    paths: PathsSection
    tracking: TrackingSection = field(default_factory=TrackingSection)
    models: ModelsSection = field(default_factory=ModelsSection)
    search: SearchSection = field(default_factory=SearchSection)
    analyze: AnalyzeSection = field(default_factory=AnalyzeSection)
    engine: EngineSection = field(default_factory=EngineSection)
    train: TrainSection = field(default_factory=TrainSection)
    registry: RegistrySection = field(default_factory=RegistrySection)
    retrain: RetrainSection = field(default_factory=RetrainSection)
    source: Path | None = None

    def path(self, value: str | os.PathLike[str]) -> Path:
        """A path from the config, made absolute against the project root."""
        candidate = Path(value)
        return candidate if candidate.is_absolute() else self.root / candidate

    @property
    def processed_dir(self) -> Path:
        return self.path(self.data.processed_dir)

    @property
    def artifacts_dir(self) -> Path:
        return self.path(self.paths.artifacts)

    @property
    def reports_dir(self) -> Path:
        return self.path(self.paths.reports)

    @property
    def logs_dir(self) -> Path:
        return self.path(self.paths.logs)

    @property
    def predictions_dir(self) -> Path:
        return self.path(self.paths.predictions)

    @property
    def is_classification(self) -> bool:
        return self.task.type != "regression"


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config file to use: explicit path, then $MLPIPE_CONFIG, then ./config.yaml or a parent's."""
    chosen = explicit or os.environ.get(ENV_VAR)
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        return path
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder / CONFIG_NAME
    raise ConfigError(f"{CONFIG_NAME} not found in {here} or its parents; pass --config FILE")


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and check config.yaml; see the module docstring for where it is looked for."""
    file = find_config(path).resolve()
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{file}: cannot read: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{file}: not valid YAML: {err}") from err
    return config_from_dict(raw if raw is not None else {}, root=file.parent, source=file)


def config_from_dict(raw: Any, root: Path, source: Path | None = None) -> Config:
    """Build a Config from a parsed mapping (used by load_config and by tests)."""
    where = str(source or CONFIG_NAME)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: the top level must be a mapping of sections")
    _reject_unknown(raw, SECTIONS, where, "")
    sections = {
        name: _build_section(kind, raw.get(name), where, name) for name, kind in SECTIONS.items()
    }
    metric = sections["evaluate"].primary_metric
    if metric in METRIC_ALIASES:
        sections["evaluate"] = replace(sections["evaluate"], primary_metric=METRIC_ALIASES[metric])
    config = Config(root=root, source=source, **sections)
    _check_consistency(config, where)
    return config


def _reject_unknown(
    raw: dict[str, Any], known: typing.Iterable[str], where: str, prefix: str
) -> None:
    known = list(known)
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else ""
            raise ConfigError(f"{where}: unknown key '{prefix}{key}'{hint}")


def _build_section(kind: type, raw: Any, where: str, name: str) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: '{name}' must be a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(kind)
    _reject_unknown(raw, [f.name for f in fields(kind)], where, f"{name}.")
    values: dict[str, Any] = {}
    for spec in fields(kind):
        key = f"{name}.{spec.name}"
        if spec.name in raw:
            values[spec.name] = _coerce(raw[spec.name], hints[spec.name], where, key)
        elif spec.default is MISSING and spec.default_factory is MISSING:  # pragma: no cover
            raise ConfigError(f"{where}: missing key '{key}'")
        chosen = values.get(spec.name)
        if key in CHOICES and chosen is not None and chosen not in CHOICES[key]:
            options = ", ".join(CHOICES[key])
            raise ConfigError(f"{where}: '{key}' is {chosen!r}; expected one of: {options}")
    return kind(**values)


def _coerce(value: Any, hint: Any, where: str, key: str) -> Any:
    optional = _is_optional(hint)
    base = _strip_optional(hint)
    if value is None or (isinstance(value, str) and value.strip() == "" and optional):
        if optional:
            return None
        raise ConfigError(f"{where}: '{key}' must not be empty")
    if base in (int, float) and isinstance(value, str):  # a quoted number: "0.8"
        with contextlib.suppress(ValueError):
            value = base(value.strip())
    if base is bool:
        if isinstance(value, bool):
            return value
    elif base is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif base is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif base is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    elif typing.get_origin(base) is list:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
            return [str(v) for v in value]
        raise ConfigError(f"{where}: '{key}' must be a list of column names, got {value!r}")
    else:  # pragma: no cover - a new annotation nobody taught _coerce
        return value
    expected = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    raise ConfigError(f"{where}: '{key}' must be {expected[base]}, got {value!r}")


def _is_optional(hint: Any) -> bool:
    return _is_union(hint) and type(None) in typing.get_args(hint)


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (Union, types.UnionType)


def _strip_optional(hint: Any) -> Any:
    if _is_union(hint):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


def _check_consistency(config: Config, where: str) -> None:
    split, task, data = config.split, config.task, config.data
    for key, share in (
        ("split.test_size", split.test_size),
        ("split.serving_size", split.serving_size),
    ):
        if not 0 < share < 1:
            raise ConfigError(f"{where}: '{key}' must be between 0 and 1, got {share}")
    if split.test_size + split.serving_size >= 0.9:
        raise ConfigError(
            f"{where}: 'split.test_size' + 'split.serving_size' leave too little to train"
        )
    if split.method == "time" and not split.time_column:
        raise ConfigError(f"{where}: 'split.time_column' is required when split.method is time")
    if split.method == "group" and not split.group_column:
        raise ConfigError(f"{where}: 'split.group_column' is required when split.method is group")
    if task.type == "text_classification" and not task.text_column:
        raise ConfigError(f"{where}: 'task.text_column' is required for text_classification")
    if data.source == "sample" and not data.sample:
        raise ConfigError(f"{where}: 'data.sample' must name a file under data/sample")
    if data.source in ("csv", "parquet", "sql") and not data.path:
        raise ConfigError(f"{where}: 'data.path' is required when data.source is {data.source}")
    if data.source == "sql" and not data.query:
        raise ConfigError(f"{where}: 'data.query' is required when data.source is sql")
    valid = METRICS[task.type]
    if config.evaluate.primary_metric not in valid:
        raise ConfigError(
            f"{where}: 'evaluate.primary_metric' is {config.evaluate.primary_metric!r}, which does not "
            f"suit {task.type}; expected one of: {', '.join(valid)}"
        )
    monitor = config.monitor
    if config.data.chunk_rows < 100:
        raise ConfigError(f"{where}: 'data.chunk_rows' must be 100 or more")
    if monitor.sample_rows < max(1000, monitor.min_rows):
        raise ConfigError(
            f"{where}: 'monitor.sample_rows' must be at least 1000 and at least 'monitor.min_rows'"
        )
    if not 0 < monitor.psi_warn < monitor.psi_alert:
        raise ConfigError(
            f"{where}: 'monitor.psi_warn' must be above 0 and below 'monitor.psi_alert'"
        )
    if config.serving.input_margin < 0:
        raise ConfigError(f"{where}: 'serving.input_margin' must be 0 or more")
    if config.evaluate.bootstrap < 0:
        raise ConfigError(f"{where}: 'evaluate.bootstrap' must be 0 or more")
    _check_loop(config, where)


def _check_loop(config: Config, where: str) -> None:
    """The iteration loop's sections: candidates, search and analyze."""
    models, search = config.models, config.search
    if not models.candidates:
        raise ConfigError(f"{where}: 'models.candidates' must name at least one model")
    if len(set(models.candidates)) != len(models.candidates):
        raise ConfigError(f"{where}: 'models.candidates' lists a model twice")
    if models.cv_folds < 2:
        raise ConfigError(f"{where}: 'models.cv_folds' must be 2 or more")
    if search.n_trials < 1:
        raise ConfigError(f"{where}: 'search.n_trials' must be 1 or more")
    if search.timeout_s <= 0:
        raise ConfigError(f"{where}: 'search.timeout_s' must be above 0 (seconds)")
    if config.train.max_rows is not None and config.train.max_rows < 100:
        raise ConfigError(f"{where}: 'train.max_rows' must be 100 or more, or null for every row")
    if config.analyze.max_label_issues < 1:
        raise ConfigError(f"{where}: 'analyze.max_label_issues' must be 1 or more")
    if config.analyze.learning_curve_points < 2:
        raise ConfigError(f"{where}: 'analyze.learning_curve_points' must be 2 or more")
    _check_lifecycle(config, where)


def _check_lifecycle(config: Config, where: str) -> None:
    """The registry, the lifecycle checks (R6, R7, R9) and retraining."""
    if config.registry.backend == "mlflow" and config.tracking.backend != "mlflow":
        raise ConfigError(
            f"{where}: 'registry.backend' is mlflow but tracking.backend is "
            f"{config.tracking.backend}; use registry.backend: file or turn tracking on"
        )
    evaluate = config.evaluate
    for key in (
        "champion_tolerance",
        "simpler_tolerance",
        "fairness_max_gap",
        "fairness_min_selection_ratio",
    ):
        if getattr(evaluate, key) < 0:
            raise ConfigError(f"{where}: 'evaluate.{key}' must be 0 or more")
    if config.retrain.window_rows < 1:
        raise ConfigError(f"{where}: 'retrain.window_rows' must be 1 or more")
    if config.retrain.min_labels < 0:
        raise ConfigError(f"{where}: 'retrain.min_labels' must be 0 or more")
