"""The three predictors compared at every step, all scikit-learn estimators taking the raw feature frame:

- `build_dummy`: scikit-learn's DummyClassifier / DummyRegressor, with the strategy that suits the
  primary metric (prior for ranking and probability metrics, stratified for F1, most_frequent for
  accuracy, median for MAE, mean for RMSE and R²);
- `build_heuristic`: a rule a person could write down: the user's expression from config.yaml
  (`baseline.heuristic_rule`), or the best one-feature rule found on the training data, or for text
  a per-class keyword rule;
- `build_model`: the first real model, a Pipeline of preprocessing (scaling, one-hot encoding, TF-IDF)
  and a linear model; for binary tasks its decision threshold is tuned on cross-validated training
  predictions to minimise the expected cost of errors (evaluate.cost_fp / cost_fn). A regression
  model's loss follows the primary metric (`regression_loss`): absolute error (median regression)
  for MAE and median AE, squared error (Ridge) for RMSE and R²; a skewed count target is modelled
  on the log scale (log1p for the median, a Poisson model's log link for the mean).
They share one interface: fit(X, y), predict(X), and predict_proba(X) for classifiers.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, PoissonRegressor, Ridge, SGDRegressor
from sklearn.metrics import make_scorer
from sklearn.model_selection import TunedThresholdClassifierCV  # scikit-learn >= 1.5
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    StandardScaler,
)
from sklearn.utils.validation import check_is_fitted

from .config import TASK_TYPES, Config
from .errors import ConfigError
from .features import Feature

TOKEN = re.compile(r"[a-z0-9']+")


# ----------------------------------------------------------------------------- labels and costs


def infer_positive_class(config: Config, labels: pd.Series) -> Any:
    """The configured positive class, else 1 / True / "yes", else the rarer of the two classes."""
    values = list(pd.unique(labels.dropna()))
    wanted = config.task.positive_class
    if wanted is not None:
        for value in values:
            if str(value) == str(wanted):
                return value
        raise ConfigError(
            f"task.positive_class {wanted!r} is not a value of '{config.task.target}'"
        )
    for candidate in ("1", "1.0", "true", "yes", "positive", "pos"):
        for value in values:
            if str(value).strip().lower() == candidate:
                return value
    counts = labels.value_counts()
    return counts.index[-1]


def expected_cost(
    y_true: Any, y_pred: Any, *, pos_label: Any, cost_fp: float, cost_fn: float
) -> float:
    """Average cost per decision: cost_fp per false positive, cost_fn per false negative."""
    truth = np.asarray(y_true) == pos_label
    said = np.asarray(y_pred) == pos_label
    false_pos = np.sum(said & ~truth)
    false_neg = np.sum(~said & truth)
    return float((cost_fp * false_pos + cost_fn * false_neg) / max(len(truth), 1))


# ----------------------------------------------------------------------------- the dummy


def dummy_strategy(config: Config) -> str:
    metric = config.evaluate.primary_metric
    if config.task.type == "regression":
        return "median" if metric in ("mae", "median_ae") else "mean"
    if metric in ("f1", "f1_macro", "f1_weighted", "balanced_accuracy"):
        return "stratified"
    if metric == "accuracy":
        return "most_frequent"
    return "prior"


def build_dummy(config: Config) -> BaseEstimator:
    strategy = dummy_strategy(config)
    if config.task.type == "regression":
        return DummyRegressor(strategy=strategy)
    return DummyClassifier(strategy=strategy, random_state=config.split.seed)


# ----------------------------------------------------------------------------- the first model


def _as_text(column: Any) -> Any:
    """TF-IDF needs strings: missing text becomes the empty string."""
    series = column.iloc[:, 0] if hasattr(column, "iloc") and column.ndim == 2 else column
    return pd.Series(series).fillna("").astype(str).to_numpy()


def build_preprocessor(features: list[Feature], scaler: str = "standard") -> ColumnTransformer:
    """Impute + scale numbers, impute + one-hot categories, TF-IDF for text.

    `scaler`: "standard" (linear models), "minmax" (naive Bayes needs non-negative inputs) or
    "none" (trees; the output is then dense, as histogram gradient boosting requires).
    """
    numeric = [f.name for f in features if f.kind == "numeric"]
    categorical = [f.name for f in features if f.kind == "categorical"]
    text = [f.name for f in features if f.kind == "text"]
    parts: list[tuple[str, Any, Any]] = []
    if numeric:
        scaling: list[Any] = {
            "standard": [StandardScaler()],
            "minmax": [MinMaxScaler(clip=True)],
            "none": [],
        }[scaler]
        parts.append(
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), *scaling), numeric)
        )
    if categorical:
        parts.append(
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="missing"),
                    OneHotEncoder(
                        handle_unknown="ignore", min_frequency=2, sparse_output=scaler != "none"
                    ),
                ),
                categorical,
            )
        )
    for name in text:
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        parts.append(
            (f"text_{name}", make_pipeline(FunctionTransformer(_as_text), vectorizer), [name])
        )
    if not parts:
        raise ConfigError("no feature columns left: check features.forbidden and features.drop")
    return ColumnTransformer(
        parts, remainder="drop", sparse_threshold=0 if scaler == "none" else 0.3
    )


SKEWED = 2.0  # sample skewness above which a count target is modelled on the log scale


def regression_loss(config: Config, y: Any) -> tuple[str, bool]:
    """("absolute" | "squared", skewed_count): the loss the primary metric judges, and whether the
    target is a non-negative whole-number count with a long right tail."""
    loss = "absolute" if config.evaluate.primary_metric in ("mae", "median_ae") else "squared"
    values = pd.Series(np.asarray(y, dtype=float)).dropna()
    counts = bool(len(values)) and values.min() >= 0 and bool((values == values.round()).all())
    skewed = counts and values.nunique() > 2 and float(values.skew()) > SKEWED
    return loss, skewed


def _boosting_loss(config: Config, y: Any) -> str:
    """HistGradientBoostingRegressor's loss for the metric (trees need no log transform)."""
    loss, skewed = regression_loss(config, y)
    if loss == "absolute":
        return "absolute_error"
    return "poisson" if skewed else "squared_error"


