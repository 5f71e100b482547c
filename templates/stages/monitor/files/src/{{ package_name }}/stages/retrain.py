"""`retrain`: a challenger on fresh labels, judged by the whole readiness gate, promoted on a pass.

1. The retraining set (retraining.py): the train split plus the labelled recent window (the
   prediction log joined with the feedback file), by `retrain.policy`
   -> data/processed/retrain.parquet. Fewer than `retrain.min_labels` fresh labels: exit 2.
2. `train --train-file data/processed/retrain.parquet`: the challenger, registered as a new version.
3. `evaluate`: every readiness check on the same test split, R7 against the champion included.
4. A pass: the challenger is promoted (recorded with the reason). A fail: exit 1, and the champion
   keeps serving. `--no-promote` stops after the gate; `make promote` can follow by hand.
"""

from __future__ import annotations

import argparse
import logging

from ..config import Config
from ..errors import MissingInputError

ORDER = 60
PIPELINE_STEP = None
log = logging.getLogger(__name__)


def run(config: Config, argv: list[str]) -> int:
    """Train a challenger on the original plus the labelled recent data; promote it if the gate passes."""
    parser = argparse.ArgumentParser(prog="retrain", description=run.__doc__)
    parser.add_argument(
        "--no-promote", action="store_true", help="run the gate but leave the champion as it is"
    )
    args = parser.parse_args(argv)
    try:
        from . import baseline, evaluate
    except ImportError as err:  # the evaluate stage was not generated: there is no gate to pass
        raise MissingInputError(
            "retrain needs the baseline and evaluate stages (`mlscaffold add evaluate`)"
        ) from err
    from ..artifacts import load_split
    from ..registry import open_registry
    from ..retraining import build_retraining_set

    built = build_retraining_set(config, load_split(config, "train"))
    path = config.processed_dir / "retrain.parquet"
    built.frame.to_parquet(path, index=False)
    log.info(
        "retraining set (%s): %d original + %d fresh labelled rows -> %d rows in %s",
        built.policy,
        built.original_rows,
        built.fresh_rows,
        built.kept_rows,
        path,
    )
    code = baseline.run(config, ["--train-file", str(path)])
    if code != 0:
        return code
    gate = evaluate.run(config, [])
    registry = open_registry(config)
    challenger = registry.latest()
    champion = registry.champion()
    serving = f"version {champion.number}" if champion else "the latest model"
    if gate != 0 or challenger is None:
        log.info("the challenger failed the gate: %s keeps serving", serving)
        return gate or 1
    if args.no_promote:
        log.info("version %d passed the gate; not promoted (--no-promote)", challenger.number)
        return 0
    reason = (
        f"retrain: gate passed on {built.fresh_rows} fresh labels ({built.policy}, "
        f"{built.kept_rows} rows)"
    )
    registry.promote(challenger.number, reason)
    log.info(
        "promoted version %d (was %s); restart the service to serve it", challenger.number, serving
    )
    return 0


COMMANDS = {"retrain": run}
