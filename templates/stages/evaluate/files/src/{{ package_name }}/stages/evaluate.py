"""The evaluate stage: `evaluate` scores the model and both baselines on the held-out test split, runs
the readiness gate and writes reports/; it exits 1 when the model is not ready, so CI can stop there."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from ..config import Config

ORDER = 30
PIPELINE_STEP = "evaluate"
log = logging.getLogger(__name__)


def run(config: Config, argv: list[str]) -> int:
    """Evaluate on held-out data, write reports/ and exit 1 when the model is not ready."""
    parser = argparse.ArgumentParser(prog="evaluate", description=run.__doc__)
    parser.add_argument(
        "--no-gate", action="store_true", help="write the reports but exit 0 even when not ready"
    )
    args = parser.parse_args(argv)

    from ..artifacts import load_meta, write_json, write_text
    from ..evaluation import evaluate
    from ..plots import write_figures
    from ..report import evaluation_markdown, fmt, model_card, readiness
    from ..tracking import start_run

    reports = config.reports_dir
    run_id = load_meta(config).get("tracking_run_id")
    with start_run(config, "evaluate", run_id=run_id):
        result = evaluate(config)
        figures = write_figures(result, reports / "figures")
        record = readiness(result)
        write_json(reports / "readiness.json", record)
        write_text(reports / "evaluation.md", evaluation_markdown(result, figures))
        write_text(reports / "model_card.md", model_card(result))
        _track(result, record)
        _record_gate(config, result, record)
        from ..html_report import write_html_report

        log.info("report for people, figures included: %s", write_html_report(config))
    for check in result.checks:
        if check.status == "skipped":
            continue
        versus = (
            f" ({fmt(check.value)} vs {fmt(check.threshold)})"
            if check.threshold is not None
            else ""
        )
        detail = f": {check.detail}" if check.detail and check.status != "pass" else ""
        log.info("  %-4s %-5s %s%s%s", check.id, check.status, check.name, versus, detail)
    primary = result.primary
    log.info(
        "%s: model %s | dummy %s | heuristic %s",
        result.metric.name,
        fmt(primary["model"]),
        fmt(primary["dummy"]),
        fmt(primary["heuristic"]),
    )
    verdict = "READY" if result.ready else "NOT READY"
    log.info("%s -> %s", verdict, reports / "readiness.json")
    if not result.ready:
        failed = ", ".join(
            f"{c.id} {c.name}" for c in result.checks if c.blocking and c.status == "fail"
        )
        log.info("blocking checks failed: %s", failed)
        return 0 if args.no_gate else 1
    return 0


def _record_gate(config: Config, result: Any, record: dict[str, Any]) -> None:
    """The verdict on the registered version (registry.py): `promote` reads it."""
    from ..registry import open_registry

    metric = result.metric.name
    gate = {
        "ready": result.ready,
        "failed": record["failed"],
        "metrics": {
            metric: result.primary["model"],
            **{k: v for k, v in result.metrics["model"].items()},
        },
    }
    registry = open_registry(config)
    version = registry.record_gate(str(result.meta.get("model_version")), gate)
    if version is None:
        log.info(
            "model %s is not in the registry: run `make train`", result.meta.get("model_version")
        )
        return
    champion = registry.champion()
    if result.ready:
        if champion is None or champion.number != version.number:
            log.info(
                "version %d passed the gate: `make promote` makes it the champion", version.number
            )
    elif champion is not None:
        log.info(
            "version %d is not promoted: the champion (version %d) keeps serving",
            version.number,
            champion.number,
        )


def _track(result: Any, record: dict[str, Any]) -> None:
    """Test metrics of the model and both baselines, the verdicts and the reports, into the run of the
    model evaluated (tracking.py; nothing when tracking is off)."""
    from .. import tracking

    if tracking.active_run_id() is None:
        return
    for name, values in result.metrics.items():
        tracking.log_metrics(values, prefix=f"test.{name}.")
    metric = result.metric.name
    tracking.log_metrics({f"test_{metric}": result.primary["model"], "ready": float(result.ready)})
    ci = result.ci.get("model")
    if ci:
        tracking.log_metrics({f"test_{metric}_ci_low": ci[0], f"test_{metric}_ci_high": ci[1]})
    if result.versus_linear:
        tracking.log_metrics({f"test_{metric}_linear": result.versus_linear["linear_value"]})
    tracking.set_tags(
        {"ready": str(result.ready).lower(), **{f"check.{c.id}": c.status for c in result.checks}}
    )
    reports = result.config.reports_dir
    tracking.log_dict(record, "reports/readiness.json")
    tracking.log_artifact(reports / "evaluation.md", "reports")
    tracking.log_artifact(reports / "model_card.md", "reports")
    tracking.log_artifacts(reports / "figures", "reports/figures")


COMMANDS = {"evaluate": run}
