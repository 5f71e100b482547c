"""The evaluate stage: `evaluate` scores the model and both baselines on the held-out test split, runs
the readiness gate and writes reports/; it exits 1 when the model is not ready, so CI can stop there."""

from __future__ import annotations

import argparse
import logging

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

    from ..artifacts import write_json, write_text
    from ..evaluation import evaluate
    from ..plots import write_figures
    from ..report import evaluation_markdown, fmt, model_card, readiness

    result = evaluate(config)
    reports = config.reports_dir
    figures = write_figures(result, reports / "figures")
    write_json(reports / "readiness.json", readiness(result))
    write_text(reports / "evaluation.md", evaluation_markdown(result, figures))
    write_text(reports / "model_card.md", model_card(result))
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


COMMANDS = {"evaluate": run}
