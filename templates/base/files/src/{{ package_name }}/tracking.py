"""Experiment tracking with MLflow: a local SQLite file and a local artifact folder, no server.

Every `train` starts a run (parameters, config, data fingerprint, git commit, cross-validation scores,
the model with its signature and an input example); `evaluate` adds the test metrics of the model and
both baselines, the readiness verdicts and the figures to the same run. `experiments` reads them back.

Where runs go: `MLFLOW_TRACKING_URI` when it is set (a team server: http://mlflow.internal:5000),
else `sqlite:///<project>/<tracking.db>` with artifacts under `<project>/<tracking.artifacts>`.
With `tracking.backend: none` every function here does nothing and MLflow is never imported, so the
rest of the pipeline runs without it.

The API other modules use:
    tracking_enabled(config)                        is tracking on?
    with start_run(config, "train") as run_id: ...   a run (None when off); nested=True for a child run,
                                                     run_id=... to add to an earlier run
    log_params, log_metrics, set_tags, log_dict, log_text, log_artifact, log_artifacts, log_model
                                                     record into the innermost run (no-ops without one)
    recent_runs(config, limit)                      the latest runs of the experiment, newest first
    client(config)                                  an MlflowClient on the same store (model registry)
The model each `train` logs is at meta["tracking_model_uri"] in artifacts/model_meta.json.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Config
from .errors import ConfigError, PipelineError

URI_ENV = "MLFLOW_TRACKING_URI"
log = logging.getLogger(__name__)

# The runs this process started through start_run(), innermost last: log_* write to _active[-1].
_active: list[str] = []


class TrackingError(PipelineError):
    """The tracking store could not be reached or written (exit 1)."""


@dataclass(frozen=True)
class RunRecord:
    """One run as `experiments` shows it."""

    run_id: str
    name: str
    status: str
    start_time: int  # milliseconds since the epoch
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def tracking_enabled(config: Config) -> bool:
    """True when config.yaml says `tracking.backend: mlflow`."""
    return config.tracking.backend == "mlflow"


def tracking_uri(config: Config) -> str:
    """MLFLOW_TRACKING_URI when set, else the project's SQLite file."""
    override = os.environ.get(URI_ENV, "").strip()
    if override:
        return override
    return "sqlite:///" + config.path(config.tracking.db).resolve().as_posix()


def experiment_name(config: Config) -> str:
    return config.tracking.experiment or config.project.name


def _mlflow() -> Any:
    """MLflow, imported on first use (it takes seconds) and quiet about its own start-up."""
    # MLflow's usage telemetry would send events from every CI run; the user may still opt in.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    try:
        import mlflow
    except ImportError as err:
        raise ConfigError(
            "tracking.backend is mlflow but MLflow is not installed: run `pip install -e .` "
            "(or set tracking.backend: none in config.yaml)"
        ) from err
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return mlflow


def _redacted(uri: str) -> str:
    """A tracking URI fit for a message: no password."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return uri


def _experiment_id(config: Config, local: bool) -> str:
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    name = experiment_name(config)
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if local:
        folder = config.path(config.tracking.artifacts).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        location = folder.as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def _connect(config: Config) -> tuple[Any, str]:
    """MLflow pointed at this project's store, and the experiment id."""
    mlflow = _mlflow()
    uri = tracking_uri(config)
    before = os.environ.get(URI_ENV)
    if uri.startswith("sqlite:///"):
        folder = Path(uri.removeprefix("sqlite:///")).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise TrackingError(
                f"tracking store {uri}: cannot create {folder}: {err.strerror}"
            ) from err
    mlflow.set_tracking_uri(uri)
    # MLflow also exports the URI to the environment; put it back, or the next project this process
    # works on (the tests run many) would take this one's store for a team server.
    if before is None:
        os.environ.pop(URI_ENV, None)
    else:
        os.environ[URI_ENV] = before
    try:
        return mlflow, _experiment_id(config, local=not (before or "").strip())
    except Exception as err:  # MLflow raises its own and its backends' error types
        reason = " ".join(str(err).split())[:200]
        raise TrackingError(
            f"tracking store {_redacted(uri)}: {reason} (set {URI_ENV} to a reachable store, "
            "or tracking.backend: none in config.yaml)"
        ) from err