def _forest_criterion(config: Config, y: Any) -> str:
    """A forest's split criterion: Poisson for a skewed count judged on squared error; squared
    error otherwise (absolute-error splits are exact but orders of magnitude slower)."""
    loss, skewed = regression_loss(config, y)
    return "poisson" if skewed and loss == "squared" else "squared_error"


def describe_loss(config: Config, y: Any, candidate: str = "linear") -> str:
    """One line for reports: which loss the chosen regression model minimises, and why."""
    loss, skewed = regression_loss(config, y)
    metric = config.evaluate.primary_metric
    if candidate == "gradient_boosting":
        return f"{_boosting_loss(config, y).replace('_', ' ')} (gradient boosting), for {metric}"
    if candidate == "random_forest":
        criterion = _forest_criterion(config, y).replace("_", " ")
        note = "; absolute-error splits would be too slow" if loss == "absolute" else ""
        return f"{criterion} splits (random forest), for {metric}{note}"
    if loss == "absolute":
        text = f"absolute error (a linear median regression), as {metric} judges it"
        return text + ("; fitted on log1p(target), a skewed count" if skewed else "")
    if skewed:
        return f"Poisson deviance (log link) for a skewed count target; its mean suits {metric}"
    return f"squared error (ridge), as {metric} judges it"


def expm1_counts(values: Any) -> Any:
    """Back from log1p to counts: a count is never below zero, whatever the line extrapolates."""
    return np.expm1(np.maximum(values, 0.0))


