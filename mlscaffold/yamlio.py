"""Safe, bounded reading of YAML, JSON and TOML files (promise P11), and stable YAML writing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlscaffold.errors import UserError

MAX_BYTES = 1_000_000
MAX_ALIASES = 100
MAX_NODES = 200_000
MAX_DEPTH = 100


def _loader() -> Any:
    """libyaml's C SafeLoader when PyYAML was built with it (several times faster), else the pure one;
    both construct only plain data (no Python tags)."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_yaml_shape(text: str, where: str) -> None:
    """Refuse alias bombs and huge documents before building any Python objects."""
    import yaml

    aliases = nodes = depth = 0
    try:
        for event in yaml.parse(text, Loader=_loader()):
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


def _unique_key_loader(where: str) -> type[Any]:
    """A SafeLoader that refuses a key given twice in one mapping, naming it and both lines: YAML
    1.2 forbids it, and PyYAML would silently keep the last value (an answer or rule nobody sees)."""
    import yaml

    class UniqueKeyLoader(_loader()):  # type: ignore[misc]
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: dict[Any, int] = {}
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: PyYAML reports it below
                    continue
                if first is not None:
                    raise UserError(f"{where}: key {key!r} appears twice (lines {first} and {line})")
                seen[key] = line
            mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            return mapping

    return UniqueKeyLoader


def loads_yaml(text: str, where: str) -> Any:
    """Parse YAML text safely: size, alias and node limits, no Python tags, no duplicate keys."""
    import yaml

    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise UserError(f"{where}: larger than {MAX_BYTES} bytes; refusing to load")
    _check_yaml_shape(text, where)
    try:
        return yaml.load(text, Loader=_unique_key_loader(where))  # a SafeLoader (see _loader)
    except yaml.YAMLError as err:
        raise UserError(f"{where}: not valid YAML: {_one_line(err)}") from err


def _json_unique(path: Path, text: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """An `object_pairs_hook` that refuses a key given twice in one object, naming both lines."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                _raise_with_lines(path, text)
                raise UserError(f"{path}: key {key!r} appears twice")
            result[key] = value
        return result

    return hook


def _raise_with_lines(path: Path, text: str) -> None:
    """JSON is YAML: the YAML loader finds the duplicate again, with its lines (when it can parse it)."""
    try:
        loads_yaml(text, str(path))
    except UserError as err:
        if "appears twice" in str(err):
            raise
    except Exception:  # only a better message is at stake here
        return


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
            data = json.loads(text, object_pairs_hook=_json_unique(path, text))
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
