"""The shapes of mlscaffold's own files, declared as JSON Schema and checked with `jsonschema` (P14).

Each format has a JSON Schema (draft 2020-12) in `mlscaffold/schemas/`: `template` (template.yaml),
`manifest` (a base's or a stage's manifest.yaml), `question` (one wizard question), `policy` (a
conventions policy), `record` (.mlscaffold.yaml) and `config` (the user's config.yaml). `validate` turns
the best error `jsonschema` finds into one message naming the file and the dotted key path
(`questions[2].validation.min`), with a "did you mean" for an unknown key or value.

A schema may say how a message words a valid value with `x-expected` ("a positive number"); without it
the message is built from the keyword (`type`, `enum`, ...). Checks a schema cannot say (a default that is
one of the choices, stages that need each other, Jinja or regex syntax) stay with the code reading the file.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from mlscaffold.errors import UserError, did_you_mean

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}


@functools.cache
def load_schema(name: str) -> Any:
    """A schema document of `mlscaffold/schemas/` by file name (`policy.schema.json`)."""
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


@functools.cache
def validator(ref: str) -> Validator:
    """The validator for `ref`, a schema file or a place in one (`question.schema.json#/$defs/list`),
    built once per process. `jsonschema` is imported here only: `mlscaffold --help` never loads it."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    def retrieve(uri: str) -> Resource[Any]:
        return Resource.from_contents(load_schema(uri))

    registry: Registry[Any] = Registry(retrieve=retrieve)  # type: ignore[call-arg]
    return Draft202012Validator({"$ref": ref}, registry=registry)


def validate(
    data: Any,
    ref: str,
    where: str,
    *,
    error: type[UserError] = UserError,
    what: str = "key",
    at: Sequence[str | int] = (),
) -> None:
    """Raise `error` with one line naming `where`, the key path and what is wrong when `data` does not
    match the schema `ref`. `at` is where `data` sits in its file (`("questions",)`); `what` names a key
    in the unknown-key message ("policy key")."""
    seen = _fingerprint(ref, data)
    if seen is not None and seen.exists():
        return
    from jsonschema.exceptions import best_match

    found = best_match(validator(ref).iter_errors(data))
    if found is not None:
        raise error(f"{where}: {describe(found, what, tuple(at))}")
    if seen is not None:
        _remember(seen)


# Validated content, remembered in the user's cache folder (beside Jinja's compiled templates): a file
# that passed once is not checked again while it and the schemas stay the same, so a `new` or an `update`
# with an unchanged template never imports `jsonschema` (~45 ms). Only passes are kept (a failure is
# checked every time, so its message is always today's); a marker is an empty file named by the hash of
# the schemas' text, the ref and the data's `repr` (type-exact: 1, '1' and True differ). A changed schema
# (a new mlscaffold) changes every key; a new `jsonschema` does not, as the schemas say what passes.
_KEEP = 512


def _cache_folder() -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlscaffold" / "valid"


@functools.cache
def _schemas_digest() -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(SCHEMAS.glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _fingerprint(ref: str, data: Any) -> Path | None:
    """Where the marker for (`ref`, `data`) lives; None when the data cannot be keyed (too deep)."""
    import hashlib

    try:
        text = repr(data)
    except (RecursionError, ValueError):  # ValueError: an int past repr's digit limit
        return None
    key = hashlib.sha256(f"{_schemas_digest()}\0{ref}\0{text}".encode("utf-8", "surrogatepass"))
    return _cache_folder() / key.hexdigest()


def _remember(marker: Path) -> None:
    """Leave the marker; past `_KEEP` markers the older half goes. A cache that cannot be written is
    no cache: validation then simply runs every time."""
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        markers = list(marker.parent.iterdir())
        if len(markers) > _KEEP:
            for old in sorted(markers, key=lambda p: p.stat().st_mtime_ns)[: len(markers) // 2]:
                old.unlink(missing_ok=True)
    except OSError:
        pass


def describe(err: ValidationError, what: str = "key", at: tuple[str | int, ...] = ()) -> str:
    """One `jsonschema` error in the words of mlscaffold's messages, without the file name."""
    path = (*at, *err.absolute_path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    keyword, rule, instance = str(err.validator), cast(Any, err.validator_value), cast(Any, err.instance)
    if keyword == "additionalProperties" and rule is False:
        return _unknown_key(instance, schema, path, what)
    if keyword == "required":
        missing = next(k for k in rule if k not in instance)
        return f"'{_dotted((*path, missing))}' is missing"
    if "propertyNames" in err.absolute_schema_path:
        return f"'{_dotted(path)}': key '{_key_name(instance)}' is not a name (quote it, or remove it)"
    where = f"'{_dotted(path)}' must be" if path else "expected"
    got = f", got {_shown(instance)}"
    expected = schema.get("x-expected")
    if keyword == "enum":
        values = [_key_name(v) for v in rule]
        hint = did_you_mean(instance, values) if isinstance(instance, str) else ""
        return f"{where} {expected or 'one of ' + ', '.join(values)}{got}{hint}"
    if expected:
        return f"{where} {expected}{got}"
    if keyword == "type":
        types = rule if isinstance(rule, list) else [rule]
        return f"{where} {' or '.join(_WORDS[t] for t in types if t != 'null')}{got}"
    if keyword in ("minLength", "minItems") and rule == 1:
        return f"{where} not empty"
    if keyword in ("minimum", "exclusiveMinimum"):
        return f"{where} {'at least' if keyword == 'minimum' else 'above'} {rule}{got}"
    return f"'{_dotted(path)}': {err.message}" if path else err.message


def _unknown_key(instance: Any, schema: dict[str, Any], path: tuple[str | int, ...], what: str) -> str:
    known = sorted(schema.get("properties", {}))
    key = next(k for k in instance if k not in known)
    prefix = _dotted(path) + "." if path else ""
    if not isinstance(key, str):
        return (
            f"{what} '{prefix}{_key_name(key)}' is not a name (quote it, or remove it); "
            f"known: {', '.join(known)}"
        )
    hint = did_you_mean(key, known).replace("'", f"'{prefix}", 1)
    return f"unknown {what} '{prefix}{key}'{hint}"


def _dotted(path: Sequence[Any]) -> str:
    """('questions', 2, 'validation', 'min') -> 'questions[2].validation.min'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{_key_name(part)}" if text else _key_name(part)
    return text


def _key_name(key: Any) -> str:
    """How a key was written in YAML: `null:` and `~:` read as None, `true:` as True, `1:` as 1."""
    if key is None:
        return "null"
    return str(key).lower() if isinstance(key, bool) else str(key)


def _shown(value: Any) -> str:
    """A value, briefly, as YAML would write it."""
    if value is None or isinstance(value, bool):
        return _key_name(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
