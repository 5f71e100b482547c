"""Safe, bounded reading of YAML, JSON and TOML files (promise P11), and stable YAML writing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import UserError

MAX_BYTES = 1_000_000
MAX_ALIASES = 100
MAX_NODES = 200_000
MAX_DEPTH = 100


def _check_yaml_shape(text: str, where: str) -> None:
    """Refuse alias bombs and huge documents before building any Python objects."""
    import yaml

    aliases = nodes = depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            nodes += 1
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise UserError(f"{where}: nested more than {MAX_DEPTH} levels deep; refusing to load")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
            if aliases > MAX_ALIASES:
                raise UserError(f"{where}: more than {MAX_ALIASES} YAML aliases; refusing to load")
            if nodes > MAX_NODES:
                raise UserError(f"{where}: more than {MAX_NODES} YAML nodes; refusing to load")
    except yaml.YAMLError as err:
        raise UserError(f"{where}: not valid YAML: {_one_line(err)}") from err


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def loads_yaml(text: str, where: str) -> Any:
    """Parse YAML text safely: size, alias and node limits, no Python tags."""
    import yaml

    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise UserError(f"{where}: larger than {MAX_BYTES} bytes; refusing to load")
    _check_yaml_shape(text, where)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UserError(f"{where}: not valid YAML: {_one_line(err)}") from err


def read_text(path: Path) -> str:
    """Read a small UTF-8 text file, with errors that name it."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UserError(f"{path}: larger than {MAX_BYTES} bytes; refusing to load")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise UserError(f"{path}: file not found") from err
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text") from err
    except OSError as err:
        raise UserError(f"{path}: cannot read: {err.strerror}") from err


def load_mapping(path: Path) -> dict[str, Any]:
    """Load a YAML, JSON or TOML file (by extension) that must hold a mapping."""
    text = read_text(path)
    suffix = path.suffix.lower()
    data: Any
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise UserError(f"{path}: not valid JSON: {err.msg} (line {err.lineno})") from err
        except RecursionError as err:
            raise UserError(f"{path}: nested too deeply; refusing to load") from err
    elif suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise UserError(f"{path}: not valid TOML: {_one_line(err)}") from err
    else:
        data = loads_yaml(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of keys to values at the top level")
    return data


def dumps_yaml(data: Any) -> str:
    """Dump YAML deterministically (key order kept, block style, unicode kept)."""
    import yaml

    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100))
