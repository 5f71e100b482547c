"""Enough of PEP 440 version specifiers to ask "does requires-python admit Python 3.11?"."""

from __future__ import annotations

import re

from mlscaffold.errors import UserError

_CLAUSE_RX = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)*)(\.\*)?\s*$")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def _pad(v: tuple[int, ...], n: int) -> tuple[int, ...]:
    return v + (0,) * (n - len(v))


def _clause_admits(op: str, spec: tuple[int, ...], star: bool, v: tuple[int, ...]) -> bool:
    if star:  # ==3.11.* / !=3.11.*
        same = v[: len(spec)] == spec
        return same if op == "==" else not same
    n = max(len(spec), len(v))
    a, b = _pad(v, n), _pad(spec, n)
    if op == "~=":
        return a >= b and v[: len(spec) - 1] == spec[:-1]
    return {
        "==": a == b,
        "===": a == b,
        "!=": a != b,
        "<=": a <= b,
        ">=": a >= b,
        "<": a < b,
        ">": a > b,
    }[op]


def admits(specifier: str, python: str, where: str = "requires-python") -> bool:
    """True when some release of `python` ("3.11" means any 3.11.x) satisfies `specifier`."""
    clauses = []
    for raw in specifier.split(","):
        if not raw.strip():
            continue
        match = _CLAUSE_RX.match(raw)
        if match is None:
            raise UserError(f"{where}: cannot read the version specifier {raw.strip()!r}")
        op, text, star = match.groups()
        clauses.append((op, _version(text), bool(star)))
    base = _version(python)
    candidates = [base] if len(base) > 2 else [(*base, patch) for patch in range(100)]
    return any(all(_clause_admits(op, s, star, v) for op, s, star in clauses) for v in candidates)