@contextlib.contextmanager
def start_run(
    config: Config,
    name: str,
    *,
    nested: bool = False,
    run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
) -> Iterator[str | None]:
    """A tracked run around a block; yields its id, or None when tracking is off.

    `run_id` adds to an earlier run (evaluate adds to the run of the model it evaluates; when that run
    is not in this store a new one starts). `nested=True` makes a child of the innermost open run.
    The run ends FAILED when the block raises, FINISHED otherwise.
    """
    if not tracking_enabled(config):
        yield None
        return
    mlflow, experiment_id = _connect(config)
    run = None
    if run_id:
        with contextlib.suppress(Exception):
            run = mlflow.start_run(run_id=run_id)
    if run is None:
        run = mlflow.start_run(
            experiment_id=experiment_id, run_name=name, nested=bool(nested and _active)
        )
    _active.append(run.info.run_id)
    status = "FAILED"
    try:
        if tags:
            set_tags(tags)
        yield run.info.run_id
        status = "FINISHED"
    finally:
        _active.pop()
        mlflow.end_run(status=status)  # MLflow's active run goes back to the parent, if any


def client(config: Config) -> Any:
    """An MlflowClient on the project's store (for the model registry: register_model, aliases);
    None when tracking is off."""
    if not tracking_enabled(config):
        return None
    _connect(config)
    return _client()


def active_run_id() -> str | None:
    """The innermost run opened by start_run(), if any."""
    return _active[-1] if _active else None


def _client() -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient()


def log_params(params: Mapping[str, Any]) -> None:
    """Parameters of the innermost run (values become text; MLflow keeps at most 6000 characters)."""
    if not _active:
        return
    clean = {str(k): _short(v) for k, v in params.items()}
    _client().log_batch(_active[-1], params=_params(clean))


def log_metrics(metrics: Mapping[str, Any], prefix: str = "", step: int = 0) -> None:
    """Finite numeric metrics of the innermost run; anything else is skipped."""
    if not _active:
        return
    from mlflow.entities import Metric

    now = _now_ms()
    batch = []
    for key, value in metrics.items():
        number = _number(value)
        if number is not None:
            batch.append(Metric(_key(prefix + str(key)), number, now, step))
    if batch:
        _client().log_batch(_active[-1], metrics=batch)


def set_tags(tags: Mapping[str, Any]) -> None:
    if not _active:
        return
    from mlflow.entities import RunTag

    batch = [RunTag(str(k), _short(v)) for k, v in tags.items() if v is not None]
    if batch:
        _client().log_batch(_active[-1], tags=batch)


def log_dict(data: Any, artifact_file: str) -> None:
    """A JSON (or YAML, by the file's extension) artifact."""
    if _active:
        _client().log_dict(_active[-1], data, artifact_file)


def log_text(text: str, artifact_file: str) -> None:
    if _active:
        _client().log_text(_active[-1], text, artifact_file)


def log_artifact(path: Path, artifact_path: str | None = None) -> None:
    if _active and path.is_file():
        _client().log_artifact(_active[-1], str(path), artifact_path)


def log_artifacts(folder: Path, artifact_path: str | None = None) -> None:
    if _active and folder.is_dir():
        _client().log_artifacts(_active[-1], str(folder), artifact_path)