def _regressor(config: Config, y: Any) -> BaseEstimator:
    loss, skewed = regression_loss(config, y)
    if loss == "absolute":
        # a linear median regression: absolute loss fitted by averaged SGD (scikit-learn's exact
        # QuantileRegressor solves a linear program that takes minutes on 20k rows). The target is
        # standardised for SGD's step sizes, after log1p for a skewed count: the median commutes
        # with monotone transforms, so the back-transformed prediction is still a median.
        median = SGDRegressor(
            loss="epsilon_insensitive",
            epsilon=0.0,
            alpha=1e-4,
            average=True,
            max_iter=50,
            tol=None,
            random_state=config.split.seed,
        )
        scale: Any = StandardScaler()
        if skewed:
            scale = make_pipeline(FunctionTransformer(np.log1p, expm1_counts), StandardScaler())
        return TransformedTargetRegressor(regressor=median, transformer=scale)
    if skewed:
        return PoissonRegressor(alpha=1e-4, max_iter=1000)
    return Ridge(alpha=1.0)


def build_model(config: Config, features: list[Feature], y: pd.Series) -> Pipeline:
    """Preprocessing + a linear model: LogisticRegression for classes; for numbers, the loss the
    primary metric judges (see `regression_loss`)."""
    if config.task.type == "regression":
        estimator: BaseEstimator = _regressor(config, y)
    else:
        shares = y.value_counts(normalize=True)
        weights = "balanced" if shares.min() < 0.1 else None
        # TF-IDF rows have unit length, so text needs weaker regularisation to be confident enough.
        strength = 10.0 if any(f.kind == "text" for f in features) else 1.0
        estimator = LogisticRegression(max_iter=2000, C=strength, class_weight=weights)
    return Pipeline([("features", build_preprocessor(features)), ("model", estimator)])


# ----------------------------------------------------------------------------- candidates
#
# `models.candidates` in config.yaml names the models `train` cross-validates (selection.py). To add
# one: write a function below that returns a fresh Pipeline, decorate it with @candidate(...), and add
# its name to `models.candidates`. `complexity` breaks ties (lower = simpler wins); `space` maps an
# Optuna trial to parameters of the Pipeline's steps (for `search.enabled: true`).

Builder = Callable[[Config, list[Feature], pd.Series], Pipeline]
Space = Callable[[Any, Config], dict[str, Any]]
ALL_TASKS = TASK_TYPES


@dataclass(frozen=True)
class Candidate:
    name: str
    complexity: int
    build: Builder
    space: Space | None = None
    tasks: tuple[str, ...] = ALL_TASKS
    text_ok: bool = True  # False: cannot read TF-IDF text features


CANDIDATES: dict[str, Candidate] = {}


def candidate(
    name: str,
    complexity: int,
    space: Space | None = None,
    tasks: tuple[str, ...] = ALL_TASKS,
    text_ok: bool = True,
) -> Callable[[Builder], Builder]:
    """Register a model builder as a candidate (see the comment above)."""

    def register(build: Builder) -> Builder:
        CANDIDATES[name] = Candidate(name, complexity, build, space, tasks, text_ok)
        return build

    return register


def get_candidate(config: Config, name: str, features: list[Feature]) -> Candidate:
    """The registered candidate `name`, checked against the task and the features."""
    if name not in CANDIDATES:
        close = difflib.get_close_matches(name, list(CANDIDATES), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"models.candidates: unknown model '{name}'{hint} (known: {', '.join(CANDIDATES)})"
        )
    spec = CANDIDATES[name]
    if config.task.type not in spec.tasks:
        raise ConfigError(f"models.candidates: '{name}' does not suit {config.task.type}")
    if not spec.text_ok and any(f.kind == "text" for f in features):
        raise ConfigError(f"models.candidates: '{name}' cannot read text features")
    return spec


def _class_weight(y: pd.Series) -> str | None:
    return "balanced" if y.value_counts(normalize=True).min() < 0.1 else None


def _regressor_key(key: str) -> str:
    return "model__regressor__" + key.removeprefix("model__") if key.startswith("model__") else key


def apply_params(pipeline: Pipeline, params: dict[str, Any]) -> Pipeline:
    """Set searched parameters named `model__x`, also when the model wraps its regressor in a
    TransformedTargetRegressor (the median and log-scale regressions): then it is `model__regressor__x`."""
    model = pipeline.named_steps.get("model")
    if isinstance(model, TransformedTargetRegressor):
        params = {_regressor_key(key): value for key, value in params.items()}
    return pipeline.set_params(**params)


