"""Reading the raw data from the source config.yaml names: the shipped sample, CSV, Parquet or SQL."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from .config import Config
from .errors import DataError

SOURCE_ROW = "source_row"


def describe_source(config: Config) -> str:
    data = config.data
    if data.source == "sample":
        return f"data/sample/{data.sample}"
    if data.source == "sql":
        return (
            f"{_redact(data.path or '')} ({(data.query or '').strip()[:60]})"  # ${VARS} unexpanded
        )
    return str(data.path)


def load_raw(config: Config) -> pd.DataFrame:
    """The whole labelled data set as one frame, with the time column parsed when there is one."""
    loaders = {"sample": _sample, "csv": _csv, "parquet": _parquet, "sql": _sql}
    frame = loaders[config.data.source](config)
    if frame.empty:
        raise DataError(f"{describe_source(config)}: no rows")
    frame.columns = [str(c) for c in frame.columns]
    # every row keeps its position in the source (0 = the first data row) through the splits, so
    # a row named in a report can be found in the file
    frame.index = pd.RangeIndex(len(frame), name=SOURCE_ROW)
    return parse_time(config, frame)


def parse_time(config: Config, frame: pd.DataFrame, first_row: int | None = None) -> pd.DataFrame:
    """The time column parsed as dates/times (in place), when the split names one; `first_row` says
    where a chunk starts, for the error."""
    time_column = config.split.time_column
    if time_column and time_column in frame.columns:
        try:
            frame[time_column] = pd.to_datetime(frame[time_column])
        except (ValueError, TypeError) as err:
            near = "" if first_row is None else f" near row {first_row}"
            raise DataError(
                f"column '{time_column}': not readable as dates/times{near}: {err}"
            ) from err
    return frame


ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def expand_env(value: str, key: str = "data.path") -> str:
    """Replace ${NAME} / $NAME with the environment variable, so secrets stay out of config.yaml:
    `postgresql://etl:${DB_PASSWORD}@db/warehouse`. An unset variable is an error naming it."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in os.environ:
            raise DataError(f"{key}: environment variable {name} is not set")
        return os.environ[name]

    return ENV_REFERENCE.sub(replace, value)


def _location(config: Config, value: str) -> str:
    value = expand_env(value)
    return value if "://" in value else str(config.path(value))


def sample_path(config: Config) -> Path:
    """The shipped sample file config.yaml names (data.sample); a DataError when it is not there."""
    path = config.path("data/sample") / str(config.data.sample)
    if not path.is_file():
        raise DataError(f"{path}: sample file not found (config.yaml: data.sample)")
    return path


def _sample(config: Config) -> pd.DataFrame:
    return pd.read_csv(sample_path(config))


def _csv(config: Config) -> pd.DataFrame:
    where = _location(config, str(config.data.path))
    try:
        return pd.read_csv(where)
    except FileNotFoundError as err:
        raise DataError(f"{where}: file not found (config.yaml: data.path)") from err
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"{where}: not a readable CSV file: {err}") from err


def _parquet(config: Config) -> pd.DataFrame:
    where = _location(config, str(config.data.path))
    try:
        return pd.read_parquet(where)
    except FileNotFoundError as err:
        raise DataError(f"{where}: file not found (config.yaml: data.path)") from err
    except (OSError, ValueError) as err:
        raise DataError(f"{where}: not a readable Parquet file: {err}") from err


def _sql(config: Config) -> pd.DataFrame:
    import sqlalchemy

    shown = str(config.data.path)  # as written, with ${VARS}: never the expanded secret
    url = _sqlite_relative_to_root(config, expand_env(shown))
    try:
        engine = sqlalchemy.create_engine(url)
    except (sqlalchemy.exc.ArgumentError, ImportError) as err:
        raise DataError(
            f"data.path: not a usable SQLAlchemy URL ({_redact(shown)}): {err}"
        ) from err
    try:
        with engine.connect() as connection:
            return pd.read_sql(sqlalchemy.text(str(config.data.query)), connection)
    except sqlalchemy.exc.SQLAlchemyError as err:
        first = str(err).splitlines()[0]
        raise DataError(
            f"data.query on {_redact(shown)} failed: {_scrub(first, url, shown)}"
        ) from err
    finally:
        engine.dispose()


def _sqlite_relative_to_root(config: Config, url: str) -> str:
    """`sqlite:///data/x.db` means data/x.db in the project, wherever the command runs from."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix:
        return prefix + str(config.path(url[len(prefix) :]))
    return url


def _scrub(message: str, url: str, shown: str) -> str:
    """A driver's message may quote the URL or the password it was given: hide both."""
    message = message.replace(url, _redact(shown))
    if "://" in url and "@" in url:
        credentials = url.split("://", 1)[1].rsplit("@", 1)[0]
        password = credentials.split(":", 1)[1] if ":" in credentials else ""
        if password:
            message = message.replace(password, "***")
    return message


def _redact(url: str) -> str:
    """Hide a password in a database URL before it reaches a message or a log."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