def log_model(config: Config, model: Any, example: Any, name: str = "model") -> str | None:
    """The fitted scikit-learn model as an MLflow model (signature and input example included);
    returns its model URI (for the model registry), or None when off or `tracking.log_models` is false."""
    if not _active or not config.tracking.log_models:
        return None
    _mlflow()
    import mlflow.sklearn
    import sklearn
    from mlflow.models import infer_signature

    sample = example.head(5)
    with warnings.catch_warnings():
        # MLflow hints that integer columns cannot hold missing values; the data contract says
        # which columns may be missing, and the service validates requests itself.
        warnings.filterwarnings("ignore", message=".*integer column", category=UserWarning)
        signature = infer_signature(sample, model.predict(sample))
    with _quiet("mlflow"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*integer column", category=UserWarning)
        info = mlflow.sklearn.log_model(
            model,
            name=name,
            signature=signature,
            input_example=sample,
            # the same pickle format as artifacts/model.joblib; MLflow's skops default needs skops
            serialization_format="cloudpickle",
            # stated, not inferred: inference imports the model in a subprocess (seconds)
            pip_requirements=[f"scikit-learn=={sklearn.__version__}", "pandas", "numpy"],
        )
    return str(info.model_uri)


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """MLflow warns about pickles on every log_model; the project's own docs say it once."""
    target = logging.getLogger(logger)
    level = target.level
    target.setLevel(logging.ERROR)
    try:
        yield
    finally:
        target.setLevel(level)


def recent_runs(config: Config, limit: int = 10, include_children: bool = False) -> list[RunRecord]:
    """The latest top-level runs of the project's experiment, newest first ([] when off)."""
    if not tracking_enabled(config):
        return []
    mlflow, experiment_id = _connect(config)
    query = "" if include_children else "tags.`mlflow.parentRunId` IS NULL"
    try:
        runs = _client().search_runs(
            [experiment_id],
            filter_string=query,
            max_results=max(limit, 1),
            order_by=["attributes.start_time DESC"],
        )
    except Exception:  # some stores do not index the parent tag: filter here instead
        runs = _client().search_runs(
            [experiment_id], max_results=max(limit * 5, 50), order_by=["attributes.start_time DESC"]
        )
        if not include_children:
            runs = [r for r in runs if "mlflow.parentRunId" not in r.data.tags][:limit]
    return [
        RunRecord(
            run_id=r.info.run_id,
            name=r.info.run_name or "",
            status=r.info.status,
            start_time=int(r.info.start_time or 0),
            params=dict(r.data.params),
            metrics={k: float(v) for k, v in r.data.metrics.items()},
            tags={k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")},
        )
        for r in runs
    ]


def config_params(config: Config) -> dict[str, Any]:
    """config.yaml's modelling choices as flat run parameters: `split.seed`, `evaluate.primary_metric`..."""
    from dataclasses import asdict

    flat: dict[str, Any] = {}
    for section in ("task", "split", "features", "baseline", "evaluate", "models", "search"):
        for key, value in asdict(getattr(config, section)).items():
            flat[f"{section}.{key}"] = value
    return flat


def log_config(config: Config) -> None:
    """The modelling choices as parameters and the whole config.yaml as an artifact."""
    if not _active:
        return
    log_params(config_params(config))
    if config.source is not None and config.source.is_file():
        log_artifact(config.source)
    set_tags({**git_commit(config.root), **dvc_data_version(config.root)})


def dvc_data_version(root: Path) -> dict[str, str]:
    """With DVC (data_versioning: dvc): the hash dvc.lock records for data/processed ({} without)."""
    import yaml

    lock = root / "dvc.lock"
    if not lock.is_file():
        return {}
    try:
        stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages", {})
        outs = stages.get("data", {}).get("outs", [])
    except (OSError, yaml.YAMLError, AttributeError):
        return {}
    for out in outs if isinstance(outs, list) else []:
        if isinstance(out, dict) and out.get("path") == "data/processed" and out.get("md5"):
            return {"dvc_data_md5": str(out["md5"])}
    return {}


def git_commit(root: Path) -> dict[str, str]:
    """The commit the code is at, and whether the work tree has uncommitted changes ({} outside git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return {}
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"git_commit": head.stdout.strip(), "git_dirty": str(bool(dirty.stdout.strip())).lower()}


def _params(values: Mapping[str, str]) -> list[Any]:
    from mlflow.entities import Param

    return [Param(_key(k), v) for k, v in values.items()]


def _key(name: str) -> str:
    """MLflow keys allow letters, digits, _ - . / and spaces."""
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in name)


def _short(value: Any, limit: int = 6000) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:limit]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
