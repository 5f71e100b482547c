"""Monitor stage: judge a window of served predictions against the training-time reference.

Commands:
  monitor       checks on the prediction log (logs/predictions.jsonl) or `--input FILE` (CSV/Parquet
                with the same columns) -> reports/monitoring/<name>.json, .md and .png.
                `--since 24h` / `--since 2024-05-01` and `--last N` choose the window; `--score`
                scores a window of raw inputs with the saved model first.
                Exit 0 ok or warn, 1 alert, 2 could not compute (no reference, no log, empty window,
                fewer than monitor.min_rows rows). `--fail-on warn` makes warnings exit 1 too.
                `--shift-demo` first builds a shifted copy of the window (the most important
                numeric feature moved by 2 std, or an unseen vocabulary for text), re-scores it
                with the model, and judges that: what an alert looks like.
  monitor-demo  the pipeline step: the logged window (calm on the sample data) and then its shifted
                copy (must alert). Exit 0 when the shifted copy alerts, 1 when it does not (the
                monitor is blind), 2 when a window cannot be judged. An alert on the logged window
                itself is reported loudly but does not stop `make all`: in your own data it is news
                about the held-out window, not a broken pipeline. Without a prediction log (no
                deploy stage), the serving split scored by the model stands in for it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..config import Config

ORDER = 50
PIPELINE_STEP = "monitor-demo"

log = logging.getLogger(__name__)
PROG = f"python -m {__package__.rsplit('.', 1)[0]}"

EXIT = {"ok": 0, "warn": 0, "alert": 1, "error": 2}


@dataclass(frozen=True)
class WindowSpec:
    """Which rows to judge, and under what report name."""

    name: str = "latest"
    input: Path | None = None  # None: the prediction log
    since: str | None = None
    last: int | None = None
    score: bool = False  # the window has raw inputs only: score them first
    shift: bool = False  # the demo: shift the inputs and re-score


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"{PROG} monitor", description=monitor.__doc__)
    parser.add_argument(
        "--input", type=Path, help="CSV/Parquet window instead of the prediction log"
    )
    parser.add_argument("--name", help="report name under reports/monitoring/ (default: latest)")
    parser.add_argument(
        "--since", help="only rows logged since an ISO time or a duration back (24h, 7d)"
    )
    parser.add_argument(
        "--last", type=_positive_int, metavar="N", help="only the last N rows of the window"
    )
    parser.add_argument(
        "--score", action="store_true", help="score the window's raw inputs with the saved model"
    )
    parser.add_argument(
        "--fail-on",
        choices=("warn", "alert"),
        default="alert",
        help="lowest status that exits 1 (default: alert)",
    )
    parser.add_argument(
        "--shift-demo",
        action="store_true",
        help="judge a shifted copy of the window (demo of an alert)",
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number of rows, got {text!r}")
    return value


def monitor(cfg: Config, argv: list[str]) -> int:
    """Check a window of predictions for data quality, drift and performance."""
    args = _parser().parse_args(argv)
    spec = WindowSpec(
        name=args.name or ("shifted" if args.shift_demo else "latest"),
        input=args.input,
        since=args.since,
        last=args.last,
        score=args.score,
        shift=args.shift_demo,
    )
    status = judge(cfg, spec)
    _write_page(cfg)
    if args.fail_on == "warn" and status == "warn":
        return 1
    return EXIT[status]


def monitor_demo(cfg: Config, argv: list[str]) -> int:
    """Monitor the logged window (calm), then a shifted copy of it (expected to alert)."""
    argparse.ArgumentParser(
        prog=f"{PROG} monitor-demo", description=monitor_demo.__doc__
    ).parse_args(argv)
    from ..artifacts import split_path
    from ..logstore import has_log

    calm_spec = WindowSpec()
    if not has_log(cfg.logs_dir):
        log.info("no prediction log: judging the serving split, scored by the saved model")
        calm_spec = WindowSpec(input=split_path(cfg, "serving"), score=True)
    calm = judge(cfg, calm_spec)
    _write_page(cfg)
    if calm == "error":
        return EXIT[calm]
    if calm == "alert":  # real drift in the held-out window is news, not a broken pipeline
        log.warning(
            "the serving window itself alerts: read reports/monitoring/latest.md before trusting "
            "the model (`monitor` exits 1 on it; the demo goes on)"
        )
    shifted = judge(cfg, replace(calm_spec, name="shifted", shift=True))
    if shifted != "alert":
        log.error(
            "the shifted window did not alert (status %s): the monitor missed a real shift", shifted
        )
        return 1
    log.info("demo: the logged window is '%s' and the shifted one alerts, as expected", calm)
    return 0


COMMANDS = {"monitor": monitor, "monitor-demo": monitor_demo}


def _write_page(cfg: Config) -> None:
    """reports/report.html: the evaluation and the latest window in one self-contained page."""
    from ..html_report import write_html_report

    log.info("report for people, figures included: %s", write_html_report(cfg))


def judge(cfg: Config, spec: WindowSpec) -> str:
    """Run the checks on one window, write its reports, and return its status."""
    from ..errors import PipelineError
    from ..monitor_report import write_markdown, write_plot, write_result
    from ..monitoring import WindowError, run_checks

    folder = cfg.reports_dir / "monitoring"
    source = str(spec.input or cfg.logs_dir / "predictions")
    try:
        reference, meta = _load_reference(cfg)
        model = _load_model_if_present(cfg)
        window, note, rows = _load_window(cfg, spec, reference, meta, model)
        result = run_checks(
            cfg,
            reference,
            window,
            meta,
            name=spec.name,
            source=source,
            model=model,
            window_rows=rows,
        )
    except (WindowError, PipelineError) as err:
        return _could_not_compute(folder, spec.name, str(err), source)
    except Exception as err:  # a failure is never an alert: status error, exit 2
        log.debug("monitoring failed", exc_info=err)
        message = f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"
        return _could_not_compute(folder, spec.name, message, source)
    write_result(result, folder, spec.name)
    plot = write_plot(
        result, reference, window, folder, spec.name, cfg.monitor.psi_warn, cfg.monitor.psi_alert
    )
    write_markdown(result, folder, spec.name, plot, note)
    flagged = [
        f"{c.id}:{c.feature}" if c.feature else c.id for c in result.checks if c.status == "alert"
    ]
    log.info(
        "monitoring %s: %s (%d rows)%s -> %s",
        spec.name,
        result.status.upper(),
        len(window),
        f"; alerts: {', '.join(flagged[:8])}" if flagged else "",
        folder / f"{spec.name}.md",
    )
    return result.status


def _could_not_compute(folder: Path, name: str, message: str, source: str) -> str:
    """Write the status-error report and say why on stderr, as one `error:` line."""
    from ..monitor_report import write_error

    write_error(folder, name, message, source)
    print(f"error: monitoring could not compute: {message}", file=sys.stderr)
    return "error"


def _serving_files(cfg: Config) -> Any:
    """The model that serves (the champion, else the latest; registry.py), or None without one."""
    from ..errors import CorruptInputError, MissingInputError
    from ..registry import serving_model

    try:
        return serving_model(cfg)
    except CorruptInputError:
        raise  # there, but unreadable: the report names the file
    except MissingInputError:
        return None


def _load_model_if_present(cfg: Config) -> Any:
    """The serving model (skew check, --score, the demo), or None when there is none."""
    from ..artifacts import load_estimator

    serving = _serving_files(cfg)
    return load_estimator(serving.model_file) if serving is not None else None


def _load_reference(cfg: Config) -> tuple[Any, dict[str, Any]]:
    from ..artifacts import read_json
    from ..reference import load_reference

    serving = _serving_files(cfg)
    reference = load_reference(cfg, serving.reference if serving else None)
    meta = read_json(serving.meta_file, hint="run `make train` again") if serving else {}
    meta.setdefault("task_type", reference.profile["task_type"])
    meta.setdefault("classes", reference.profile.get("classes"))
    meta.setdefault("positive_class", reference.profile.get("positive_class"))
    meta.setdefault("model_version", reference.profile.get("model_version"))
    meta.setdefault("trained_at", reference.profile.get("trained_at"))
    return reference, meta


def _load_window(
    cfg: Config, spec: WindowSpec, reference: Any, meta: dict[str, Any], model: Any
) -> tuple[Any, str, int]:
    """(the window or a uniform sample of it, a note for the report, rows in the window)."""
    from ..monitoring import WindowError, read_log_window, read_window_file, select_window

    if spec.input is not None:
        window = select_window(read_window_file(spec.input), spec.since, spec.last)
        rows = len(window)
    else:
        window, rows = read_log_window(cfg, spec.since, spec.last)
        from ..feedback import feedback_path, join_labels, read_feedback

        fed_back = read_feedback(feedback_path(cfg))
        window = join_labels(window, fed_back)
        if not fed_back.empty:
            log.info("joined %d fed-back labels to the prediction log by id", len(fed_back))
    if not (spec.score or spec.shift or window.empty or "prediction" in window.columns):
        raise WindowError(
            f"{spec.input or 'the window'}: no prediction column; pass --score to score its raw "
            "inputs with the saved model"
        )
    note = ""
    if spec.score or spec.shift:
        if model is None:
            raise WindowError("no saved model to score the window with; run `make train`")
        if spec.shift:
            window, what = _shift(window, reference, meta)
            note = f"Demo window: a copy of the window with {what}, re-scored by the model."
        window = _score(window, model, meta)
        note = note or "The window's raw inputs were scored here by the saved model."
    if spec.shift:
        out = cfg.logs_dir / "demo" / "shifted_window.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        window.to_parquet(out, index=False)
        shown = out.relative_to(cfg.root) if out.is_relative_to(cfg.root) else out
        note += f" Saved as {shown}."
    if rows > len(window):
        note = (
            f"{note} Judged on a uniform random sample of {len(window):,} of the window's "
            f"{rows:,} rows (monitor.sample_rows)."
        ).strip()
    return window, note, rows


def _shift(window: Any, reference: Any, meta: dict[str, Any]) -> tuple[Any, str]:
    from ..monitoring import WindowError, shift_inputs

    if window.empty:
        raise WindowError("the window is empty; nothing to shift")
    return shift_inputs(window, reference, meta)


def _score(window: Any, model: Any, meta: dict[str, Any]) -> Any:
    """The window with its prediction columns (re)computed by the saved model."""
    import pandas as pd

    from ..predict import predict_frame

    if window.empty:
        return window
    outputs = predict_frame(model, meta, window)
    kept = window.drop(columns=[c for c in outputs.columns if c in window.columns])
    return pd.concat([kept, outputs], axis=1)
