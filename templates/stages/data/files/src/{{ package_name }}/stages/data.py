"""The data stage: `data` = ingest -> check the data contract (data/schema.yaml) -> validate (pandera)
-> duplicates (kept and counted, or dropped: data.duplicates) -> split -> data/processed/.

In this process for data that fits; in chunks (chunked.py) above data.chunk_rows rows; as Spark
jobs with engine.name spark (spark_data.py). All three write the same split files."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from ..config import Config

ORDER = 10
PIPELINE_STEP = "data"
log = logging.getLogger(__name__)


def run(config: Config, argv: list[str]) -> int:
    """Ingest, validate and split the data into data/processed/{train,test,serving}.parquet."""
    parser = argparse.ArgumentParser(prog="data", description=run.__doc__)
    parser.add_argument(
        "--update-schema",
        action="store_true",
        help="accept the data's columns and kinds as the new contract (rewrites data/schema.yaml)",
    )
    args = parser.parse_args(argv)

    from ..artifacts import write_json
    from ..contract import (
        CONTRACT_FILE,
        check_contract,
        describe_changes,
        flag_high_cardinality,
        infer_contract,
        load_contract,
        write_contract,
    )
    from ..errors import DataError
    from ..ingest import describe_source, load_raw
    from ..schema import validate
    from ..split import (
        deduplicate,
        duplicate_report,
        fingerprint,
        leakage_problems,
        split_frame,
    )

    source = describe_source(config)
    try:
        contract = load_contract(config)
    except DataError:
        if not args.update_schema:
            raise
        contract = None  # unreadable: --update-schema replaces it

    def check(frame: Any, where: str = source) -> None:
        if contract is not None and not args.update_schema:
            check_contract(config, frame, contract, where)

    def learn(frame: Any) -> None:
        if contract is None or args.update_schema:
            new = infer_contract(config, frame, source)
            changes = describe_changes(contract, new)
            write_contract(config, new)
            if contract is None:
                log.info(
                    "wrote the data contract %s: commit it; later runs check new data against it",
                    CONTRACT_FILE,
                )
            else:
                log.info(
                    "updated the data contract %s: %s",
                    CONTRACT_FILE,
                    ", ".join(changes) or "no change",
                )

    if config.engine.name == "spark" and config.data.source != "sql":
        try:
            from ..spark_data import run_spark
        except ModuleNotFoundError as err:
            raise DataError(
                "engine.name is spark in config.yaml, but this project was generated for the"
                " local engine (no spark_data.py): set engine.name to local, or generate it with"
                " --set engine=spark"
            ) from err
        write_json(config.processed_dir / "summary.json", run_spark(config, check, learn))
        return 0

    from ..chunked import is_large, run_chunked

    if is_large(config):
        log.info(
            "%s has more than data.chunk_rows = %d rows: checked and split in chunks",
            source,
            config.data.chunk_rows,
        )
        write_json(config.processed_dir / "summary.json", run_chunked(config, check, learn))
        return 0
    frame = load_raw(config)
    log.info("read %d rows x %d columns from %s", len(frame), frame.shape[1], source)
    check(frame)
    if contract is not None and not args.update_schema:
        log.info("data contract %s: ok", CONTRACT_FILE)
    flag_high_cardinality(config, frame)
    frame = validate(config, frame, where=source)
    log.info("schema: ok")
    learn(frame)
    raw = frame
    frame = deduplicate(config, frame)
    parts = split_frame(config, frame)
    problems = leakage_problems(config, parts)
    if problems:  # a bug in the split itself, never expected
        raise DataError("split leaks: " + "; ".join(problems))
    out = config.processed_dir
    out.mkdir(parents=True, exist_ok=True)
    duplicates = duplicate_report(config, raw, parts)
    summary: dict[str, object] = {
        "source": source,
        "method": config.split.method,
        "duplicates": duplicates,
        "splits": {},
    }
    if duplicates["rows"] and config.data.duplicates == "keep":
        log.warning(
            "duplicates kept: %s test and %s serving row(s) have an identical row in train",
            duplicates.get("test_rows_in_train"),
            duplicates.get("serving_rows_in_train"),
        )
    for name, part in parts.items():
        # every engine writes a split's rows in source order (the chunked and Spark paths too), so
        # the files, the fingerprints and the models fitted on them are the same whichever wrote them
        part = part.sort_index(kind="stable")
        part.to_parquet(out / f"{name}.parquet", index=True)  # the index: each row's source row
        info: dict[str, object] = {"rows": len(part), "fingerprint": fingerprint(part)}
        if config.is_classification:
            shares = part[config.task.target].astype(str).value_counts(normalize=True)
            info["class_shares"] = {k: round(float(v), 4) for k, v in shares.sort_index().items()}
        summary["splits"][name] = info  # type: ignore[index]
        log.info("%-7s %5d rows -> %s", name, len(part), out / f"{name}.parquet")
    write_json(out / "summary.json", summary)
    return 0


COMMANDS = {"data": run}