def _linear_space(trial: Any, config: Config) -> dict[str, Any]:
    key = "model__alpha" if config.task.type == "regression" else "model__C"
    return {key: trial.suggest_float(key, 1e-3, 1e2, log=True)}


@candidate("linear", complexity=0, space=_linear_space)
def linear(config: Config, features: list[Feature], y: pd.Series) -> Pipeline:
    """The first model: scaled/one-hot/TF-IDF features and LogisticRegression or Ridge."""
    return build_model(config, features, y)


def _forest_space(trial: Any, config: Config) -> dict[str, Any]:
    return {
        "model__n_estimators": trial.suggest_int("model__n_estimators", 100, 400, step=100),
        "model__min_samples_leaf": trial.suggest_int("model__min_samples_leaf", 1, 10),
        "model__max_features": trial.suggest_float("model__max_features", 0.2, 1.0),
    }


@candidate("random_forest", complexity=1, space=_forest_space)
def random_forest(config: Config, features: list[Feature], y: pd.Series) -> Pipeline:
    """A random forest of 100 trees (no scaling needed)."""
    seed = config.split.seed
    forest: BaseEstimator
    if config.task.type == "regression":
        forest = RandomForestRegressor(
            n_estimators=100,
            min_samples_leaf=2,
            criterion=_forest_criterion(config, y),
            random_state=seed,
        )
    else:
        forest = RandomForestClassifier(
            n_estimators=100, min_samples_leaf=1, class_weight=_class_weight(y), random_state=seed
        )
    return Pipeline([("features", build_preprocessor(features, scaler="none")), ("model", forest)])


def _boosting_space(trial: Any, config: Config) -> dict[str, Any]:
    return {
        "model__learning_rate": trial.suggest_float("model__learning_rate", 0.02, 0.3, log=True),
        "model__max_leaf_nodes": trial.suggest_int("model__max_leaf_nodes", 7, 63, log=True),
        "model__min_samples_leaf": trial.suggest_int("model__min_samples_leaf", 5, 40),
        "model__l2_regularization": trial.suggest_float(
            "model__l2_regularization", 1e-4, 10, log=True
        ),
    }


@candidate("gradient_boosting", complexity=2, space=_boosting_space, text_ok=False)
def gradient_boosting(config: Config, features: list[Feature], y: pd.Series) -> Pipeline:
    """Histogram gradient-boosted trees (scikit-learn's LightGBM-style booster)."""
    seed = config.split.seed
    booster: BaseEstimator
    if config.task.type == "regression":
        booster = HistGradientBoostingRegressor(
            loss=_boosting_loss(config, y), max_iter=100, random_state=seed
        )
    else:
        booster = HistGradientBoostingClassifier(
            max_iter=100, class_weight=_class_weight(y), random_state=seed
        )
    return Pipeline([("features", build_preprocessor(features, scaler="none")), ("model", booster)])


def _bayes_space(trial: Any, config: Config) -> dict[str, Any]:
    return {"model__alpha": trial.suggest_float("model__alpha", 1e-3, 3.0, log=True)}


@candidate(
    "naive_bayes",
    complexity=0,
    space=_bayes_space,
    tasks=("multiclass_classification", "text_classification", "binary_classification"),
)
def naive_bayes(config: Config, features: list[Feature], y: pd.Series) -> Pipeline:
    """TF-IDF (and min-max scaled numbers) into complement naive Bayes: the classic text model."""
    return Pipeline(
        [("features", build_preprocessor(features, scaler="minmax")), ("model", ComplementNB())]
    )


def with_cost_threshold(config: Config, pipeline: Pipeline, positive: Any) -> BaseEstimator:
    """Wrap a binary classifier so predict() uses the threshold with the lowest expected cost.

    The threshold is chosen on 5-fold cross-validated predictions on the training data, never on test.
    """
    cost = {
        "pos_label": positive,
        "cost_fp": config.evaluate.cost_fp,
        "cost_fn": config.evaluate.cost_fn,
    }
    # The scorer's pos_label tells the tuner which column of predict_proba is the positive class.
    scorer = make_scorer(expected_cost, greater_is_better=False, **cost)
    return TunedThresholdClassifierCV(
        pipeline,
        scoring=scorer,
        response_method="predict_proba",
        cv=5,
        random_state=config.split.seed,
    )


