"""Glob patterns over repo-relative POSIX paths, with gitignore-like meaning.

`*` and `?` stay inside one path segment, `**` spans segments, `[abc]` is a class. A pattern with
no `/` matches a file name at any depth (`*.ipynb`); one with a `/` is anchored at the repo root
(`src/**/*.ipynb`). A pattern naming a folder (`data/raw/`) matches everything inside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """Turn one glob into an anchored regular expression."""
    pat = pattern.strip().removeprefix("./")
    folder = pat.endswith("/")
    anchored = "/" in pat.rstrip("/")
    pat = pat.strip("/")
    body = _translate(pat)
    if not anchored:
        body = r"(?:.*/)?" + body
    tail = r"/.*" if folder else r"(?:/.*)?"
    return re.compile(body + tail + r"\Z", re.DOTALL)


def _translate(pat: str) -> str:
    out: list[str] = []
    i, n = 0, len(pat)
    while i < n:
        ch = pat[i]
        at_segment_start = i == 0 or pat[i - 1] == "/"
        if at_segment_start and pat.startswith("**/", i):
            out.append(r"(?:.*/)?")
            i += 3
        elif at_segment_start and pat.startswith("**", i) and i + 2 == n:
            out.append(r".*")
            i += 2
        elif ch == "*":  # other runs of stars are one star, as in .gitignore
            while i < n and pat[i] == "*":
                i += 1
            out.append(r"[^/]*")
        elif ch == "?":
            out.append(r"[^/]")
            i += 1
        elif ch == "[" and (end := pat.find("]", i + 2)) != -1:
            inner = pat[i + 1 : end].replace("\\", "\\\\")
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            out.append(f"[{inner}]")
            i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)


def matches(path: str, pattern: str) -> bool:
    return compile_glob(pattern).match(path) is not None


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    return any(compile_glob(p).match(path) is not None for p in patterns)


def select(paths: Iterable[str], pattern: str) -> list[str]:
    """The paths a pattern matches, in their given order."""
    rx = compile_glob(pattern)
    return [p for p in paths if rx.match(p) is not None]
