"""`versions`, `promote` and `rollback`: the model registry from the command line (registry.py).

    versions                      every registered version, its gate verdict, and the champion
    promote [--version N] --reason TEXT [--force]
                                  make N (default: the latest) the champion; refused when the gate did
                                  not pass it, unless --force (recorded as forced)
    rollback --reason TEXT        the previous champion serves again

Each promote and rollback is recorded with who (MLPIPE_ACTOR, GITHUB_ACTOR or the login name),
when, why and the version's test metrics. The service picks the new champion up on restart.
"""

from __future__ import annotations

import argparse
import json
import logging

from ..config import Config
from ..errors import DataError

ORDER = 35
PIPELINE_STEP = None
log = logging.getLogger(__name__)


def versions(config: Config, argv: list[str]) -> int:
    """List the registered model versions and which one is the champion."""
    parser = argparse.ArgumentParser(prog="versions", description=versions.__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    from ..registry import open_registry

    registry = open_registry(config)
    found = registry.versions()
    champion = registry.champion()
    number = champion.number if champion else None
    if args.json:
        print(
            json.dumps(
                {
                    "champion": number,
                    "versions": [v.as_dict() for v in found],
                    "history": registry.history(),
                },
                indent=2,
            )
        )
        return 0
    if not found:
        print("no model versions yet: run `make train`")
        return 0
    print(f"{'':2}{'version':>7}  {'gate':<10} {'candidate':<18} {'registered':<26} model")
    for version in found:
        gate = version.gate
        verdict = "-" if gate is None else ("ready" if gate.get("ready") else "NOT READY")
        mark = "*" if version.number == number else ""
        print(
            f"{mark:<2}{version.number:>7}  {verdict:<10} {version.candidate or '-':<18} "
            f"{version.registered_at:<26} {version.model_version}"
        )
    print("\n* champion" if number else "\nno champion yet: the latest model serves (`promote`)")
    return 0


def promote(config: Config, argv: list[str]) -> int:
    """Make a model version that passed the readiness gate the champion."""
    parser = argparse.ArgumentParser(prog="promote", description=promote.__doc__)
    parser.add_argument("--version", type=int, help="the version to promote (default: the latest)")
    parser.add_argument("--reason", default="", help="why (recorded in the history)")
    parser.add_argument(
        "--force", action="store_true", help="promote although the gate did not pass it"
    )
    args = parser.parse_args(argv)
    from ..registry import open_registry

    registry = open_registry(config)
    number = args.version
    if number is None:
        latest = registry.latest()
        if latest is None:
            raise DataError("promote: no model versions yet; run `make train` and `make evaluate`")
        number = latest.number
    event = registry.promote(number, args.reason or "promoted by hand", force=args.force)
    _report(event)
    return 0


def rollback(config: Config, argv: list[str]) -> int:
    """Make the previous champion the champion again."""
    parser = argparse.ArgumentParser(prog="rollback", description=rollback.__doc__)
    parser.add_argument("--reason", default="", help="why (recorded in the history)")
    args = parser.parse_args(argv)
    from ..registry import open_registry

    event = open_registry(config).rollback(args.reason or "rolled back by hand")
    _report(event)
    return 0


def _report(event: dict[str, object]) -> None:
    forced = " (FORCED past the gate)" if event.get("forced") else ""
    log.info(
        "%s: version %s is the champion (was %s)%s; by %s at %s: %s",
        event["action"],
        event["version"],
        event["from_version"] if event["from_version"] is not None else "none",
        forced,
        event["by"],
        event["at"],
        event["reason"],
    )
    log.info("restart the service (make serve) to serve it")


COMMANDS = {"versions": versions, "promote": promote, "rollback": rollback}