def decision_threshold(estimator: Any) -> float | None:
    """The probability above which a tuned binary classifier says 'positive'."""
    threshold = getattr(estimator, "best_threshold_", None)
    return None if threshold is None else float(threshold)


# ----------------------------------------------------------------------------- heuristics


def build_heuristic(config: Config, features: list[Feature], positive: Any = None) -> BaseEstimator:
    rule = config.baseline.heuristic_rule
    if rule:
        if config.task.type not in ("binary_classification", "regression"):
            raise ConfigError(
                "baseline.heuristic_rule is supported for binary_classification and regression only"
            )
        return ExpressionRule(expression=rule, positive=positive)
    if config.task.type == "text_classification":
        text = [f.name for f in features if f.kind == "text"]
        return KeywordRule(text_column=text[0])
    if config.task.type == "regression":
        return OneFeatureLinear()
    return OneFeatureRule(positive=positive)


def _balanced_accuracy(truth: np.ndarray, pred: np.ndarray, classes: np.ndarray) -> float:
    """sklearn.metrics.balanced_accuracy_score in numpy: the rule search calls it thousands of times
    and scikit-learn's input checks make that ~35x slower (0.8 ms vs 0.02 ms a call on 400 rows).
    tests/test_model.py pins it to scikit-learn's result."""
    recalls = [np.mean(pred[truth == c] == c) for c in classes if np.any(truth == c)]
    return float(np.mean(recalls)) if recalls else 0.0


def _show(value: Any) -> str:
    """A label as a person writes it: 1, not np.int64(1)."""
    return repr(value.item() if hasattr(value, "item") else value)


