"""Glob patterns over repo-relative POSIX paths, with .gitignore's meaning (pathspec).

`*` and `?` stay inside one path segment, `**` spans segments, `[abc]` is a class. A pattern with
no `/` matches a file name at any depth (`*.ipynb`); one with a `/` is anchored at the repo root
(`src/**/*.ipynb`). A pattern naming a folder (`data/raw/`) matches everything inside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from pathspec.patterns.gitignore import GitIgnorePatternError
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from mlscaffold.errors import UserError


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """One gitignore-style glob as a regular expression over repo-relative paths."""
    text = pattern.strip().removeprefix("./")
    try:
        regex, include = GitIgnoreSpecPattern.pattern_to_regex(text)
    except GitIgnorePatternError as err:
        raise UserError(f"{pattern!r} is not a valid glob: {err}") from None
    if regex is None or include is False:
        raise UserError(f"{pattern!r} is not a glob that names files (comments and negations are not)")
    return re.compile(regex)


def matches(path: str, pattern: str) -> bool:
    return compile_glob(pattern).match(path) is not None


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    return any(compile_glob(p).match(path) is not None for p in patterns)
