"""The online service: a FastAPI app around the saved model.

    POST /predict   {"rows": [{<feature>: <value>, ...}, ...]}
                    1 to MAX_ROWS rows per request; a single row is a list of one; each
                    prediction carries an `id` for sending its true label back later
    POST /feedback  {"id": "<prediction id>", "label": <the true value>}: appended to the
                    feedback file (feedback.py) for monitoring and retraining
    GET  /health    liveness, the model's version and registry version, and whether it is the
                    champion
    GET  /metadata  the model's metadata: task, features and their kinds, classes, metric, versions
    GET  /docs, /openapi.json   FastAPI's interactive docs and OpenAPI schema

The request model is generated at start-up from the features in artifacts/model_meta.json
(numeric -> a JSON number, never `true` or "5", bounded by the range seen in training and in the
reference window (artifacts/model_meta.json, artifacts/reference/profile.json) widened on each
side by `serving.input_margin` times that span; categorical -> the type of its training
categories; text -> a string that is not blank; every field required, null allowed for numeric and
categorical ones since the pipeline imputes them; extra fields forbidden), so the schema always
matches the model. The model is the registry's champion (registry.py), or the latest trained model
when nothing was promoted yet; a promotion or rollback takes effect when the service restarts. A category never seen in training, or a row whose every feature is null, is
scored (the pipeline handles both) but flagged: a `warnings` list on that prediction and in its
log line. A request that breaks it gets a 422 whose message names the
field (`rows[0].age: Field required`), and so do rows the model cannot score (it raises
ValueError, or its output is not finite). Any other failure inside the model gets a JSON 500,
never an HTML page or a dropped connection. Every prediction is appended to
logs/predictions.jsonl for monitoring.

Rows go through `predict.predict_frame`, the same function evaluation uses, so the service cannot
drift from what was evaluated (the deploy step checks this: reports/skew.json).
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoint's annotations at run
# time, and the request model is a local variable built from the model's metadata.
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError

from .artifacts import load_estimator, read_json
from .config import Config
from .feedback import LabelError, PredictionIds, append_feedback, check_label, feedback_path
from .predict import predict_frame
from .prediction_log import (
    LOG_NAME,
    PredictionLog,
    new_request_id,
    output_records,
    prediction_id,
)
from .registry import serving_model

log = logging.getLogger(__name__)

MAX_ROWS = 1000
MAX_TEXT_CHARS = 100_000  # per text field: bounds the work one request can cause


class ErrorDetail(BaseModel):
    field: str = Field(description="where in the body: rows[0].age, body, ...")
    message: str


class ErrorResponse(BaseModel):
    """The body of every 422 and 500 answer."""

    error: str = Field(description="invalid request | prediction failed | internal error")
    message: str = Field(description="one line naming the field(s) and what is wrong")
    details: list[ErrorDetail] | None = None


class InputRejected(ValueError):
    """Rows that pass the schema but that the model cannot score: answered with a 422."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Prediction(BaseModel):
    """One row's output: the prediction, plus the score (binary) or class probabilities."""

    id: str | None = Field(
        None, description="this prediction's id: name it when sending the label (POST /feedback)"
    )
    prediction: str | int | float | bool
    score: float | None = Field(None, description="binary: probability of the positive class")
    probas: dict[str, float] | None = Field(
        None, description="multiclass/text: probability per class"
    )
    warnings: list[str] | None = Field(
        None,
        description="inputs unlike the training data that were still scored: a category never "
        "seen in training, or a row whose every feature is null",
    )


class PredictResponse(BaseModel):
    request_id: str
    model_version: str
    version: int | None = Field(
        None, description="the model's registry version (null: never registered)"
    )
    predictions: list[Prediction]