def _one_hot(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """One column per class, also for two classes (sklearn's label_binarize gives one column then)."""
    return (labels[:, None] == classes[None, :]).astype(float)


class _RuleClassifier(ClassifierMixin, BaseEstimator):
    """A rule gives decisions, not scores: its probabilities are 0 or 1 (one operating point)."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return _one_hot(np.asarray(self.predict(X)), self.classes_)


class ExpressionRule(BaseEstimator):
    """The user's rule: a pandas expression over the feature columns (config: baseline.heuristic_rule).

    Binary: rows where it is true get the positive class. Regression: its value is the prediction.
    """

    def __init__(self, expression: str = "", positive: Any = None):
        self.expression = expression
        self.positive = positive

    def _evaluate(self, X: pd.DataFrame) -> np.ndarray:
        try:
            values = X.eval(self.expression)
        except Exception as err:  # pandas raises many types for a bad expression
            raise ConfigError(f"baseline.heuristic_rule {self.expression!r}: {err}") from err
        return np.broadcast_to(np.asarray(values), (len(X),)).copy()

    def fit(self, X: pd.DataFrame, y: pd.Series) -> ExpressionRule:
        self._evaluate(X.head(5))
        if self.positive is not None:
            self.classes_ = np.unique(np.asarray(y))
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        values = self._evaluate(X)
        if self.positive is None:
            return values.astype(float)
        negative = [c for c in self.classes_ if c != self.positive][0]
        return np.where(values.astype(bool), self.positive, negative)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return _one_hot(self.predict(X), self.classes_)

    def describe(self) -> str:
        if self.positive is None:
            return f"predict {self.expression}"
        return f"predict {_show(self.positive)} when {self.expression}"


class OneFeatureRule(_RuleClassifier):
    """The best single-feature rule on the training data (highest balanced accuracy).

    Numeric feature: binary -> a threshold; multiclass -> the nearest class mean on that feature.
    Categorical feature: each value -> its most frequent class.
    """

    def __init__(self, positive: Any = None, max_thresholds: int = 50):
        self.positive = positive
        self.max_thresholds = max_thresholds

    def fit(self, X: pd.DataFrame, y: pd.Series) -> OneFeatureRule:
        y = pd.Series(np.asarray(y), index=X.index)
        self.classes_ = np.unique(y)
        self.default_ = y.value_counts().index[0]
        best: tuple[float, dict[str, Any]] | None = None
        truth = y.to_numpy()
        for column in X.columns:
            for rule in self._candidates(X[column], y):
                score = _balanced_accuracy(truth, self._apply(rule, X[column]), self.classes_)
                if best is None or score > best[0]:
                    best = (score, rule)
        if best is None:
            best = (0.0, {"kind": "constant", "feature": None})
        self.rule_ = best[1]
        self.train_balanced_accuracy_ = best[0]
        return self

    def _candidates(self, column: pd.Series, y: pd.Series) -> list[dict[str, Any]]:
        name = column.name
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            present = column.dropna()
            if present.nunique() < 2:
                return []
            if len(self.classes_) == 2 and self.positive is not None:
                cuts = np.unique(np.quantile(present, np.linspace(0.02, 0.98, self.max_thresholds)))
                return [
                    {"kind": "threshold", "feature": name, "cut": float(c), "above": above}
                    for c in cuts
                    for above in (True, False)
                ]
            means = present.groupby(y[present.index]).mean()
            return [{"kind": "centroid", "feature": name, "means": means.to_dict()}]
        table = column.astype(str).groupby(y).value_counts().rename("n").reset_index()
        table.columns = ["label", "value", "n"]
        majority = table.sort_values("n", ascending=False).drop_duplicates("value")
        return [
            {
                "kind": "lookup",
                "feature": name,
                "map": dict(zip(majority.value, majority.label, strict=False)),
            }
        ]

    def _apply(self, rule: dict[str, Any], column: pd.Series) -> np.ndarray:
        kind = rule["kind"]
        out = np.full(len(column), self.default_, dtype=object)
        values = column.to_numpy()
        if kind == "threshold":
            present = ~pd.isna(column).to_numpy()
            hit = values[present] > rule["cut"] if rule["above"] else values[present] <= rule["cut"]
            negative = [c for c in self.classes_ if c != self.positive][0]
            out[present] = np.where(hit, self.positive, negative)
        elif kind == "centroid":
            labels = list(rule["means"])
            centres = np.array([rule["means"][k] for k in labels], dtype=float)
            present = ~pd.isna(column).to_numpy()
            distance = np.abs(values[present].astype(float)[:, None] - centres[None, :])
            out[present] = np.array(labels, dtype=object)[distance.argmin(axis=1)]
        elif kind == "lookup":
            mapped = column.astype(str).map(rule["map"])
            out = np.where(mapped.isna(), self.default_, mapped.to_numpy(dtype=object))
        return np.asarray(out).astype(self.classes_.dtype)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "rule_")
        feature = self.rule_["feature"]
        if feature is None:
            return np.full(len(X), self.default_)
        return self._apply(self.rule_, X[feature])

    def describe(self) -> str:
        rule = self.rule_
        if rule["kind"] == "threshold":
            sign = ">" if rule["above"] else "<="
            return f"predict {_show(self.positive)} when {rule['feature']} {sign} {rule['cut']:.4g}"
        if rule["kind"] == "centroid":
            return f"predict the class whose mean {rule['feature']} is nearest"
        if rule["kind"] == "lookup":
            return f"predict the most frequent class for each value of {rule['feature']}"
        return f"always predict {_show(self.default_)}"


class KeywordRule(_RuleClassifier):
    """Per-class keyword lists learnt from training texts; the class with most keyword hits wins."""

    def __init__(self, text_column: str = "text", n_keywords: int = 12, min_count: int = 3):
        self.text_column = text_column
        self.n_keywords = n_keywords
        self.min_count = min_count

    @staticmethod
    def _tokens(text: Any) -> set[str]:
        return set(TOKEN.findall(str(text).lower())) if isinstance(text, str) else set()

    def fit(self, X: pd.DataFrame, y: pd.Series) -> KeywordRule:
        labels = np.asarray(y)
        self.classes_ = np.unique(labels)
        self.default_ = pd.Series(labels).value_counts().index[0]
        docs = [self._tokens(t) for t in X[self.text_column]]
        self.keywords_: dict[Any, list[str]] = {}
        for label in self.classes_:
            inside = Counter(
                t for d, lab in zip(docs, labels, strict=False) if lab == label for t in d
            )
            outside = Counter(
                t for d, lab in zip(docs, labels, strict=False) if lab != label for t in d
            )
            n_in = max(int(np.sum(labels == label)), 1)
            n_out = max(len(labels) - n_in, 1)
            # Words much more common inside the class than outside it (difference of document shares).
            scored = {
                token: count / n_in - outside[token] / n_out
                for token, count in inside.items()
                if count >= self.min_count and token not in ENGLISH_STOP_WORDS
            }
            ranked = sorted(scored, key=lambda t: (-scored[t], t))
            self.keywords_[label] = ranked[: self.n_keywords]
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "keywords_")
        out = []
        for text in X[self.text_column]:
            tokens = self._tokens(text)
            hits = {
                label: len(tokens.intersection(words)) for label, words in self.keywords_.items()
            }
            best = max(hits.values()) if hits else 0
            winners = [label for label, n in hits.items() if n == best]
            out.append(winners[0] if best > 0 and len(winners) == 1 else self.default_)
        return np.asarray(out, dtype=self.classes_.dtype)

    def describe(self) -> str:
        shown = "; ".join(f"{k}: {', '.join(v[:5])}" for k, v in self.keywords_.items())
        return f"count keyword hits per class ({shown})"


class OneFeatureLinear(RegressorMixin, BaseEstimator):
    """A straight line on the single numeric feature most correlated with the target, or the mean
    target per value of the most informative categorical feature, whichever fits training better."""

    def fit(self, X: pd.DataFrame, y: pd.Series) -> OneFeatureLinear:
        target = pd.Series(np.asarray(y, dtype=float), index=X.index)
        self.mean_ = float(target.mean())
        best: tuple[float, dict[str, Any]] = (-np.inf, {"kind": "constant", "feature": None})
        for column in X.columns:
            rule = self._fit_one(X[column], target)
            if rule is None:
                continue
            error = float(np.mean((self._apply(rule, X[column]) - target.to_numpy()) ** 2))
            if -error > best[0]:
                best = (-error, rule)
        self.rule_ = best[1]
        return self

    def _fit_one(self, column: pd.Series, y: pd.Series) -> dict[str, Any] | None:
        present = column.notna()
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            x = column[present].astype(float)
            if x.nunique() < 2:
                return None
            slope, intercept = np.polyfit(x, y[present], deg=1)
            return {"kind": "line", "feature": column.name, "slope": slope, "intercept": intercept}
        means = y.groupby(column.astype(str)).mean()
        return {"kind": "group_mean", "feature": column.name, "means": means.to_dict()}

    def _apply(self, rule: dict[str, Any], column: pd.Series) -> np.ndarray:
        if rule["kind"] == "line":
            values = column.astype(float).to_numpy()
            out = rule["intercept"] + rule["slope"] * values
        else:
            out = column.astype(str).map(rule["means"]).to_numpy(dtype=float)
        return np.where(np.isnan(out), self.mean_, out)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "rule_")
        if self.rule_["feature"] is None:
            return np.full(len(X), self.mean_)
        return self._apply(self.rule_, X[self.rule_["feature"]])

    def describe(self) -> str:
        rule = self.rule_
        if rule["kind"] == "line":
            return f"predict {rule['intercept']:.4g} + {rule['slope']:.4g} x {rule['feature']}"
        if rule["kind"] == "group_mean":
            return f"predict the training mean for each value of {rule['feature']}"
        return f"always predict {self.mean_:.4g}"


def describe(estimator: Any) -> str:
    """One line saying what a predictor does, for reports."""
    if hasattr(estimator, "describe"):
        return str(estimator.describe())
    if isinstance(estimator, (DummyClassifier, DummyRegressor)):
        return f"{type(estimator).__name__}(strategy={estimator.strategy!r})"
    return type(estimator).__name__
