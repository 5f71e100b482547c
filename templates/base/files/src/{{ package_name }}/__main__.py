"""Command line: `python -m <package> COMMAND [ARGS]`.

Commands come from the stage modules in `stages/` (each declares ORDER, COMMANDS and PIPELINE_STEP), so a
new stage adds its commands by adding a file. `all` runs every stage's pipeline step in ORDER and stops at
the first one that does not succeed.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import pkgutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from . import stages as stages_pkg
from .config import Config, load_config
from .errors import PipelineError

Command = Callable[[Config, list[str]], int]


class UsageError(PipelineError):
    """An unknown command or option (exit 2)."""

    exit_code = 2


PROG = f"python -m {__package__}"


@dataclass(frozen=True)
class Stage:
    name: str
    order: int
    commands: dict[str, Command]
    pipeline_step: str | None
    module: ModuleType


def discover() -> list[Stage]:
    """Every stage module in stages/, in pipeline order."""
    found = []
    for info in pkgutil.iter_modules(stages_pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{stages_pkg.__name__}.{info.name}")
        commands = getattr(module, "COMMANDS", None)
        if not isinstance(commands, dict):
            continue
        found.append(
            Stage(
                name=info.name,
                order=int(getattr(module, "ORDER", 100)),
                commands=commands,
                pipeline_step=getattr(module, "PIPELINE_STEP", None),
                module=module,
            )
        )
    return sorted(found, key=lambda stage: (stage.order, stage.name))


def run_all(config: Config, stages: list[Stage]) -> int:
    """Run each stage's pipeline step in order; stop at the first non-zero exit code."""
    log = logging.getLogger(__package__)
    started = time.perf_counter()
    for stage in stages:
        step = stage.pipeline_step
        if not step:
            continue
        log.info("==> %s", step)
        step_started = time.perf_counter()
        code = stage.commands[step](config, [])
        log.info("<== %s: exit %d in %.1f s", step, code, time.perf_counter() - step_started)
        if code != 0:
            log.info("stopped: '%s' exited with %d", step, code)
            return code
    log.info("pipeline finished in %.1f s", time.perf_counter() - started)
    return 0


def usage(stages: list[Stage]) -> str:
    lines = [
        f"usage: {PROG} [--config FILE] COMMAND [ARGS...]",
        "",
        "Commands:",
        f"  {'all':<10} run the pipeline: "
        + " -> ".join(s.pipeline_step for s in stages if s.pipeline_step),
    ]
    for stage in stages:
        for name, func in stage.commands.items():
            summary = (func.__doc__ or "").strip().splitlines()
            lines.append(f"  {name:<10} {summary[0] if summary else ''} [{stage.name} stage]")
    lines += [
        "",
        "Options:",
        "  --config FILE  config file (default: ./config.yaml or the nearest parent's)",
        "  -h, --help     show this message; `COMMAND --help` shows a command's own options",
    ]
    return "\n".join(lines)


def _split_global(argv: list[str]) -> tuple[str | None, bool, list[str]]:
    config_path: str | None = None
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag in ("-h", "--help"):
            return config_path, True, rest
        if flag == "--config" and rest:
            config_path = rest.pop(0)
        elif flag.startswith("--config="):
            config_path = flag.split("=", 1)[1]
        else:
            raise UsageError(f"unknown option '{flag}'; see `{PROG} --help`")
    return config_path, False, rest


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        stages = discover()
        config_path, wants_help, rest = _split_global(args)
        if wants_help or not rest:
            print(usage(stages))
            return 0 if wants_help else 2
        command, extra = rest[0], rest[1:]
        commands = {name: func for stage in stages for name, func in stage.commands.items()}
        if command != "all" and command not in commands:
            known = ["all", *commands]
            close = difflib.get_close_matches(command, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise UsageError(f"unknown command '{command}'{hint} (commands: {', '.join(known)})")
        config = load_config(config_path)
        if command == "all":
            return run_all(config, stages)
        return commands[command](config, extra)
    except PipelineError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