class FeedbackRequest(BaseModel):
    """A true label that arrived after the prediction."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, description="the prediction's id from /predict")
    label: str | int | float | bool = Field(description="the true value: a class, or a number")


class FeedbackResponse(BaseModel):
    id: str
    accepted: bool


class Health(BaseModel):
    status: Literal["ok"]
    model_version: str
    version: int | None = Field(
        None, description="the registry version serving (registry.py); null: never registered"
    )
    champion: bool = Field(
        False,
        description="true: the promoted champion; false: nothing was promoted, the latest serves",
    )
    task_type: str
    uptime_s: float
    ready: bool | None = Field(
        description="the readiness gate's verdict on this model (reports/readiness.json); "
        "null when it was never evaluated"
    )
    forced: bool = Field(description="served with --force although the gate did not pass it")


def _category_type(categories: list[Any]) -> Any:
    """The JSON type a categorical feature accepts, from the categories seen in training."""
    kinds = {type(c) for c in categories if c is not None}
    if kinds and kinds <= {bool}:
        return bool
    if kinds and kinds <= {int}:
        return int
    if kinds and kinds <= {int, float}:
        return float
    return str


def _ranges(entries: Any) -> dict[str, tuple[float, float]]:
    found: dict[str, tuple[float, float]] = {}
    for name, entry in entries:
        if not isinstance(entry, dict) or entry.get("kind") != "numeric":
            continue
        low, high = entry.get("min"), entry.get("max")
        if isinstance(low, int | float) and isinstance(high, int | float):
            found[str(name)] = (float(low), float(high))
    return found


def numeric_bounds(
    profile: dict[str, Any] | None, meta: dict[str, Any] | None = None, margin: float = 1.0
) -> dict[str, tuple[float, float]]:
    """{feature: (low, high)} accepted by the service: the range seen in training (model_meta.json)
    and in the reference window (profile.json), widened by `margin` times its span on each side.

    A feature seen as a single value gets a span of a tenth of its magnitude (at least 1).
    """
    seen = _ranges(((profile or {}).get("features") or {}).items())
    for name, (low, high) in _ranges(
        (f.get("name"), f) for f in (meta or {}).get("features", [])
    ).items():
        known = seen.get(name, (low, high))
        seen[name] = (min(low, known[0]), max(high, known[1]))
    bounds: dict[str, tuple[float, float]] = {}
    for name, (low, high) in seen.items():
        span = high - low if high > low else max(abs(high) / 10, 1.0)
        bounds[name] = (low - margin * span, high + margin * span)
    return bounds


def input_warnings(meta: dict[str, Any], frame: pd.DataFrame) -> list[list[str]]:
    """Per row: the categories never seen in training, and whether every feature is null."""
    notes: list[list[str]] = [[] for _ in range(len(frame))]
    for feature in meta["features"]:
        known = feature.get("categories")
        if feature["kind"] != "categorical" or not known:
            continue
        values = frame[feature["name"]]
        unseen = values.notna() & ~values.astype(str).isin(set(known))
        for position in np.flatnonzero(unseen.to_numpy()):
            notes[position].append(
                f"{feature['name']}: {values.iloc[position]!r} was never seen in training"
            )
    empty = frame[[f["name"] for f in meta["features"]]].isna().all(axis=1).to_numpy()
    for position in np.flatnonzero(empty):
        notes[position].append("every feature is null: the prediction rests on imputed values")
    return notes


def _not_blank(text: str) -> str:
    if not text.strip():
        raise PydanticCustomError("blank_text", "text is empty or only whitespace")
    return text


def build_request_models(
    meta: dict[str, Any], bounds: dict[str, tuple[float, float]] | None = None
) -> tuple[type[BaseModel], type[BaseModel]]:
    """(Row, Batch) pydantic models for the model's features; `bounds` limits numeric ones.

    Python field names are generated (`f0`, `f1`, ...) and the feature name is the alias, so any
    column name works ("class", "model_config", "od280/od315") and the schema shows the real name.
    """
    bounds = bounds or {}
    fields: dict[str, Any] = {}
    for index, feature in enumerate(meta["features"]):
        kind, name = feature["kind"], feature["name"]
        description = f"{kind} feature"
        if kind == "numeric":
            low, high = bounds.get(name, (None, None))
            annotation: Any = Annotated[
                float, Field(strict=True, allow_inf_nan=False, ge=low, le=high)
            ]
            if low is not None:
                description += f"; accepted range {low:.6g} to {high:.6g}"
        elif kind == "text":
            annotation = Annotated[
                str, Field(min_length=1, max_length=MAX_TEXT_CHARS), AfterValidator(_not_blank)
            ]
        else:
            annotation = _category_type(feature.get("categories") or [])
        if kind != "text":  # the pipeline imputes missing numbers and categories: null is allowed
            annotation = annotation | None
        if feature.get("categories"):
            description += (
                f"; training categories: {', '.join(map(str, feature['categories'][:20]))}"
            )
        fields[f"f{index}"] = (annotation, Field(..., alias=name, description=description))
    row = create_model(  # type: ignore[call-overload]
        "Row", __config__=ConfigDict(extra="forbid", populate_by_name=False), **fields
    )
    batch = create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        rows=(list[row], Field(..., min_length=1, max_length=MAX_ROWS)),  # type: ignore[valid-type]
    )
    return row, batch


@dataclass
class Predictor:
    """The loaded model and what the handler needs around it; built once per process."""

    model: Any
    meta: dict[str, Any]
    row_model: type[BaseModel]
    batch_model: type[BaseModel]
    log: PredictionLog | None
    bounds: dict[str, tuple[float, float]] | None = None
    ready: bool | None = None
    forced: bool = False
    version: int | None = None
    champion: bool = False

    @classmethod
    def load(
        cls, cfg: Config, log_path: Path | None = None, logging_on: bool = True
    ) -> "Predictor":
        serving = serving_model(cfg)
        meta = read_json(serving.meta_file, hint="run `make train` again")
        profile_path = serving.reference / "profile.json"
        profile = read_json(profile_path) if profile_path.is_file() else None
        if profile is None:
            log.warning(
                "%s not found: numeric inputs are checked against training only", profile_path
            )
        bounds = numeric_bounds(profile, meta, cfg.serving.input_margin)
        row_model, batch_model = build_request_models(meta, bounds)
        sink = PredictionLog(log_path or cfg.logs_dir / LOG_NAME) if logging_on else None
        model = load_estimator(serving.model_file)
        return cls(
            model,
            meta,
            row_model,
            batch_model,
            sink,
            bounds,
            version=serving.version,
            champion=serving.champion,
        )

    @property
    def model_version(self) -> str:
        return str(self.meta.get("model_version", "unknown"))

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.meta["features"]]

    def frame(self, rows: list[BaseModel]) -> pd.DataFrame:
        """Validated rows to a DataFrame with the raw feature columns in training order."""
        records = [row.model_dump(by_alias=True) for row in rows]
        frame = pd.DataFrame.from_records(records, columns=self.feature_names)
        for feature in self.meta["features"]:
            if feature["kind"] == "numeric":  # an all-null column would otherwise be "object"
                frame[feature["name"]] = frame[feature["name"]].astype(float)
        return frame

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """predict_frame, with InputRejected naming the row when the model cannot score a row."""
        try:
            scored = predict_frame(self.model, self.meta, frame)
        except ValueError as exc:
            raise InputRejected(
                self._failing_row(frame), f"the model cannot score it: {exc}"
            ) from exc
        numbers = scored.select_dtypes(include="number").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(numbers).all(axis=1)) if numbers.size else []
        if len(bad):
            raise InputRejected(
                f"rows[{bad[0]}]", "the model's output is not finite; check its numeric values"
            )
        return scored

    def _failing_row(self, frame: pd.DataFrame) -> str:
        """rows[i] for the first row the model fails on alone ("rows" when none fails alone)."""
        for position in range(len(frame)):
            try:
                predict_frame(self.model, self.meta, frame.iloc[[position]])
            except ValueError:
                return f"rows[{position}]"
        return "rows"

    def predict(self, rows: list[BaseModel], source: str = "api") -> PredictResponse:
        """Score validated rows, log them, and build the response."""
        started = time.perf_counter()
        request_id = new_request_id()
        frame = self.frame(rows)
        outputs = output_records(self.score(frame))
        for output, notes in zip(outputs, input_warnings(self.meta, frame), strict=True):
            if notes:
                output["warnings"] = notes
        ids = [prediction_id(request_id, row) for row in range(len(outputs))]
        latency_ms = (time.perf_counter() - started) * 1000
        if self.log is not None:
            self.log.write(
                request_id=request_id,
                source=source,
                model_version=self.model_version,
                inputs=frame.to_dict(orient="records"),
                outputs=outputs,
                latency_ms=latency_ms,
                version=self.version,
            )
        return PredictResponse(
            request_id=request_id,
            model_version=self.model_version,
            version=self.version,
            predictions=[Prediction(id=i, **o) for i, o in zip(ids, outputs, strict=True)],
        )

    def handle_json(self, body: str | bytes, source: str = "api") -> PredictResponse:
        """The /predict handler without HTTP: JSON body -> request model -> predictions."""
        request = self.batch_model.model_validate_json(body)
        return self.predict(list(request.rows), source=source)  # type: ignore[attr-defined]


def _field_name(loc: tuple[Any, ...]) -> str:
    """('body', 'rows', 0, 'age') -> 'rows[0].age'."""
    text = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _validation_response(_: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    details = []
    for error in errors:
        if error.get("type") == "json_invalid":  # loc is ("body", <character position>)
            position = error.get("loc", ("body", "?"))[-1]
            details.append(
                {"field": "body", "message": f"not valid JSON (at character {position})"}
            )
        else:
            field = _field_name(tuple(error.get("loc", ())))
            message = error.get("msg", "")
            if error.get("type") in ("less_than_equal", "greater_than_equal"):
                message += " (far outside the values the model was trained on)"
            details.append({"field": field, "message": message})
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "invalid request"
    return JSONResponse(
        status_code=422,
        content={"error": "invalid request", "message": message, "details": details},
    )


def _internal_error_response(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(
        status_code=500,
        content={"error": "internal error", "message": f"{type(exc).__name__}: {exc}"},
    )


def create_app(
    cfg: Config,
    *,
    log_path: Path | None = None,
    predictor: Predictor | None = None,
    forced: bool = False,
) -> FastAPI:
    """The FastAPI app; the model is loaded here, once, not per request. `forced`: served with
    --force although the readiness gate did not pass it (shown by /health)."""
    from .stages.deploy import gate_verdict

    predictor = predictor or Predictor.load(cfg, log_path=log_path)
    predictor.ready = gate_verdict(cfg)[0]
    predictor.forced = forced
    started = time.time()
    app = FastAPI(
        title=f"{cfg.project.name} prediction service",
        version=predictor.model_version,
        description=f"{predictor.meta['task_type']} model predicting `{predictor.meta['target']}`.",
    )
    app.add_exception_handler(RequestValidationError, _validation_response)
    app.add_exception_handler(Exception, _internal_error_response)
    batch_model = predictor.batch_model

    @app.post(
        "/predict",
        response_model=PredictResponse,
        response_model_exclude_none=True,
        responses={
            422: {
                "model": ErrorResponse,
                "description": "a field breaks the schema, or the "
                "model cannot score a row; the message names it",
            },
            500: {"model": ErrorResponse, "description": "the model failed"},
        },
    )
    def predict(request: batch_model) -> PredictResponse | JSONResponse:  # type: ignore[valid-type]
        """Predict for one or more rows of raw features."""
        try:
            return predictor.predict(list(request.rows))  # type: ignore[attr-defined]
        except InputRejected as exc:  # valid-looking values the model cannot score: the caller's
            return JSONResponse(
                status_code=422,
                content={
                    "error": "invalid request",
                    "message": str(exc),
                    "details": [{"field": exc.field, "message": exc.message}],
                },
            )
        except Exception as exc:  # a model failure is the server's fault: a clean JSON 500
            log.exception("prediction failed")
            return JSONResponse(
                status_code=500,
                content={"error": "prediction failed", "message": f"{type(exc).__name__}: {exc}"},
            )

    ids = PredictionIds(
        predictor.log.path if predictor.log is not None else cfg.logs_dir / LOG_NAME
    )
    feedback_file = feedback_path(cfg)

    @app.post(
        "/feedback",
        response_model=FeedbackResponse,
        responses={
            404: {"model": ErrorResponse, "description": "no logged prediction has this id"},
            422: {"model": ErrorResponse, "description": "malformed body or a wrong label type"},
        },
    )
    def feedback(request: FeedbackRequest) -> FeedbackResponse | JSONResponse:
        """Send the true label of an earlier prediction (joined to it by id)."""
        if request.id not in ids:
            return JSONResponse(
                status_code=404,
                content={
                    "error": "unknown id",
                    "message": f"id: no logged prediction has id {request.id!r}",
                    "details": [{"field": "id", "message": "not in the prediction log"}],
                },
            )
        try:
            label = check_label(predictor.meta, request.label)
        except LabelError as exc:
            return JSONResponse(
                status_code=422,
                content={
                    "error": "invalid request",
                    "message": str(exc),
                    "details": [{"field": "label", "message": str(exc).split(": ", 1)[-1]}],
                },
            )
        append_feedback(feedback_file, request.id, label)
        return FeedbackResponse(id=request.id, accepted=True)

    @app.get("/health", response_model=Health)
    def health() -> Health:
        """Liveness: the model is loaded and answering."""
        return Health(
            status="ok",
            model_version=predictor.model_version,
            version=predictor.version,
            champion=predictor.champion,
            task_type=str(predictor.meta["task_type"]),
            uptime_s=round(time.time() - started, 3),
            ready=predictor.ready,
            forced=predictor.forced,
        )

    @app.get("/metadata")
    def metadata() -> dict[str, Any]:
        """The model's metadata (artifacts/model_meta.json) and the request limits."""
        return {
            **predictor.meta,
            "max_rows_per_request": MAX_ROWS,
            "numeric_bounds": {k: list(v) for k, v in (predictor.bounds or {}).items()},
        }

    app.state.predictor = predictor
    return app


def create_app_from_env() -> FastAPI:
    """App factory for `uvicorn --factory` and multi-worker serving: config from $MLPIPE_CONFIG
    or ./config.yaml (see config.load_config)."""
    import os

    from .config import load_config
    from .stages.deploy import FORCE_ENV, require_ready

    cfg = load_config()
    return create_app(cfg, forced=require_ready(cfg, os.environ.get(FORCE_ENV) == "1", "serve"))
