"""The online service: a FastAPI app around the saved model.

    POST /predict   {"rows": [{<feature>: <value>, ...}, ...]}
                    1 to MAX_ROWS rows per request; a single row is a list of one
    GET  /health    liveness and the loaded model's version
    GET  /metadata  the model's metadata: task, features and their kinds, classes, metric, versions
    GET  /docs, /openapi.json   FastAPI's interactive docs and OpenAPI schema

The request model is generated at start-up from the features in artifacts/model_meta.json
(numeric -> number, categorical -> the type of its training categories, text -> string; every
field required, null allowed for numeric and categorical ones since the pipeline imputes them;
extra fields forbidden), so the schema always matches the model. A request that breaks it gets a
422 whose message names the field (`rows[0].age: Field required`); an unexpected failure inside
the model gets a JSON 500, never an HTML page or a dropped connection. Every prediction is
appended to logs/predictions.jsonl for monitoring.

Rows go through `predict.predict_frame`, the same function evaluation uses, so the service cannot
drift from what was evaluated (the deploy step checks this: reports/skew.json).
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoint's annotations at run
# time, and the request model is a local variable built from the model's metadata.
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from .artifacts import load_meta, load_model
from .config import Config
from .predict import predict_frame
from .prediction_log import LOG_NAME, PredictionLog, new_request_id, output_records

log = logging.getLogger(__name__)

MAX_ROWS = 1000
MAX_TEXT_CHARS = 100_000  # per text field: bounds the work one request can cause


class Prediction(BaseModel):
    """One row's output: the prediction, plus the score (binary) or class probabilities."""

    prediction: str | int | float | bool
    score: float | None = Field(None, description="binary: probability of the positive class")
    probas: dict[str, float] | None = Field(
        None, description="multiclass/text: probability per class"
    )


class PredictResponse(BaseModel):
    request_id: str
    model_version: str
    predictions: list[Prediction]


class Health(BaseModel):
    status: Literal["ok"]
    model_version: str
    task_type: str
    uptime_s: float


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


def build_request_models(meta: dict[str, Any]) -> tuple[type[BaseModel], type[BaseModel]]:
    """(Row, Batch) pydantic models for the model's features.

    Python field names are generated (`f0`, `f1`, ...) and the feature name is the alias, so any
    column name works ("class", "model_config", "od280/od315") and the schema shows the real name.
    """
    fields: dict[str, Any] = {}
    for index, feature in enumerate(meta["features"]):
        kind = feature["kind"]
        if kind == "numeric":
            annotation: Any = float
            extra: dict[str, Any] = {"allow_inf_nan": False}
        elif kind == "text":
            annotation, extra = str, {"max_length": MAX_TEXT_CHARS}
        else:
            annotation, extra = _category_type(feature.get("categories") or []), {}
        if kind != "text":  # the pipeline imputes missing numbers and categories: null is allowed
            annotation = annotation | None
        description = f"{kind} feature"
        if feature.get("categories"):
            description += (
                f"; training categories: {', '.join(map(str, feature['categories'][:20]))}"
            )
        fields[f"f{index}"] = (
            annotation,
            Field(..., alias=feature["name"], description=description, **extra),
        )
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

    @classmethod
    def load(
        cls, cfg: Config, log_path: Path | None = None, logging_on: bool = True
    ) -> "Predictor":
        meta = load_meta(cfg)
        row_model, batch_model = build_request_models(meta)
        sink = PredictionLog(log_path or cfg.logs_dir / LOG_NAME) if logging_on else None
        return cls(load_model(cfg), meta, row_model, batch_model, sink)

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

    def predict(self, rows: list[BaseModel], source: str = "api") -> PredictResponse:
        """Score validated rows, log them, and build the response."""
        started = time.perf_counter()
        request_id = new_request_id()
        frame = self.frame(rows)
        outputs = output_records(predict_frame(self.model, self.meta, frame))
        latency_ms = (time.perf_counter() - started) * 1000
        if self.log is not None:
            self.log.write(
                request_id=request_id,
                source=source,
                model_version=self.model_version,
                inputs=frame.to_dict(orient="records"),
                outputs=outputs,
                latency_ms=latency_ms,
            )
        return PredictResponse(
            request_id=request_id,
            model_version=self.model_version,
            predictions=[Prediction(**o) for o in outputs],
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
            details.append({"field": field, "message": error.get("msg", "")})
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
    cfg: Config, *, log_path: Path | None = None, predictor: Predictor | None = None
) -> FastAPI:
    """The FastAPI app; the model is loaded here, once, not per request."""
    predictor = predictor or Predictor.load(cfg, log_path=log_path)
    started = time.time()
    app = FastAPI(
        title=f"{cfg.project.name} prediction service",
        version=predictor.model_version,
        description=f"{predictor.meta['task_type']} model predicting `{predictor.meta['target']}`.",
    )
    app.add_exception_handler(RequestValidationError, _validation_response)
    app.add_exception_handler(Exception, _internal_error_response)
    batch_model = predictor.batch_model

    @app.post("/predict", response_model=PredictResponse, response_model_exclude_none=True)
    def predict(request: batch_model) -> PredictResponse | JSONResponse:  # type: ignore[valid-type]
        """Predict for one or more rows of raw features."""
        try:
            return predictor.predict(list(request.rows))  # type: ignore[attr-defined]
        except Exception as exc:  # a model failure is the server's fault: a clean JSON 500
            log.exception("prediction failed")
            return JSONResponse(
                status_code=500,
                content={"error": "prediction failed", "message": f"{type(exc).__name__}: {exc}"},
            )

    @app.get("/health", response_model=Health)
    def health() -> Health:
        """Liveness: the model is loaded and answering."""
        return Health(
            status="ok",
            model_version=predictor.model_version,
            task_type=str(predictor.meta["task_type"]),
            uptime_s=round(time.time() - started, 3),
        )

    @app.get("/metadata")
    def metadata() -> dict[str, Any]:
        """The model's metadata (artifacts/model_meta.json) and the request limits."""
        return {**predictor.meta, "max_rows_per_request": MAX_ROWS}

    app.state.predictor = predictor
    return app


def create_app_from_env() -> FastAPI:
    """App factory for `uvicorn --factory` and multi-worker serving: config from $MLPIPE_CONFIG
    or ./config.yaml (see config.load_config)."""
    from .config import load_config

    return create_app(load_config())
