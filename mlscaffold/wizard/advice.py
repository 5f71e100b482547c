"""Feasibility advice from section A's gate, and the formulation in a few sentences.

Advice is never blocking: the library returns it; the wizard shows it at the summary and the CLI
prints it after generating. Only a data file the user named is read (P2).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from mlscaffold.engine.names import has_password_in_url
from mlscaffold.wizard.datapeek import peek
from mlscaffold.wizard.questions import is_empty

_ALGORITHM_WORDS = re.compile(
    r"\b(neural|deep learning|xgboost|lightgbm|random forest|transformer|llm|gpt|bert|svm)\b", re.I
)
# A technique as the point of the goal ("use AI to...", "a machine learning model for...").
_TECHNIQUE_WORDS = re.compile(
    r"\b(ai|a\.i\.|artificial intelligence|machine learning|ml|data science|an? (?:ml |ai |predictive )?model"
    r"|algorithms?)\b",
    re.I,
)
# Words that name who is helped: the canvas's "Help <user> <do X>".
_USER_WORDS = re.compile(
    r"\b(help|helps|let|lets|enable|enables|allow|allows|for|users?|customers?|clients?|agents?|staff"
    r"|teams?|analysts?|operators?|doctors?|clinicians?|patients?|buyers?|sellers?|drivers?|managers?"
    r"|reviewers?|engineers?|employees?|members?|students?|teachers?|people|we|our)\b",
    re.I,
)
_DAYS = {"min": 1 / 1440, "h": 1 / 24, "d": 1.0, "w": 7.0, "mo": 30.0, "y": 365.0}
_RETRAIN_DAYS = {"daily": 1.0, "weekly": 7.0, "monthly": 30.0, "quarterly": 91.0}
_RARE_POSITIVES_METRICS = ("accuracy", "roc_auc")
_ERROR_METRICS = ("mae", "rmse", "median_ae", "log_loss", "brier")


def parse_duration_days(text: object) -> float | None:
    """'30 days', '2w', '6 hours', '15 min' -> days; None when it is not a duration."""
    if not isinstance(text, str):
        return None
    match = re.fullmatch(
        r"\s*(\d+(?:\.\d+)?)\s*(min(?:ute)?s?|h(?:ours?)?|d(?:ays?)?|w(?:eeks?)?|mo(?:nths?)?|y(?:ears?)?)\s*",
        text.lower(),
    )
    if match is None:
        return None
    unit = match.group(2)
    key = next(k for k in ("min", "mo", "h", "d", "w", "y") if unit.startswith(k))
    return float(match.group(1)) * _DAYS[key]


def template_context(advice_sets: Collection[str], answers: Mapping[str, Any]) -> dict[str, Any]:
    """What the wizard adds to a rendering: `advice`, the warnings of the template set's own advice rule
    sets (none for a set that names none). Computed from the answers alone (no file reads), so every
    later rendering of the same answers gives the same bytes."""
    return {"advice": advice_for(advice_sets, answers)}


def advice_for(
    advice_sets: Collection[str], answers: Mapping[str, Any], *, named_paths: Collection[str] = ()
) -> list[str]:
    """The advice of the rule sets a template set names (`advice:` in template.yaml)."""
    if "feasibility" not in advice_sets:
        return []
    return feasibility_warnings(answers, named_paths=named_paths)


def feasibility_warnings(answers: Mapping[str, Any], *, named_paths: Collection[str] = ()) -> list[str]:
    """Advice from section A's feasibility gate. Warnings only: the user may go ahead anyway.

    `named_paths`: data files the user named (--set/--answers/typed). Only when `data_path` is one
    of them is the file read, to check the target and the named columns against it (P2).
    """
    warnings: list[str] = []
    for check in (_goal_advice, _heuristic_advice, _label_advice, _volume_advice, _metric_advice,
                  _decision_advice, _freshness_advice, _location_advice):  # fmt: skip
        warnings.extend(check(answers))
    if answers.get("data_path") in named_paths:
        warnings.extend(_file_advice(answers))
        warnings.extend(_data_advice(answers))
    return warnings


def _location_advice(answers: Mapping[str, Any]) -> list[str]:
    """Where the data is: a URL for SQL (without a password in it), a path the project can find."""
    source, path = answers.get("data_source"), answers.get("data_path")
    if source not in ("csv", "parquet", "sql") or not isinstance(path, str) or not path:
        return []
    if source == "sql" and "://" not in path:
        return [
            f"'{path}' is not a SQLAlchemy URL: write e.g. sqlite:///data/raw.db or postgresql://host/db."
        ]
    if has_password_in_url(path):
        return [
            "The data URL holds a password, which would be written to config.yaml and .mlscaffold.yaml "
            "and committed: keep credentials out of the URL (e.g. ~/.pgpass or the driver's config file)."
        ]
    if source != "sql" and "://" not in path and not Path(path).expanduser().is_absolute():
        return [
            f"The project reads '{path}' relative to its own folder: copy the file there, or give an "
            "absolute path."
        ]
    return []


def _file_advice(answers: Mapping[str, Any]) -> list[str]:
    source, path = answers.get("data_source"), str(answers.get("data_path"))
    if source in ("csv", "parquet") and "://" not in path:
        local = Path(path).expanduser()
        if local.is_absolute() and not local.exists():
            return [f"'{path}' does not exist (yet): the data stage fails until it does."]
    return []


def _goal_advice(answers: Mapping[str, Any]) -> list[str]:
    goal = answers.get("product_goal")
    if is_empty(goal):
        return [
            "No product goal yet: write who is helped to do what ('Help <user> <do X> so that "
            "<outcome>') before judging any model."
        ]
    if isinstance(goal, str) and _ALGORITHM_WORDS.search(goal):
        return [
            "The product goal names an algorithm: state the user outcome instead; the model "
            "is a means, and a simpler one may do."
        ]
    if isinstance(goal, str) and (match := _TECHNIQUE_WORDS.search(goal)):
        return [
            f"The product goal names a technique ('{match.group(0)}') rather than a user outcome: say who "
            "is helped to do what ('Help <user> <do X> so that <outcome>'); whether a model is the "
            "means is for the baselines to show."
        ]
    if isinstance(goal, str) and len(goal.strip()) >= 20 and not _USER_WORDS.search(goal):
        return [
            "The product goal names no user: say who is helped ('Help <user> <do X> so that "
            "<outcome>'), so that errors can be weighed by what they cost that person."
        ]
    if isinstance(goal, str) and len(goal.strip()) < 20:
        return [
            "The product goal is very short: say who is helped to do what, and what changes for "
            "them, so that the metric and the threshold can be judged against it."
        ]
    return []


def _heuristic_advice(answers: Mapping[str, Any]) -> list[str]:
    if answers.get("current_solution") != "rules" and is_empty(answers.get("heuristic_rule")):
        return []
    margin = answers.get("baseline_margin")
    by = f" by {margin:g}" if isinstance(margin, int | float) else ""
    return [
        f"A rule already exists and a 10-line rule may do: ship the heuristic first and make "
        f"the model beat it{by} before it replaces the rule."
    ]


def _label_advice(answers: Mapping[str, Any]) -> list[str]:
    if answers.get("label_source") == "none":
        return [
            "No source of labels: the model can be neither trained nor evaluated. Plan how "
            "outcomes will be logged or annotated first."
        ]
    return []


def _volume_advice(answers: Mapping[str, Any]) -> list[str]:
    rows = answers.get("labelled_rows")
    if not isinstance(rows, int):
        return []
    rate = answers.get("positive_rate")
    if answers.get("task_type") == "binary_classification" and isinstance(rate, int | float):
        minority = rows * min(rate, 1 - rate)
        if minority < 100:
            return [
                f"About {minority:.0f} labelled rows in the rarer class (fewer than 100): "
                "collect or label more data first, and ship the heuristic meanwhile."
            ]
        return []
    if rows < 100 * (1 if answers.get("task_type") == "regression" else 2):
        return [
            f"Only {rows} labelled rows, fewer than 100 per class: collect or label more data "
            "first; until then the heuristic is the product."
        ]
    return []


def _metric_advice(answers: Mapping[str, Any]) -> list[str]:
    rate = answers.get("positive_rate")
    metric = answers.get("primary_metric")
    advice: list[str] = []
    if (
        answers.get("task_type") == "binary_classification"
        and isinstance(rate, int | float)
        and min(rate, 1 - rate) < 0.10
        and metric in _RARE_POSITIVES_METRICS
    ):
        advice.append(
            f"{min(rate, 1 - rate):.0%} positives: use average_precision (PR-AUC), not "
            f"{metric}; it can look good while missing most positives."
        )
    if answers.get("ready_threshold") is None and "primary_metric" in answers:
        advice.append(
            "No ready threshold: only the margin over the best baseline will gate "
            "readiness. Set the lowest useful value once you know it."
        )
    return advice


def _decision_advice(answers: Mapping[str, Any]) -> list[str]:
    cost_fp, cost_fn = answers.get("cost_fp"), answers.get("cost_fn")
    if answers.get("decision_mode") != "automate":
        return []
    if isinstance(cost_fp, int | float) and isinstance(cost_fn, int | float):
        low, high = sorted((cost_fp, cost_fn))
        if high >= 5 * low:
            return [
                "The model acts alone and one kind of error costs at least 5 times the other: "
                "consider 'augment' (a person decides), with a fallback and a review path."
            ]
    return []


def _freshness_advice(answers: Mapping[str, Any]) -> list[str]:
    advice: list[str] = []
    delay = parse_duration_days(answers.get("label_delay"))
    max_age = answers.get("max_model_age_days")
    if delay is not None and isinstance(max_age, int | float) and delay > max_age:
        advice.append(
            f"Labels arrive after {delay:g} days, later than the maximum model age "
            f"({max_age:g} days): monitoring will rely on drift signals, not realised "
            "performance."
        )
    interval = _RETRAIN_DAYS.get(str(answers.get("retraining")))
    if interval is not None and isinstance(max_age, int | float) and max_age < interval:
        advice.append(
            f"The maximum model age ({max_age:g} days) is shorter than the retraining "
            f"interval ({interval:g} days): every model will be reported stale."
        )
    return advice


_COLUMN_KEYS = ("target", "text_column", "id_column", "time_column", "group_column")
_COLUMN_LIST_KEYS = ("slices", "forbidden_features", "sensitive_columns")


def _data_advice(answers: Mapping[str, Any]) -> list[str]:
    """When a CSV was named: do the named columns exist, and does the target match the task type?"""
    looked = peek(answers.get("data_source"), answers.get("data_path"), answers.get("target"))
    if not looked.columns:
        return []
    named = [answers.get(key) for key in _COLUMN_KEYS]
    named += [item for key in _COLUMN_LIST_KEYS for item in answers.get(key) or ()]
    missing = [str(n) for n in named if isinstance(n, str) and n and n not in looked.columns]
    if missing:
        shown = ", ".join(looked.columns[:12]) + (", ..." if len(looked.columns) > 12 else "")
        quoted = ", ".join(f"'{m}'" for m in dict.fromkeys(missing))
        return [f"Not a column of {answers.get('data_path')}: {quoted} (columns: {shown})."]
    target, task = answers.get("target"), answers.get("task_type")
    advice: list[str] = []
    if looked.task_type and looked.task_type != task:
        advice.append(
            f"The values of '{target}' look like {looked.task_type.replace('_', ' ')}, not "
            f"{str(task).replace('_', ' ')}: check the task type."
        )
    positive = answers.get("positive_class")
    if task == "binary_classification" and positive and looked.classes and positive not in looked.classes:
        advice.append(
            f"The positive class '{positive}' is not a value of '{target}' "
            f"(values: {', '.join(looked.classes)})."
        )
    return advice


# ---------------------------------------------------------------------------------------------
# The formulation in a few sentences (the summary at the end of the interview)


def formulation_summary(answers: Mapping[str, Any]) -> list[str]:
    """A few plain sentences that restate the formulation the answers make."""
    task = str(answers.get("task_type", "")).replace("_", " ")
    entity = _one_line(answers.get("entity")) or "row"
    goal = _one_line(answers.get("product_goal")) or "not specified yet"
    mode = answers.get("decision_mode", "augment")
    metric, threshold = answers.get("primary_metric"), answers.get("ready_threshold")
    if isinstance(threshold, int | float):
        words = "is at most" if metric in _ERROR_METRICS else "reaches"
        bar = f"{metric} {words} {threshold:g}"
    else:
        bar = f"{metric} is measured"
    margin = answers.get("baseline_margin")
    beat = (
        f" and beats the dummy and heuristic baselines by {margin:g}"
        if isinstance(margin, int | float)
        else ""
    )
    serving = answers.get("serving", "batch")
    latency = answers.get("latency_budget_ms")
    budget = f" within {latency} ms (p95)" if serving != "batch" and latency else ""
    psi = f"PSI {answers.get('psi_warn', 0.1):g}/{answers.get('psi_alert', 0.25):g}"
    retrain = str(answers.get("retraining", "manual")).replace("_", " ")
    return [
        f"Goal: {goal}",
        f"Predict '{answers.get('target')}' ({task}) for each {entity}, to {mode} the decision.",
        f"Ready when {bar}{beat}.",
        f"Serve {serving}{budget}; monitor drift ({psi}) and performance; retrain: {retrain}.",
    ]


def _one_line(value: object, width: int = 100) -> str:
    if not isinstance(value, str):
        return ""
    text = " ".join(value.split())
    return text if len(text) <= width else text[: width - 1] + "…"
