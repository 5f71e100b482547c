"""`analyze`: what to do next (label errors, learning curve, error slices, importance and leakage,
ranked next steps), written to reports/analysis.md and reports/analysis.json; the suspected label
errors go to reports/label_review.csv for a person to review. Not part of `make all`: run it when
deciding where the next hour goes."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import Config

ORDER = 35
PIPELINE_STEP = None
log = logging.getLogger(__name__)


def run(config: Config, argv: list[str]) -> int:
    """Say what to do next: label errors, learning curve, error slices, leakage, next steps."""
    parser = argparse.ArgumentParser(prog="analyze", description=run.__doc__)
    parser.parse_args(argv)

    from ..analysis import analyze
    from ..artifacts import write_json, write_text

    result = analyze(config)
    reports = config.reports_dir
    figure = _learning_curve_figure(
        result["learning_curve"], reports / "figures" / "learning_curve.png"
    )
    write_json(reports / "analysis.json", result)
    review = _write_review(result, reports / "label_review.csv")
    write_text(reports / "analysis.md", markdown(config, result, figure, review))
    for step in result["next_steps"]:
        log.info("%d. [%s] %s: %s", step["rank"], step["strength"], step["action"], step["step"])
        log.info("   evidence: %s", step["evidence"])
    log.info("-> %s", reports / "analysis.md")
    return 0


def _write_review(result: dict[str, Any], path: Path) -> Path | None:
    """The suspected label errors, with an empty `wrong` column for the reviewer."""
    labels = result["label_issues"]
    if labels is None:
        return None
    frame = pd.DataFrame(
        labels["issues"],
        columns=["row_id", "split", "given_label", "suggested_label", "label_quality"],
    )
    frame["wrong"] = ""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def _learning_curve_figure(curve: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    sizes = np.array(curve["train_sizes"])
    mean, std = np.array(curve["validation_mean"]), np.array(curve["validation_std"])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(sizes, curve["train_mean"], "o--", label="training folds")
    ax.plot(sizes, mean, "o-", label="validation folds")
    ax.fill_between(sizes, mean - std, mean + std, alpha=0.2, label="± 1 sd over folds")
    ax.set_xlabel("training rows")
    ax.set_ylabel(curve["metric"])
    ax.set_title("Learning curve")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def markdown(config: Config, result: dict[str, Any], figure: Path, review: Path | None) -> str:
    lines = [
        f"# What to do next: {config.project.name}",
        "",
        f"Model `{result['model_version']}` ({result['candidate']}), {result['rows']} labelled rows "
        "(train and test). Out-of-fold predictions come from cross-validating the model's recipe.",
        "",
        "## Next steps, strongest evidence first",
        "",
        "| # | action | step | evidence | strength |",
        "|---|---|---|---|---|",
    ]
    for step in result["next_steps"]:
        lines.append(
            f"| {step['rank']} | {step['action']} | {step['step']} | {step['evidence']} | "
            f"{step['strength']} |"
        )
    lines += _labels_section(config, result["label_issues"], review)
    curve = result["learning_curve"]
    lines += [
        "",
        "## Learning curve: would more data help?",
        "",
        f"**{curve['verdict']}**.",
        "",
        f"| training rows | validation {curve['metric']} (mean ± sd) | training {curve['metric']} |",
        "|---|---|---|",
    ]
    for size, mean, std, train in zip(
        curve["train_sizes"],
        curve["validation_mean"],
        curve["validation_std"],
        curve["train_mean"],
        strict=True,
    ):
        lines.append(f"| {size} | {mean:.4f} ± {std:.4f} | {train:.4f} |")
    lines += ["", f"![learning curve](figures/{figure.name})"]
    lines += _slices_section(result["error_slices"])
    lines += _importance_section(result["importance"])
    return "\n".join(lines) + "\n"


def _labels_section(
    config: Config, labels: dict[str, Any] | None, review: Path | None
) -> list[str]:
    if labels is None:
        return ["", "## Label errors", "", "Not applicable to regression."]
    shown = labels["issues"][: config.analyze.max_label_issues]
    lines = [
        "",
        "## Likely label errors",
        "",
        f"{labels['method']}: {labels['flagged']} of {labels['rows_checked']} rows flagged "
        f"({labels['share']:.1%}); the {len(shown)} most likely are listed.",
        "",
        f"To retrain without the ones you confirm: copy `{review}` to `{config.analyze.review_file}`, "
        "write `yes` in the `wrong` column of each row whose label is really wrong, then run "
        "`make train DROP_REVIEWED=1` (`python -m "
        f"{config.project.package} train --drop-reviewed`).",
        "",
        "| row id | split | given label | suggested | label quality |",
        "|---|---|---|---|---|",
    ]
    for row in shown:
        lines.append(
            f"| {row['row_id']} | {row['split']} | {row['given_label']} | {row['suggested_label']} "
            f"| {row['label_quality']:.3f} |"
        )
    return lines


def _slices_section(slices: dict[str, Any]) -> list[str]:
    low, high = slices["overall_ci95"]
    lines = [
        "",
        "## Where the model is worst",
        "",
        f"{slices['measure']}: {slices['overall']:.4f} overall (95% CI {low:.4f}-{high:.4f}).",
        "",
        "| feature | segment | n | error | 95% CI | worse than overall? |",
        "|---|---|---|---|---|---|",
    ]
    for row in slices["worst"]:
        lines.append(
            f"| {row['feature']} | {row['segment']} | {row['n']} | {row['error']:.4f} | "
            f"{row['ci95'][0]:.4f}-{row['ci95'][1]:.4f} | "
            f"{'yes' if row['worse_than_overall'] else 'no'} |"
        )
    return lines


def _importance_section(importance: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Permutation importance (test split) and leakage",
        "",
        f"Drop in {importance['metric']} when a feature is shuffled (5 repeats).",
        "",
        "| feature | importance | sd | share | alone (CV) |",
        "|---|---|---|---|---|",
    ]
    alone = importance["single_feature_scores"]
    for row in importance["importance"][:15]:
        score = alone.get(row["feature"])
        lines.append(
            f"| {row['feature']} | {row['mean']:.4f} | {row['std']:.4f} | {row['share']:.0%} | "
            f"{'-' if score is None else f'{score:.3f}'} |"
        )
    suspects = importance["leakage_suspects"]
    lines += ["", "Leakage suspects: " + ("none." if not suspects else "")]
    for suspect in suspects:
        lines.append(f"- **{suspect['feature']}**: {'; '.join(suspect['reasons'])}")
    return lines


COMMANDS = {"analyze": run}
