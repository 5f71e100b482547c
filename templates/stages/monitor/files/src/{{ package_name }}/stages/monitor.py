"""Monitor stage: judge a window of served predictions against the training-time reference.

Commands:
  monitor       checks on the prediction log (logs/predictions.jsonl) or `--input FILE` (CSV/Parquet
                with the same columns) -> reports/monitoring/<name>.json, .md and .png.
                `--since 24h` / `--since 2024-05-01` and `--last N` choose the window.
                Exit 0 ok or warn, 1 alert, 2 could not compute (no reference, no log, empty window,
                fewer than monitor.min_rows rows). `--fail-on warn` makes warnings exit 1 too.
                `--shift-demo` first builds a shifted copy of the window (the most important
                numeric feature moved by 2 std, or an unseen vocabulary for text), re-scores it
                with the model, and judges that: what an alert looks like.
  monitor-demo  the pipeline step: the logged window (calm: must be ok or warn) and then its shifted
                copy (must alert); exit 0 when both behave so.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ..config import Config

ORDER = 50
PIPELINE_STEP = "monitor-demo"

log = logging.getLogger(__name__)

EXIT = {"ok": 0, "warn": 0, "alert": 1, "error": 2}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description=monitor.__doc__)
    parser.add_argument(
        "--input", type=Path, help="CSV/Parquet window instead of the prediction log"
    )
    parser.add_argument("--name", help="report name under reports/monitoring/ (default: latest)")
    parser.add_argument(
        "--since", help="only rows logged since an ISO time or a duration back (24h, 7d)"
    )
    parser.add_argument("--last", type=int, help="only the last N rows of the window")
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


def monitor(cfg: Config, argv: list[str]) -> int:
    """Check a window of predictions for data quality, drift and performance."""
    args = _parser().parse_args(argv)
    name = args.name or ("shifted" if args.shift_demo else "latest")
    status = judge(cfg, args.input, name, shift=args.shift_demo, since=args.since, last=args.last)
    if args.fail_on == "warn" and status == "warn":
        return 1
    return EXIT[status]


def monitor_demo(cfg: Config, argv: list[str]) -> int:
    """Monitor the logged window (calm), then a shifted copy of it (expected to alert)."""
    argparse.ArgumentParser(prog="monitor-demo", description=monitor_demo.__doc__).parse_args(argv)
    calm = judge(cfg, None, "latest", shift=False)
    if calm not in ("ok", "warn"):
        log.error("the logged window is '%s', not calm: see reports/monitoring/latest.md", calm)
        return EXIT[calm]
    shifted = judge(cfg, None, "shifted", shift=True)
    if shifted != "alert":
        log.error(
            "the shifted window did not alert (status %s): the monitor missed a real shift", shifted
        )
        return 1
    log.info("demo: the calm window is '%s' and the shifted one alerts, as expected", calm)
    return 0


COMMANDS = {"monitor": monitor, "monitor-demo": monitor_demo}


def judge(
    cfg: Config,
    input_path: Path | None,
    name: str,
    shift: bool,
    since: str | None = None,
    last: int | None = None,
) -> str:
    """Run the checks on one window, write its reports, and return its status."""
    from ..errors import MissingInputError
    from ..monitor_report import write_error, write_markdown, write_plot, write_result
    from ..monitoring import WindowError, run_checks

    folder = cfg.reports_dir / "monitoring"
    source = str(input_path) if input_path else str(cfg.logs_dir / "predictions.jsonl")
    try:
        reference, meta = _load_reference(cfg)
        window, note = _load_window(cfg, input_path, reference, meta, shift, since, last)
        model = _load_model_if_present(cfg)
        result = run_checks(cfg, reference, window, meta, name=name, source=source, model=model)
    except (WindowError, MissingInputError) as err:
        write_error(folder, name, str(err), source)
        log.error("monitoring could not compute: %s", err)
        return "error"
    write_result(result, folder, name)
    plot = write_plot(
        result, reference, window, folder, name, cfg.monitor.psi_warn, cfg.monitor.psi_alert
    )
    write_markdown(result, folder, name, plot, note)
    flagged = [
        f"{c.id}:{c.feature}" if c.feature else c.id for c in result.checks if c.status == "alert"
    ]
    log.info(
        "monitoring %s: %s (%d rows)%s -> %s",
        name,
        result.status.upper(),
        len(window),
        f"; alerts: {', '.join(flagged[:8])}" if flagged else "",
        folder / f"{name}.md",
    )
    return result.status


def _load_model_if_present(cfg: Config) -> Any:
    """The saved model for the skew check, or None (the check is then skipped)."""
    from ..artifacts import load_model, model_path

    return load_model(cfg) if model_path(cfg).is_file() else None


def _load_reference(cfg: Config) -> tuple[Any, dict[str, Any]]:
    from ..artifacts import meta_path, read_json
    from ..reference import load_reference

    reference = load_reference(cfg)
    path = meta_path(cfg)
    meta = read_json(path) if path.is_file() else {}
    meta.setdefault("task_type", reference.profile["task_type"])
    meta.setdefault("classes", reference.profile.get("classes"))
    meta.setdefault("positive_class", reference.profile.get("positive_class"))
    meta.setdefault("model_version", reference.profile.get("model_version"))
    meta.setdefault("trained_at", reference.profile.get("trained_at"))
    return reference, meta


def _load_window(
    cfg: Config,
    input_path: Path | None,
    reference: Any,
    meta: dict[str, Any],
    shift: bool,
    since: str | None,
    last: int | None,
) -> tuple[Any, str]:
    from ..monitoring import read_prediction_log, read_window_file, select_window

    if input_path is not None:
        window = read_window_file(input_path)
    else:
        window, bad = read_prediction_log(cfg.logs_dir / "predictions.jsonl")
        if bad:
            log.warning("skipped %d unreadable lines in the prediction log", bad)
    window = select_window(window, since, last)
    if not shift:
        return window, ""
    return _shifted(cfg, window, reference, meta)


def _shifted(cfg: Config, window: Any, reference: Any, meta: dict[str, Any]) -> tuple[Any, str]:
    """The demo window: inputs shifted, then re-scored by the model so predictions follow."""
    import pandas as pd

    from ..artifacts import load_model
    from ..monitoring import WindowError, shift_inputs
    from ..predict import predict_frame

    if window.empty:
        raise WindowError("the window is empty; nothing to shift")
    shifted, what = shift_inputs(window, reference, meta)
    outputs = predict_frame(load_model(cfg), meta, shifted)
    shifted = pd.concat(
        [shifted.drop(columns=[c for c in outputs.columns if c in shifted.columns]), outputs],
        axis=1,
    )
    out = cfg.logs_dir / "demo" / "shifted_window.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    shifted.to_parquet(out, index=False)
    note = (
        f"Demo window: a copy of the logged window with {what}, re-scored by the model "
        f"(saved as {out.relative_to(cfg.root) if out.is_relative_to(cfg.root) else out})."
    )
    return shifted, note
