"""The data stage: `data` = ingest -> validate (pandera) -> deduplicate -> split -> data/processed/."""

from __future__ import annotations

import argparse
import logging

from ..config import Config

ORDER = 10
PIPELINE_STEP = "data"
log = logging.getLogger(__name__)


def run(config: Config, argv: list[str]) -> int:
    """Ingest, validate and split the data into data/processed/{train,test,serving}.parquet."""
    parser = argparse.ArgumentParser(prog="data", description=run.__doc__)
    parser.parse_args(argv)

    from ..artifacts import write_json
    from ..errors import DataError
    from ..ingest import describe_source, load_raw
    from ..schema import validate
    from ..split import deduplicate, fingerprint, leakage_problems, split_frame

    source = describe_source(config)
    frame = load_raw(config)
    log.info("read %d rows x %d columns from %s", len(frame), frame.shape[1], source)
    frame = validate(config, frame, where=source)
    log.info("schema: ok")
    frame = deduplicate(config, frame)
    parts = split_frame(config, frame)
    problems = leakage_problems(config, parts)
    if problems:  # a bug in the split itself, never expected
        raise DataError("split leaks: " + "; ".join(problems))
    out = config.processed_dir
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, object] = {"source": source, "method": config.split.method, "splits": {}}
    for name, part in parts.items():
        part.to_parquet(out / f"{name}.parquet", index=False)
        info: dict[str, object] = {"rows": len(part), "fingerprint": fingerprint(part)}
        if config.is_classification:
            shares = part[config.task.target].astype(str).value_counts(normalize=True)
            info["class_shares"] = {k: round(float(v), 4) for k, v in shares.sort_index().items()}
        summary["splits"][name] = info  # type: ignore[index]
        log.info("%-7s %5d rows -> %s", name, len(part), out / f"{name}.parquet")
    write_json(out / "summary.json", summary)
    return 0


COMMANDS = {"data": run}
